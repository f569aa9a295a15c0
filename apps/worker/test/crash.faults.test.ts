// The fault scenario, small: 1,500 events, the worker SIGKILLed twice, Redis crashed and
// restarted once, Postgres down for 5 s, a target down for 3 s. The full run (10,000 events,
// longer outages) is faults.faults.test.ts; both run under `pnpm test:faults`, which CI runs after
// `pnpm test`. Sizes can be changed with FAULT_* environment variables (see fault-scenario.ts).
import { describe, it } from "vitest";
import { expectFullRecovery, formatReport, planFromEnv, runFaultScenario } from "./fault-scenario";

const plan = planFromEnv({
  events: 1_500,
  duplicateShare: 0.05,
  ratePerSecond: 150,
  workerKills: 2,
  redisRestarts: 1,
  postgresOutageMs: 5_000,
  targetOutageMs: 3_000,
  seed: 0,
  drainTimeoutMs: 90_000,
});

describe("crash and outage recovery (small)", () => {
  it("loses nothing, forwards no provider duplicate, and logs every try", { timeout: 240_000 }, async () => {
    const report = await runFaultScenario(plan, (line) => console.log(line));
    console.log(formatReport(report));
    expectFullRecovery(report, plan);
  });
});
