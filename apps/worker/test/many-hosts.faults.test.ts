// Hookline across hosts: two gateways and two workers, each in its own network namespace (its
// own address, ports and loopback, wired to a bridge), against Redis, Postgres and the targets
// on another host (this test's namespace). 5,000 events spread over both gateways with provider
// re-sends; a worker is SIGKILLed and the first gateway's link is cut mid-stream. Nothing
// accepted may be lost, no provider duplicate forwarded, every attempt logged, nothing left
// pending. Needs `ip netns` (root); where the kernel refuses namespaces it says so and skips.
import { namespacesUnavailable } from "@hookline/testkit";
import { describe, it } from "vitest";
import { expectFullRecovery, formatReport, planFromEnv, runFaultScenario } from "./fault-scenario";

const plan = planFromEnv({
  events: 5_000,
  duplicateShare: 0.05,
  ratePerSecond: 250,
  workerKills: 1,
  redisRestarts: 0,
  postgresOutageMs: 0,
  targetOutageMs: 0,
  seed: 0,
  drainTimeoutMs: 120_000,
  hosts: { gateways: 2, workers: 2 },
  linkCuts: 1,
  linkCutMs: 4_000,
});

const unavailable = namespacesUnavailable();
if (unavailable) {
  console.log(
    `SKIPPED many-hosts fault scenario: this machine cannot make network namespaces (${unavailable})`,
  );
}

describe.skipIf(unavailable !== null)("many hosts: two gateways, two workers, one database host", () => {
  it("loses nothing across hosts through a worker kill and a cut link", { timeout: 300_000 }, async () => {
    const report = await runFaultScenario(plan, (line) => console.log(line));
    console.log(formatReport(report));
    expectFullRecovery(report, plan);
  });
});
