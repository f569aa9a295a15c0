import { connectDatabase, type Database, type PurgeTable, purgeOlderThan } from "@hookline/db";
import { bullPrefix, MAINTENANCE_QUEUE } from "@hookline/queue";
import {
  closeAll,
  deliveryQueueIdle,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminConfig, clausumBody, countRows, redisOptions } from "./helpers";

let iso: Isolated;
let sink: Sink;
let stack: Stack;
let database: Database;

const DAY = 24 * 3600_000;

const count = (table: string, where?: string) => countRows(database, table, where);

/** Events (with one delivery and one attempt each) received `ageSql` ago, ids prefixed. */
async function seedEvents(prefix: string, n: number, ageSql: string, status = "succeeded"): Promise<void> {
  await database.pool.query(
    `insert into events (id, source_id, event_type, dedupe_key, received_at, headers, body)
     select 'evt_${prefix}' || g, 'clausum', 'order.created', '${prefix}-' || g, now() - interval '${ageSql}',
            '{}'::jsonb, '\\x7b7d'::bytea
     from generate_series(1, $1::int) g`,
    [n],
  );
  await database.pool.query(
    `insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, created_at, updated_at)
     select 'dlv_${prefix}' || g, 'evt_${prefix}' || g, 't', 'clausum', $2, 1, now() - interval '${ageSql}',
            now() - interval '${ageSql}'
     from generate_series(1, $1::int) g`,
    [n, status],
  );
  await database.pool.query(
    `insert into delivery_attempts (id, delivery_id, attempt_number, started_at, duration_ms, status_code)
     select 'att_${prefix}' || g, 'dlv_${prefix}' || g, 1, now() - interval '${ageSql}', 12, 200
     from generate_series(1, $1::int) g`,
    [n],
  );
}

beforeAll(async () => {
  iso = await isolate("retention");
  sink = await startSink();
  const config = loadTestConfig(
    adminConfig(
      { t: { sink } },
      `  - { source: clausum, events: ["*"], targets: [t] }`,
      // No scheduled purge in this file: the tests purge by hand and count what went.
      "retention: { events: forever, attempts: forever }\n",
    ),
  );
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  stack = await startStack(iso, config);
});

afterAll(() => closeAll(stack, database, sink, iso));

describe("purgeOlderThan", () => {
  it("retention `forever` schedules no purge job", async () => {
    const queue = new Queue(MAINTENANCE_QUEUE, {
      connection: redisOptions(iso.redisUrl),
      prefix: bullPrefix(iso.queuePrefix),
    });
    try {
      expect(await queue.getJobSchedulersCount()).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it("deletes old rows in batches and keeps recent ones and deliveries in progress", async () => {
    await seedEvents("old", 3_000, "40 days");
    await seedEvents("busy", 2, "40 days", "retrying");
    await seedEvents("new", 100, "1 hour");
    // Attempt logs can be older than their cutoff while their event is not (a long retry).
    await database.pool.query(
      "update delivery_attempts set started_at = now() - interval '40 days' where id in ('att_new1', 'att_new2')",
    );
    await database.pool.query(
      `insert into event_duplicates (id, original_event_id, source_id, received_at)
       select 'evt_dup' || g, 'evt_old1', 'clausum',
              case when g <= 1000 then now() - interval '40 days' else now() end
       from generate_series(1, 1010) g`,
    );
    await database.pool.query(
      `insert into dedupe_keys (source_id, dedupe_key, event_id, expires_at)
       select 'clausum', 'k-' || g, 'evt_old' || g,
              case when g <= 2000 then now() - interval '1 day' else now() + interval '1 day' end
       from generate_series(1, 5000) g`,
    );

    const batches: Array<[PurgeTable, number]> = [];
    const counts = await purgeOlderThan(database.pool, {
      eventsBefore: new Date(Date.now() - 30 * DAY),
      attemptsBefore: new Date(Date.now() - 30 * DAY),
      batchSize: 500,
      onBatch: (table, n) => batches.push([table, n]),
    });
    expect(counts).toEqual({
      events: 3_000,
      delivery_attempts: 3_004,
      event_duplicates: 1_000,
      dedupe_keys: 2_000,
    });
    // Every statement stayed small: 500 rows, or 100 events (each takes its deliveries along).
    const sizes = (table: PurgeTable) => batches.filter(([t]) => t === table).map(([, n]) => n);
    expect(Math.max(...sizes("delivery_attempts"))).toBe(500);
    expect(sizes("events")).toHaveLength(30);
    expect(Math.max(...sizes("events"))).toBe(100);
    expect(sizes("dedupe_keys")).toHaveLength(4);

    expect(await count("events", "id like 'evt_old%'")).toBe(0);
    expect(await count("deliveries", "id like 'dlv_old%'")).toBe(0);
    expect(await count("events", "id like 'evt_busy%'")).toBe(2);
    expect(await count("events", "id like 'evt_new%'")).toBe(100);
    expect(await count("delivery_attempts", "id like 'att_new%'")).toBe(98);
    expect(await count("event_duplicates")).toBe(10);
    expect(await count("dedupe_keys", "dedupe_key like 'k-%'")).toBe(3_000);
  });

  it("with `forever` cutoffs only expired de-duplication keys go", async () => {
    const before = await count("events");
    const counts = await purgeOlderThan(database.pool, { eventsBefore: null, attemptsBefore: null });
    expect(counts.events).toBe(0);
    expect(counts.delivery_attempts).toBe(0);
    expect(await count("events")).toBe(before);
  });
});

describe("de-duplication after a purge", () => {
  it("still holds inside the window when the original event is gone, and lapses after it", async () => {
    const body = clausumBody("order.created", "dedupe-after-purge");
    const first = await sendSigned(stack, "clausum", body);
    expect(first.status).toBe(202);
    const originalId = ((await first.json()) as { id: string }).id;
    await eventually(
      async () => (await count("deliveries", `event_id = '${originalId}' and status = 'succeeded'`)) === 1,
    );
    const received = sink.received.length;

    // Purge everything received until now: the event goes, its de-duplication key stays.
    await purgeOlderThan(database.pool, {
      eventsBefore: new Date(Date.now() + 1_000),
      attemptsBefore: new Date(Date.now() + 1_000),
    });
    expect(await count("events", `id = '${originalId}'`)).toBe(0);
    expect(await count("dedupe_keys", `event_id = '${originalId}'`)).toBe(1);

    const again = await sendSigned(stack, "clausum", body);
    expect(again.status).toBe(202);
    const duplicateId = ((await again.json()) as { id: string }).id;
    await eventually(async () => (await count("event_duplicates", `id = '${duplicateId}'`)) === 1, {
      what: "the copy to be recorded as a duplicate",
    });
    expect(await count("events", `id = '${duplicateId}'`)).toBe(0);
    await deliveryQueueIdle(stack, "t");
    expect(sink.received.length).toBe(received);

    // Once the window has passed, the purge removes the key and the same event is new again.
    await database.pool.query(
      "update dedupe_keys set expires_at = now() - interval '1 second' where event_id = $1",
      [originalId],
    );
    const purged = await purgeOlderThan(database.pool, { eventsBefore: null, attemptsBefore: null });
    expect(purged.dedupe_keys).toBeGreaterThanOrEqual(1);
    const third = await sendSigned(stack, "clausum", body);
    const thirdId = ((await third.json()) as { id: string }).id;
    await eventually(
      async () => (await count("deliveries", `event_id = '${thirdId}' and status = 'succeeded'`)) === 1,
    );
    expect(sink.received.length).toBe(received + 1);
  });
});
