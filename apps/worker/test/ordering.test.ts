// Per-key ordering (routes[].ordering_key), in one process: a target that fails about 30% of
// requests at random, short retries, 5 keys x 30 events sent concurrently. Per key, no request
// goes out before every earlier event of its key has succeeded, and each event succeeds once.
// The acceptance order is read from Postgres (ordering_seq) and checked against what the
// senders saw: an event whose 202 came back before another was sent is ahead of it.
import { connectDatabase, type Database, newId, setTargetPaused } from "@hookline/db";
import {
  bullPrefix,
  createProducerConnection,
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
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spineConfig } from "./helpers";
import { acceptanceOrder, checkOrder, type Seen, seeded } from "./ordering-check";

let iso: Isolated;
let ordered: FlakySink;
let paused: FlakySink;
let plain: Sink;
let stack: Stack;
let database: Database;
const held = new Map<string, number>();

/** A target that fails about 30% of requests at random, and what it answered to each. */
interface FlakySink {
  readonly sink: Sink;
  readonly seen: Seen[];
}

async function startFlaky(seed: number): Promise<FlakySink> {
  const rand = seeded(seed);
  const seen: Seen[] = [];
  const sink = await startSink((req) => {
    const ok = rand() >= 0.3;
    seen.push({ eventId: String(req.headers["webhook-id"]), ok });
    return { status: ok ? 200 : 503 };
  });
  return { sink, seen };
}
// Fourteen retries at 30% failure: an event fails for good once in about 20 million.
const RETRIES = "[20ms, 20ms, 30ms, 30ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms]";

