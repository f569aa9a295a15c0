import { createLogger } from "@hookline/logger";
import { DelayedError } from "bullmq";
import { describe, expect, it } from "vitest";
import {
  createOutageRecovery,
  type FailedJobs,
  MAX_REMEMBERED,
  PROMOTE_INTERVAL_MS,
} from "./outage-recovery";

const logger = createLogger({ level: "silent", name: "test" });

interface FakeJob {
  readonly queueName: string;
  readonly id: string;
  /** What the processor does with it. */
  readonly outcome: "ok" | "fail" | "delay";
}

function setup(promoteFails = () => false) {
  let clock = 0;
  const promotions: Record<string, string[]>[] = [];
  const recovery = createOutageRecovery({
    promote: async (failed: FailedJobs) => {
      promotions.push(Object.fromEntries([...failed].map(([q, ids]) => [q, [...ids].sort()])));
      if (promoteFails()) throw new Error("redis down");
    },
    logger,
    now: () => clock,
  });
  const process = recovery.watch(async (job: FakeJob) => {
    if (job.outcome === "fail") throw new Error("outage");
    if (job.outcome === "delay") throw new DelayedError();
  });
  let n = 0;
  const run = async (outcome: FakeJob["outcome"], queueName = "ingest") => {
    const id = `j${++n}`;
    await process({ queueName, id, outcome }).catch(() => {});
    await new Promise((resolve) => setImmediate(resolve)); // the promotion runs in the background
    return id;
  };
  return {
    run,
    promotions,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe("createOutageRecovery", () => {
  it("makes the jobs that failed due on the first success after them, not on successes alone", async () => {
    const s = setup();
    await s.run("ok");
    expect(s.promotions).toEqual([]);
    const a = await s.run("fail", "ingest");
    const b = await s.run("fail", "delivery:t");
    const c = await s.run("fail", "delivery:t");
    expect(s.promotions).toEqual([]);
    await s.run("ok");
    await s.run("ok");
    expect(s.promotions).toEqual([{ ingest: [a], "delivery:t": [b, c].sort() }]);
  });

  it("does so again after another failure, at most once per interval", async () => {
    const s = setup();
    await s.run("fail");
    await s.run("ok");
    s.advance(PROMOTE_INTERVAL_MS - 1);
    const late = await s.run("fail");
    await s.run("ok");
    expect(s.promotions).toHaveLength(1);
    s.advance(1);
    await s.run("ok"); // the failure above is still owed a promotion
    expect(s.promotions).toHaveLength(2);
    expect(s.promotions[1]).toEqual({ ingest: [late] });
  });

  it("keeps the jobs of a promotion that failed for the next one", async () => {
    let fail = true;
    const s = setup(() => fail);
    const a = await s.run("fail");
    await s.run("ok");
    fail = false;
    s.advance(PROMOTE_INTERVAL_MS);
    await s.run("ok");
    expect(s.promotions).toEqual([{ ingest: [a] }, { ingest: [a] }]);
  });

  it("remembers at most MAX_REMEMBERED failed jobs; the rest keep their backoff", async () => {
    const s = setup();
    for (let i = 0; i < MAX_REMEMBERED + 5; i++) await s.run("fail", "delivery:t");
    await s.run("ok");
    expect(s.promotions).toHaveLength(1);
    expect(s.promotions[0]?.["delivery:t"]).toHaveLength(MAX_REMEMBERED);
  });

  it("takes a job put back on purpose (DelayedError: a scheduled retry) for neither a failure nor a success", async () => {
    const s = setup();
    await s.run("delay");
    await s.run("ok");
    expect(s.promotions).toEqual([]);
    await s.run("fail");
    await s.run("delay");
    expect(s.promotions).toEqual([]);
  });

  it("passes every error on to BullMQ as it was", async () => {
    const recovery = createOutageRecovery({ promote: async () => {}, logger });
    const failing = recovery.watch(async (_job: { queueName: string; id: string }) => {
      throw new Error("outage");
    });
    await expect(failing({ queueName: "q", id: "1" })).rejects.toThrow("outage");
    const delayed = recovery.watch(async (_job: { queueName: string; id: string }) => {
      throw new DelayedError();
    });
    await expect(delayed({ queueName: "q", id: "2" })).rejects.toBeInstanceOf(DelayedError);
  });
});
