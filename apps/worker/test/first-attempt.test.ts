// First attempts made by the ingest worker itself (apps/worker/src/first-attempt.ts): which
// deliveries go that way, which go through their target's queue, and that a first attempt in
// flight is left alone by the reconciler until its lease has run out.
import { connectDatabase, type Database, newId, recordIngestedEvent } from "@hookline/db";
import { createLogger } from "@hookline/logger";
import { bullPrefix, createProducerConnection, type DeliveryJob, deliveryQueueName } from "@hookline/queue";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  observeWorker,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReconciler } from "../src/reconciler";
import { clausumBody, spineConfig } from "./helpers";

let iso: Isolated;
let flaky: Sink;
let limited: Sink;
let hanging: Sink;
let fast: Sink;
let single: Sink;
let stack: Stack;
let database: Database;
const paths = new Map<string, { inline: number; queued: number; held: number }>();

beforeAll(async () => {
  iso = await isolate("firstattempt");
  flaky = await startSink((_req, i) => (i === 0 ? { status: 500 } : { status: 200 }));
  limited = await startSink();
  hanging = await startSink(() => "hang");
  fast = await startSink();
  single = await startSink();
  const config = loadTestConfig(
    spineConfig(
      {
        flaky: { sink: flaky },
        limited: { sink: limited, extra: "    rate_limit: 100/s\n" },
        hanging: { sink: hanging, extra: "    concurrency: 1\n" },
        fast: { sink: fast },
        single: { sink: single, extra: "    concurrency: 1\n" },
      },
      `  - { source: clausum, events: ["flaky.*"], targets: [flaky] }
  - { source: clausum, events: ["limited.*"], targets: [limited] }
  - { source: clausum, events: ["busy.*"], targets: [hanging, fast] }
  - { source: clausum, events: ["single.*"], targets: [single] }`,
    ),
  );
  stack = await startStack(iso, config, {
    workerObserver: observeWorker({
      firstAttempts: (target, path, count) => {
        const c = paths.get(target) ?? { inline: 0, queued: 0, held: 0 };
        c[path] += count;
        paths.set(target, c);
      },
    }),
  });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(stack, database, flaky, limited, hanging, fast, single, iso));

async function send(event: string, caseId: string): Promise<string> {
  const res = await sendSigned(stack, "clausum", clausumBody(event, caseId));
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const delivery = async (eventId: string, targetId: string) =>
  (
    await database.pool.query<{ status: string; attempt_count: number }>(
      "select status, attempt_count from deliveries where event_id = $1 and target_id = $2",
      [eventId, targetId],
    )
  ).rows[0];

describe("first attempts", () => {
  it("go out from the ingest worker, and a retry goes through the target's queue", async () => {
    const id = await send("flaky.once", "fa-1");
    await eventually(async () => (await delivery(id, "flaky"))?.status === "succeeded");
    expect(await delivery(id, "flaky")).toEqual({ status: "succeeded", attempt_count: 2 });
    expect(paths.get("flaky")).toEqual({ inline: 1, queued: 0, held: 0 });
    const attempts = await database.pool.query<{ attempt_number: number; status_code: number }>(
      `select a.attempt_number, a.status_code from delivery_attempts a join deliveries d on d.id = a.delivery_id
       where d.event_id = $1 order by a.attempt_number`,
      [id],
    );
    expect(attempts.rows).toEqual([
      { attempt_number: 1, status_code: 500 },
      { attempt_number: 2, status_code: 200 },
    ]);
  });

  it("to a target with a rate limit always go through its queue (the limit counts across processes)", async () => {
    const ids = await Promise.all([1, 2, 3].map((n) => send("limited.event", `lim-${n}`)));
    for (const id of ids)
      await eventually(async () => (await delivery(id, "limited"))?.status === "succeeded");
    expect(paths.get("limited")).toEqual({ inline: 0, queued: 3, held: 0 });
  });

  it("to a target that keeps its slots spill to its queue, and the event's other targets are not held", async () => {
    // `hanging` has one slot, held by the first event for its whole 2 s timeout.
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push(await send("busy.event", `busy-${n}`));
    await fast.waitFor(3, 10_000);
    for (const id of ids) await eventually(async () => (await delivery(id, "fast"))?.status === "succeeded");
    expect(paths.get("fast")).toEqual({ inline: 3, queued: 0, held: 0 });
    expect(paths.get("hanging")).toEqual({ inline: 1, queued: 2, held: 0 });
    // Queued is not lost: every one is still live.
    for (const id of ids) expect(["pending", "retrying"]).toContain((await delivery(id, "hanging"))?.status);
  });
});

describe("a target's concurrency", () => {
  it("counts requests in flight: a slot is free once the target has answered, not once the outcome is stored", async () => {
    // Storing the first outcome for `single` (one slot) takes 5 s; its next request must not wait
    // for that.
    await database.pool.query(`
      create sequence slow_close_seq;
      create function slow_close() returns trigger language plpgsql as $$
      begin if nextval('slow_close_seq') = 1 then perform pg_sleep(5); end if; return new; end $$;
      create trigger slow_close before update on delivery_attempts for each row
        when (new.target_id = 'single' and new.status_code is not null) execute function slow_close()`);
    try {
      const first = await send("single.event", "single-1");
      await single.waitFor(1, 10_000);
      const second = await send("single.event", "single-2");
      await single.waitFor(2, 10_000);
      // The second request went out while the first one's outcome was still being stored.
      const open = await database.pool.query<{ status_code: number | null }>(
        `select a.status_code from delivery_attempts a join deliveries d on d.id = a.delivery_id
         where d.event_id = $1`,
        [first],
      );
      expect(open.rows).toEqual([{ status_code: null }]);
      for (const id of [first, second])
        await eventually(async () => (await delivery(id, "single"))?.status === "succeeded", {
          timeoutMs: 15_000,
        });
    } finally {
      await database.pool.query(
        "drop trigger slow_close on delivery_attempts; drop function slow_close(); drop sequence slow_close_seq",
      );
    }
  });
});

describe("a first attempt in flight", () => {
  it("is not queued again by the reconciler until its lease has run out", async () => {
    const connection = createProducerConnection(iso.redisUrl);
    const queue = new Queue<DeliveryJob>(deliveryQueueName("orphan"), {
      connection,
      prefix: `${bullPrefix(iso.queuePrefix)}-lease`,
    });
    try {
      const eventId = newId("evt");
      const created = await recordIngestedEvent(database.pool, {
        eventId,
        sourceId: "clausum",
        eventType: "lease.test",
        dedupeKey: eventId,
        providerId: null,
        receivedAt: new Date(),
        headers: {},
        body: Buffer.from("{}"),
        contentType: "application/json",
        dedupeWindowMs: 60_000,
        targetIds: ["orphan"],
        firstAttempts: [{ attemptId: newId("att"), leaseUntil: new Date(Date.now() + 60_000) }],
      });
      if (created.kind !== "created") throw new Error(created.kind);
      expect(created.deliveries[0]?.firstAttemptId).toBeDefined();
      const reconciler = createReconciler({
        pool: database.pool,
        queues: new Map([["orphan", queue]]),
        settings: {
          reconcileIntervalMs: 3_600_000,
          reconcileBatch: 100,
          reconcileGraceMs: 0,
          removedTargetGraceMs: 3_600_000,
        },
        logger: createLogger({ level: "silent", name: "test" }),
        now: Date.now,
      });
      // Its process died mid-request: untouched for a while, the lease still running.
      await database.pool.query(
        "update deliveries set updated_at = now() - interval '1 minute' where event_id = $1",
        [eventId],
      );
      expect((await reconciler.sweep()).requeued).toBe(0);
      // The lease has run out: queued again, so the delivery is not stranded.
      await database.pool.query(
        "update deliveries set next_attempt_at = now() - interval '1 second' where event_id = $1",
        [eventId],
      );
      expect((await reconciler.sweep()).requeued).toBe(1);
      await reconciler.close();
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    }
  });
});
