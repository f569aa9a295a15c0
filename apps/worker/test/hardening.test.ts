// The worker against what used to strand or mistime work: ingest jobs that can never be
// recorded, a delivery job re-run before its retry is due, and live deliveries with no job
// (a crash between commit and enqueue) or with a target that is no longer configured.
import { randomBytes } from "node:crypto";
import { connectDatabase, type Database, newId, recordIngestedEvent } from "@hookline/db";
import {
  bullPrefix,
  createProducerConnection,
  type DeliveryJob,
  deliveryQueueName,
  INGEST_BATCH_JOB_NAME,
  INGEST_JOB_NAME,
  INGEST_JOB_OPTIONS,
  INGEST_QUEUE,
  type IngestJob,
} from "@hookline/queue";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  observeWorker,
  type Sink,
  type Stack,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestJob, recordedEvent } from "./helpers";

const RETRY_MS = 5_000;

let iso: Isolated;
let sink: Sink;
/** Hookline's own alerts (alerts:): a delivery ended as target_removed is one. */
let ops: Sink;
let stack: Stack;
let database: Database;
let ingest: Queue;
let deliveries: Queue<DeliveryJob>;
const setAside: string[] = [];
const reconciled: number[] = [];
/** Paths the sink answers 500 to on their first request. */
const failFirst = new Set<string>();

beforeAll(async () => {
  iso = await isolate("hardening");
  sink = await startSink((request) => {
    if (failFirst.delete(request.path)) return { status: 500 };
    return { status: 200 };
  });
  ops = await startSink();
  stack = await startStack(
    iso,
    loadTestConfig(`
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }
targets:
  - id: sink
    url: ${sink.url}/in
    retry: { schedule: [${RETRY_MS}ms] }
routes:
  - { source: klariqo, targets: [sink] }
worker: { reconcile_interval: 200ms, reconcile_grace: 300ms, removed_target_grace: 500ms }
alerts:
  - url: ${ops.url}/ops
    signing_secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    events: [delivery.failed]
`),
    {
      workerObserver: observeWorker({
        ingestSetAside: (reason) => setAside.push(reason),
        deliveriesReconciled: (_target, count) => reconciled.push(count),
      }),
    },
  );
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  const connection = createProducerConnection(iso.redisUrl);
  ingest = new Queue(INGEST_QUEUE, { connection, prefix: bullPrefix(iso.queuePrefix) });
  deliveries = new Queue(deliveryQueueName("sink"), { connection, prefix: bullPrefix(iso.queuePrefix) });
});

afterAll(() => closeAll(ingest, deliveries, stack, database, sink, ops, iso));

const job = ingestJob;

const eventExists = (id: string) => recordedEvent(database, id);

const deliveryOf = async (eventId: string) =>
  (
    await database.pool.query<{
      id: string;
      status: string;
      attempt_count: number;
      last_error: string | null;
    }>("select id, status, attempt_count, last_error from deliveries where event_id = $1", [eventId])
  ).rows[0];

