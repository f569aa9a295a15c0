import { connectDatabase, type Database } from "@hookline/db";
import { bullPrefix, MAINTENANCE_QUEUE, RETENTION_SCHEDULER_ID } from "@hookline/queue";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  startSink,
  startStack,
} from "@hookline/testkit";
import { startWorker } from "@hookline/worker";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminConfig, countRows, redisOptions } from "./helpers";

let iso: Isolated;
let sink: Sink;
let stack: Stack;
let database: Database;

const count = (table: string, where?: string) => countRows(database, table, where);

beforeAll(async () => {
  iso = await isolate("retention-job");
  sink = await startSink();
  const config = loadTestConfig(
    adminConfig(
      { t: { sink } },
      `  - { source: clausum, events: ["*"], targets: [t] }`,
      "retention: { events: 1d, attempts: 1d, interval: 500ms }\n",
    ),
  );
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  // Old rows that are there before any worker starts (two days old, with a delivery and an
  // attempt each), and recent ones: the scheduled purge must remove only the old.
  for (const [prefix, age] of [
    ["old", "2 days"],
    ["new", "1 hour"],
  ] as const) {
    await database.pool.query(
      `insert into events (id, source_id, event_type, dedupe_key, received_at, headers, body)
       select 'evt_${prefix}' || g, 'clausum', 'order.created', '${prefix}-' || g, now() - interval '${age}',
              '{}'::jsonb, '\\x7b7d'::bytea
       from generate_series(1, 20) g`,
    );
    await database.pool.query(
      `insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, created_at, updated_at)
       select 'dlv_${prefix}' || g, 'evt_${prefix}' || g, 't', 'clausum', 'succeeded', 1, now(), now()
       from generate_series(1, 20) g`,
    );
  }
  stack = await startStack(iso, config);
});

afterAll(() => closeAll(stack, database, sink, iso));

describe("the retention job", () => {
  it("runs as one repeatable job on the maintenance queue, however many workers start", async () => {
    await eventually(async () => (await count("events", "id like 'evt_old%'")) === 0, {
      what: "the scheduled purge to delete the old events",
    });
    expect(await count("deliveries", "id like 'dlv_old%'")).toBe(0);
    expect(await count("events", "id like 'evt_new%'")).toBe(20);
    const second = await startWorker(stack.shared);
    const queue = new Queue(MAINTENANCE_QUEUE, {
      connection: redisOptions(iso.redisUrl),
      prefix: bullPrefix(iso.queuePrefix),
    });
    try {
      expect(await queue.getJobSchedulersCount()).toBe(1);
      const scheduler = await queue.getJobScheduler(RETENTION_SCHEDULER_ID);
      expect(scheduler?.every).toBe(500);
    } finally {
      await queue.close();
      await second.close();
    }
    expect(stack.logs.text()).toContain("retention purge done");
  });
});
