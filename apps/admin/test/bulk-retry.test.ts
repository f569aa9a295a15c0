import {
  type AdminContext,
  AuthLimiter,
  DeliveryQueues,
  type RunningAdminServer,
  retryMany,
  startAdminServer,
} from "@hookline/admin";
import { connectDatabase, type Database, type QueuedRun } from "@hookline/db";
import { createLogger } from "@hookline/logger";
import { bullPrefix, deliveryQueueName } from "@hookline/queue";
import { Redactor } from "@hookline/redact";
import { closeAll, type Isolated, isolate, loadTestConfig } from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, api, CLAUSUM_SECRET, redisOptions } from "./helpers";

const IN_WINDOW = 20_000;
const OLD = 500;
const OTHER = 500;

let iso: Isolated;
let database: Database;
let admin: RunningAdminServer;

/** Records every batch handed to Redis, then queues it for real. */
class RecordingQueues extends DeliveryQueues {
  readonly batches: number[] = [];
  override async enqueue(runs: readonly QueuedRun[]): Promise<void> {
    this.batches.push(runs.length);
    await super.enqueue(runs);
  }
}

const config = loadTestConfig(`
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
  - { id: bulk, url: "http://127.0.0.1:9/bulk" }
  - { id: other, url: "http://127.0.0.1:9/other" }
routes:
  - { source: clausum, targets: [bulk, other] }
`);

const count = async (where: string) =>
  Number(
    (await database.pool.query<{ n: string }>(`select count(*) as n from deliveries where ${where}`)).rows[0]
      ?.n,
  );

async function waitingJobs(targetId: string): Promise<number> {
  const queue = new Queue(deliveryQueueName(targetId), {
    connection: redisOptions(iso.redisUrl),
    prefix: bullPrefix(iso.queuePrefix),
  });
  try {
    return (await queue.getJobCounts("wait")).wait ?? 0;
  } finally {
    await queue.close();
  }
}

beforeAll(async () => {
  iso = await isolate("bulk-retry");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  // 21,000 failed deliveries, seeded in two statements: 20,000 to `bulk` that failed an hour
  // ago, 500 to `bulk` that failed three days ago, and 500 to `other`.
  await database.pool.query(
    `insert into events (id, source_id, event_type, dedupe_key, received_at, headers, body)
     select 'evt_bulk' || lpad(g::text, 6, '0'), 'clausum', 'order.created', 'key-' || g,
            now() - interval '3 days', '{}'::jsonb, convert_to('{"n":' || g || '}', 'UTF8')
     from generate_series(1, $1::int) g`,
    [IN_WINDOW + OLD + OTHER],
  );
  await database.pool.query(
    `insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, last_status_code,
                             last_error, created_at, updated_at)
     select 'dlv_bulk' || lpad(g::text, 6, '0'), 'evt_bulk' || lpad(g::text, 6, '0'),
            case when g <= $1::int + $2::int then 'bulk' else 'other' end, 'clausum', 'failed', 4, 503,
            'target answered 503; no attempts left', now() - interval '3 days',
            case when g > $1::int and g <= $1::int + $2::int then now() - interval '3 days'
                 else now() - interval '1 hour' end
     from generate_series(1, $1::int + $2::int + $3::int) g`,
    [IN_WINDOW, OLD, OTHER],
  );
  admin = await startAdminServer({
    config,
    databaseUrl: iso.databaseUrl,
    redis: iso.redisUrl,
    queuePrefix: iso.queuePrefix,
    logger: createLogger({ level: "silent", name: "test" }),
    adminToken: ADMIN_TOKEN,
    port: 0,
    host: "127.0.0.1",
  });
});

afterAll(() => closeAll(admin, database, iso));

describe("bulk retry", () => {
  it("retries 20,000 failed deliveries of a target since a time, 1,000 per batch", async () => {
    const queues = new RecordingQueues(iso.redisUrl, iso.queuePrefix);
    const ctx: AdminContext = {
      database,
      queues,
      config,
      redactor: new Redactor([]),
      authLimiter: new AuthLimiter(),
    };
    try {
      const started = Date.now();
      const result = await retryMany(
        ctx,
        { actor: "test", ip: null },
        {
          status: ["failed"],
          target: "bulk",
          since: new Date(Date.now() - 24 * 3600_000),
        },
      );
      expect(result).toEqual({ kind: "retried", retried: IN_WINDOW });
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(queues.batches).toHaveLength(IN_WINDOW / 1_000);
      expect(Math.max(...queues.batches)).toBe(1_000);
    } finally {
      await queues.close();
    }
    // Each row starts run 2 with its history kept; nothing outside the filters moved.
    expect(
      await count("target_id = 'bulk' and status = 'pending' and run_number = 2 and run_base_attempt = 4"),
    ).toBe(IN_WINDOW);
    expect(await count("status = 'pending' and (attempt_count <> 4 or last_error is not null)")).toBe(0);
    expect(await count("target_id = 'bulk' and status = 'failed' and run_number = 1")).toBe(OLD);
    expect(await count("target_id = 'other' and status = 'failed' and run_number = 1")).toBe(OTHER);
    // One job per delivery, with the run's job id.
    expect(await waitingJobs("bulk")).toBe(IN_WINDOW);
    const queue = new Queue(deliveryQueueName("bulk"), {
      connection: redisOptions(iso.redisUrl),
      prefix: bullPrefix(iso.queuePrefix),
    });
    try {
      const job = await queue.getJob("dlv_bulk000001-r2");
      expect(job?.data).toEqual({ deliveryId: "dlv_bulk000001", runNumber: 2 });
    } finally {
      await queue.close();
    }
  });

  it("the API takes the same filters: `until`, and another target", async () => {
    const old = await api(admin, "/api/deliveries/retry", {
      method: "POST",
      body: { target: "bulk", until: "2d" },
    });
    expect(old.status).toBe(202);
    expect(await old.json()).toEqual({ retried: OLD });
    const other = await api(admin, "/api/deliveries/retry?target=other&status=failed", { method: "POST" });
    expect(await other.json()).toEqual({ retried: OTHER });
    expect(await count("status = 'failed'")).toBe(0);
    expect(await waitingJobs("other")).toBe(OTHER);
    // Nothing left to retry: a second run finds nothing.
    const again = await api(admin, "/api/deliveries/retry", { method: "POST", body: { status: "failed" } });
    expect(await again.json()).toEqual({ retried: 0 });
  });
});