beforeAll(async () => {
  iso = await isolate("ordering");
  ordered = await startFlaky(7);
  paused = await startFlaky(11);
  plain = await startSink();
  const config = loadTestConfig(
    spineConfig(
      {
        ordered: { sink: ordered.sink, retry: RETRIES, extra: "    concurrency: 4\n" },
        paused: { sink: paused.sink, retry: RETRIES },
        plain: { sink: plain },
      },
      `  - { source: clausum, events: ["case.*"], targets: [ordered], ordering_key: "/data/case_id" }
  - { source: clausum, events: ["case.*"], targets: [plain] }
  - { source: clausum, events: ["hold.*"], targets: [paused], ordering_key: { header: x-clausum-case } }`,
    ),
  );
  stack = await startStack(iso, config, {
    workerObserver: observeWorker({
      firstAttempts: (target, path, count) => {
        if (path === "held") held.set(target, (held.get(target) ?? 0) + count);
      },
    }),
  });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(async () => {
  await closeAll(stack, database, ordered.sink, paused.sink, plain);
  await iso.cleanup();
});

interface Sent {
  readonly key: string;
  readonly eventId: string;
  readonly sentAt: number;
  readonly acceptedAt: number;
}

/** Sends every event of every key, `parallel` requests at a time, keys interleaved at random. */
async function sendAll(
  kind: string,
  keys: readonly string[],
  perKey: number,
  parallel: number,
  headers: (key: string) => Record<string, string> = () => ({}),
): Promise<Sent[]> {
  const rand = seeded(3);
  const next = new Map(keys.map((k) => [k, 0]));
  const queue: string[] = [];
  for (let i = 0; i < keys.length * perKey; i++) {
    const open = keys.filter((k) => (next.get(k) ?? 0) < perKey);
    const key = open[Math.floor(rand() * open.length)] as string;
    next.set(key, (next.get(key) ?? 0) + 1);
    queue.push(key);
  }
  const counters = new Map(keys.map((k) => [k, 0]));
  const sent: Sent[] = [];
  const lane = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      const n = counters.get(key) ?? 0;
      counters.set(key, n + 1);
      const body = JSON.stringify({
        event: `${kind}.updated`,
        timestamp: "2026-11-28T10:00:00.000Z",
        data: { case_id: key, n },
      });
      const sentAt = performance.now();
      const response = await sendSigned(stack, "clausum", body, { extraHeaders: headers(key) });
      const acceptedAt = performance.now();
      expect(response.status).toBe(202);
      const { id: eventId } = (await response.json()) as { id: string };
      sent.push({ key, eventId, sentAt, acceptedAt });
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return sent;
}

/** Events one sender saw accepted before another was sent must be ahead of it in acceptance order. */
function expectConsistent(sent: readonly Sent[], order: ReadonlyMap<string, readonly string[]>) {
  const rank = new Map<string, number>();
  for (const ids of order.values()) for (const [i, id] of ids.entries()) rank.set(id, i);
  let pairs = 0;
  for (const a of sent)
    for (const b of sent)
      if (a.key === b.key && a.acceptedAt < b.sentAt) {
        pairs++;
        expect(rank.get(a.eventId), `${a.eventId} before ${b.eventId}`).toBeLessThan(
          rank.get(b.eventId) as number,
        );
      }
  expect(pairs).toBeGreaterThan(0);
}

/** Waits until every delivery of `targetId` (`count` of them) is recorded, then reads their order. */
async function recordedOrder(targetId: string, count: number) {
  await eventually(
    async () => {
      const rows = await database.pool.query(
        `select count(*)::int as n from deliveries where target_id = $1`,
        [targetId],
      );
      return rows.rows[0]?.n === count;
    },
    { what: `${count} deliveries to ${targetId}` },
  );
  return acceptanceOrder(database.pool, targetId);
}

async function allSucceeded(targetId: string) {
  await eventually(
    async () => {
      const live = await database.pool.query(
        `select 1 from deliveries where target_id = $1 and status <> 'succeeded' limit 1`,
        [targetId],
      );
      return live.rowCount === 0;
    },
    { timeoutMs: 60_000, what: `every delivery to ${targetId} to succeed` },
  );
}

describe("per-key ordering", () => {
  it("sends each key's events one at a time, in acceptance order, through random failures", async () => {
    const keys = ["k1", "k2", "k3", "k4", "k5"];
    const sent = await sendAll("case", keys, 30, 12);
    const order = await recordedOrder("ordered", 150);
    expect([...order.keys()].sort()).toEqual(keys);
    for (const ids of order.values()) expect(ids).toHaveLength(30);
    expectConsistent(sent, order);

    await allSucceeded("ordered");
    const report = checkOrder(ordered.seen, order);
    expect(report.violations).toEqual([]);
    expect(report.resentAfterSuccess).toBe(0);
    // The flaky target did fail, and each failure held its key back.
    expect(report.failures).toBeGreaterThan(20);
    expect(held.get("ordered")).toBe(150);
    // The unordered route of the same events flowed on, with no key and nothing held.
    await plain.waitFor(150, 30_000);
    const plainRows = await database.pool.query(
      `select count(*)::int as n from deliveries where target_id = 'plain' and ordering_key is null and not held`,
    );
    expect(plainRows.rows[0]?.n).toBe(150);
    expect(held.get("plain")).toBeUndefined();
    // Every attempt is logged, the failed ones included.
    const attempts = await database.pool.query(
      `select count(*)::int as n from delivery_attempts a join deliveries d on d.id = a.delivery_id
       where d.target_id = 'ordered'`,
    );
    expect(attempts.rows[0]?.n).toBe(report.requests);
  });

  it("holds across a pause: nothing is sent or used up while paused, and order holds after resume", async () => {
    await setTargetPaused(database.pool, "paused", { paused: true, reason: "test" });
    // Every worker applies a pause within a second (target-control.ts polls every 500 ms).
    await new Promise((r) => setTimeout(r, 1_200));
    const keys = ["p1", "p2", "p3"];
    const sent = await sendAll("hold", keys, 10, 6, (key) => ({ "x-clausum-case": key }));
    const order = await recordedOrder("paused", 30);
    expect([...order.keys()].sort()).toEqual(keys);
    expectConsistent(sent, order);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(paused.sink.received).toHaveLength(0);
    const used = await database.pool.query(
      `select coalesce(sum(attempt_count), 0)::int as n from deliveries where target_id = 'paused'`,
    );
    expect(used.rows[0]?.n).toBe(0);

    await setTargetPaused(database.pool, "paused", { paused: false });
    await allSucceeded("paused");
    const report = checkOrder(paused.seen, order);
    expect(report.violations).toEqual([]);
    expect(report.resentAfterSuccess).toBe(0);
  });

  it("waits for an earlier event whose ingest job is recorded later (its job in backoff)", async () => {
    // As a Postgres hiccup would leave them: the earlier event's job waits in BullMQ's delayed
    // set while the later one is recorded at once. Acceptance order is the jobs' numbers.
    const ingest = new Queue<IngestJob>(INGEST_QUEUE, {
      connection: createProducerConnection(iso.redisUrl),
      prefix: bullPrefix(iso.queuePrefix),
    });
    const job = (n: number): IngestJob => ({
      eventId: newId("evt"),
      sourceId: "clausum",
      eventType: "case.updated",
      dedupeKey: `late-${n}`,
      providerId: null,
      receivedAt: Date.now(),
      headers: {},
      contentType: "application/json",
      body: Buffer.from(JSON.stringify({ data: { case_id: "late", n } })).toString("base64"),
    });
    const [first, second] = [job(0), job(1)];
    try {
      await ingest.add(INGEST_JOB_NAME, first, { ...INGEST_JOB_OPTIONS, delay: 1_500 });
      await ingest.add(INGEST_JOB_NAME, second, INGEST_JOB_OPTIONS);
      // The later one is recorded, and held: its turn comes after the earlier one.
      await eventually(async () => {
        const rows = await database.pool.query(
          `select held from deliveries where event_id = $1 and target_id = 'ordered'`,
          [second.eventId],
        );
        return rows.rows[0]?.held === true;
      });
      const from = ordered.seen.length;
      await eventually(
        () =>
          ordered.seen
            .slice(from)
            .filter((s) => s.ok && (s.eventId === first.eventId || s.eventId === second.eventId)).length ===
          2,
        { what: "both late events delivered" },
      );
      const order = ordered.seen
        .slice(from)
        .filter((s) => s.eventId === first.eventId || s.eventId === second.eventId);
      expect(order.findIndex((s) => s.eventId === second.eventId)).toBeGreaterThan(
        order.findIndex((s) => s.ok && s.eventId === first.eventId),
      );
    } finally {
      await ingest.close();
    }
  });

  it("delivers an event without a key unordered, at once", async () => {
    const before = ordered.sink.received.length;
    const response = await sendSigned(
      stack,
      "clausum",
      JSON.stringify({
        event: "case.noted",
        timestamp: "2026-11-28T10:00:00.000Z",
        data: { note: "no case" },
      }),
    );
    expect(response.status).toBe(202);
    await ordered.sink.waitFor(before + 1, 10_000);
    const row = await database.pool.query(
      `select ordering_key, held from deliveries where target_id = 'ordered' and ordering_key is null`,
    );
    expect(row.rows).toEqual([{ ordering_key: null, held: false }]);
  });
});
