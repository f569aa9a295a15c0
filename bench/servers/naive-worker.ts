// The other half of the hand-written pipeline (bench/servers/naive.ts queues, this delivers):
// a BullMQ worker as BullMQ's and node-postgres's documentation teach it. Per job: record the
// event (`on conflict do nothing` drops a provider's re-send), record a delivery, POST it to
// the target, record the attempt, mark the delivery. Same library versions as Hookline.
import { createHash } from "node:crypto";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";

const SCHEMA = `
create schema if not exists naive;
create table if not exists naive.events (
  id text primary key, type text, received_at timestamptz not null, body text not null);
create table if not exists naive.deliveries (
  id bigserial primary key, event_id text not null references naive.events (id),
  target_url text not null, status text not null, attempts int not null default 0,
  updated_at timestamptz not null default now());
create table if not exists naive.attempts (
  id bigserial primary key, delivery_id bigint not null references naive.deliveries (id),
  status_code int, error text, duration_ms int not null, created_at timestamptz not null default now());
`;

interface NaiveJob {
  readonly type: string | null;
  readonly receivedAt: number;
  readonly body: string;
}

const targetUrl = process.env.TARGET_URL ?? "";
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  maxRetriesPerRequest: null,
});

// The bench starts this process on an empty database: the tables are made here, as a migration would.
await pool.query(SCHEMA);

const worker = new Worker<NaiveJob>(
  "webhooks",
  async (job) => {
    const { type, receivedAt, body } = job.data;
    const id = createHash("sha256").update(body).digest("hex");
    const inserted = await pool.query(
      "insert into naive.events (id, type, received_at, body) values ($1, $2, $3, $4) on conflict do nothing",
      [id, type, new Date(receivedAt), body],
    );
    if (inserted.rowCount === 0) return; // a re-send of an event we have
    const delivery = await pool.query<{ id: string }>(
      "insert into naive.deliveries (event_id, target_url, status) values ($1, $2, 'pending') returning id",
      [id, targetUrl],
    );
    const deliveryId = delivery.rows[0]?.id;
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(targetUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "webhook-id": id },
        body,
      });
      status = res.status;
      await res.arrayBuffer();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    await pool.query(
      "insert into naive.attempts (delivery_id, status_code, error, duration_ms) values ($1, $2, $3, $4)",
      [deliveryId, status, error, Date.now() - started],
    );
    const ok = status !== null && status >= 200 && status < 300;
    await pool.query(
      "update naive.deliveries set status = $2, attempts = attempts + 1, updated_at = now() where id = $1",
      [deliveryId, ok ? "succeeded" : "failed"],
    );
    if (!ok) throw new Error(`delivery failed: ${status ?? error}`);
  },
  {
    connection,
    prefix: process.env.QUEUE_PREFIX ?? "bull",
    concurrency: Number(process.env.CONCURRENCY ?? 64),
  },
);

void worker.waitUntilReady().then(() => process.send?.({ ready: true }));
process.on("SIGTERM", () => {
  void worker
    .close()
    .then(() => pool.end())
    .then(() => connection.disconnect());
});
