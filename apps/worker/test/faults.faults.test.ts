// The full fault suite (`pnpm test:faults`): at least 10,000 events through a real gateway and
// worker while the worker is SIGKILLed at random moments, Redis crashes and restarts from its
// append-only file, Postgres is down for 30 s and a target for 15 s. Sizes can be
// changed with FAULT_* environment variables (see fault-scenario.ts).
import { describe, it } from "vitest";
import { expectFullRecovery, formatReport, planFromEnv, runFaultScenario } from "./fault-scenario";

const plan = planFromEnv({
  events: 10_000,
  duplicateShare: 0.05,
  ratePerSecond: 150,
  workerKills: 6,
  redisRestarts: 2,
  postgresOutageMs: 30_000,
  targetOutageMs: 15_000,
  seed: 0,
  drainTimeoutMs: 300_000,
});

describe("fault suite", () => {
  it("loses nothing, forwards no provider duplicate, and logs every try", { timeout: 900_000 }, async () => {
    const report = await runFaultScenario(plan, (line) => console.log(line));
    console.log(formatReport(report));
    expectFullRecovery(report, plan);
  });
});