describe("ingest jobs that can never be recorded", () => {
  it("are set aside (table, API-visible row, metric) and never retried; their batch's good events are recorded", async () => {
    const nulType = job({ eventType: "x.a\u0000b" });
    // Random, so that Postgres cannot compress it under the btree limit.
    const longKey = job({ dedupeKey: randomBytes(4096).toString("hex") });
    const good = [job(), job()];
    const alone = job({ eventType: "y\u0000" });
    await ingest.add(
      INGEST_BATCH_JOB_NAME,
      { events: [good[0], nulType, longKey, good[1]] },
      { ...INGEST_JOB_OPTIONS, jobId: `batch-${good[0]?.eventId}` },
    );
    await ingest.add(INGEST_JOB_NAME, alone, { ...INGEST_JOB_OPTIONS, jobId: alone.eventId });
    // A job whose data is not an ingest job at all.
    await ingest.add(INGEST_JOB_NAME, { nonsense: true } as unknown as IngestJob, {
      ...INGEST_JOB_OPTIONS,
      jobId: "garbled",
    });

    const rows = await eventually(async () => {
      const r = await database.pool.query<{ id: string; reason: string; event_ids: string[] }>(
        "select id, reason, event_ids from ingest_failures order by id",
      );
      return r.rows.length === 4 ? r.rows : undefined;
    });
    expect(rows).toEqual(
      [
        { id: nulType.eventId, reason: "data_exception", event_ids: [nulType.eventId] },
        { id: longKey.eventId, reason: "program_limit_exceeded", event_ids: [longKey.eventId] },
        { id: alone.eventId, reason: "data_exception", event_ids: [alone.eventId] },
        { id: "job-garbled", reason: "invalid_job", event_ids: [] },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    for (const g of good) expect(await eventExists(g.eventId)).toBe(true);
    expect(setAside.sort()).toEqual([
      "data_exception",
      "data_exception",
      "invalid_job",
      "program_limit_exceeded",
    ]);
    // The whole job is kept (NUL written as text), for a re-drive once the cause is fixed.
    const kept = await database.pool.query<{ job: IngestJob }>(
      "select job from ingest_failures where id = $1",
      [alone.eventId],
    );
    expect(kept.rows[0]?.job.eventType).toBe("y\\u0000");
    expect(kept.rows[0]?.job.body).toBe(alone.body);
    // Barrier: a good job added after them is recorded; by then nothing is waiting to be retried.
    const after = job();
    await ingest.add(INGEST_JOB_NAME, after, { ...INGEST_JOB_OPTIONS, jobId: after.eventId });
    await eventually(() => eventExists(after.eventId));
    // Its row is committed a moment before its job leaves "active".
    const counts = await eventually(async () => {
      const c = await ingest.getJobCounts("failed", "delayed", "wait", "active");
      return c.active === 0 ? c : undefined;
    });
    expect(counts).toEqual({
      failed: 0,
      delayed: 0,
      wait: 0,
      active: 0,
    });
  });
});

describe("a delivery job re-run before its retry is due", () => {
  it("does not call the target early: it is delayed again until next_attempt_at", async () => {
    failFirst.add("/in");
    const event = job();
    await ingest.add(INGEST_JOB_NAME, event, { ...INGEST_JOB_OPTIONS, jobId: event.eventId });
    const first = await eventually(async () => {
      const d = await deliveryOf(event.eventId);
      return d?.status === "retrying" ? d : undefined;
    });
    const before = sink.received.length;
    // What BullMQ does when moveToDelayed failed after the outcome was committed: run it again now.
    const delayed = await eventually(async () => {
      const j = await deliveries.getJob(first.id);
      return j && (await j.getState()) === "delayed" ? j : undefined;
    });
    await delayed.promote();
    // The barrier: the worker says it put the job back because the attempt was not due.
    await eventually(() =>
      stack.logs.lines.some(
        (l) => l.includes('"msg":"attempt not due yet: delayed again"') && l.includes(first.id),
      ),
    );
    expect(sink.received.length).toBe(before);
    expect((await deliveryOf(event.eventId))?.attempt_count).toBe(1);
    // On schedule, it goes.
    await eventually(async () => (await deliveryOf(event.eventId))?.status === "succeeded", {
      timeoutMs: 20_000,
    });
  });
});

/** Commits an event and its delivery as the ingest job would, with no job queued: a crash between the two. */
async function commitWithoutJob(targetId: string): Promise<string> {
  const eventId = newId("evt");
  await recordIngestedEvent(database.pool, {
    eventId,
    sourceId: "klariqo",
    eventType: "x.a",
    dedupeKey: eventId,
    providerId: null,
    receivedAt: new Date(),
    headers: {},
    body: Buffer.from("{}"),
    contentType: "application/json",
    dedupeWindowMs: 60_000,
    targetIds: [targetId],
  });
  return eventId;
}

describe("the reconciler", () => {
  it("queues live deliveries that have no job, once each", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await commitWithoutJob("sink"));
    for (const id of ids) {
      await eventually(async () => (await deliveryOf(id))?.status === "succeeded");
    }
    for (const id of ids) expect(sink.received.filter((r) => r.headers["webhook-id"] === id)).toHaveLength(1);
    expect(reconciled.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
  });

  it("ends deliveries to a target that is no longer configured as failed: target_removed", async () => {
    const eventId = await commitWithoutJob("gone");
    const row = await eventually(async () => {
      const d = await deliveryOf(eventId);
      return d?.status === "failed" ? d : undefined;
    });
    expect(row.last_error).toBe("target_removed");
    // Ended as failed, so ops hear of it as of any failed delivery.
    const alert = await eventually(() =>
      ops.received
        .map((r) => JSON.parse(r.body.toString()) as { type: string; data: Record<string, unknown> })
        .find((b) => b.type === "delivery.failed" && b.data.target_id === "gone"),
    );
    expect(alert.data).toMatchObject({ delivery_id: row.id, event_id: eventId, reason: "target_removed" });
  });
});
