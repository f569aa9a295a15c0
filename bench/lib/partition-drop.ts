// The partition phase: retention of one day of N events (with their deliveries, attempts,
// duplicate receipts), as today's batched delete does it on plain tables and as a partitioned
// install does it (retention.partitioning: daily). Each way gets its own fresh database with
// the same rows, seeded as the growth phase seeds them, all on one UTC day 40 days ago.
import { randomBytes } from "node:crypto";
import {
  connectDatabase,
  convertToPartitioned,
  dropDatabase,
  dropExpiredPartitions,
  ensurePartitions,
  migrateDatabase,
  purgeOlderThan,
} from "@hookline/db";
import type pg from "pg";
import { seedGrowth } from "./seed";

const DAY = 86_400_000;
/**
 * De-duplication keys go by their own window, not with the events, the same on both kinds of
 * install: deleted before the clock starts so the phase measures the day's events only.
 */
const EXPIRE_KEYS = "delete from dedupe_keys";

export interface DayDropResult {
  readonly events: number;
  /** Seconds the batched purge took to delete the day (5,000 rows per statement, as the job runs it). */
  readonly batched_delete_s: number;
  /** Seconds the partitioned retention took: the day's deliveries deleted, its partitions dropped. */
  readonly partition_drop_s: number;
  readonly ratio: number;
  readonly deliveries_deleted: number;
  readonly partitions_dropped: readonly string[];
  /** Bytes of events + deliveries + attempts after each way (the batched delete leaves dead rows for autovacuum). */
  readonly bytes_after: { readonly batched: number; readonly partitioned: number };
}

async function freshDatabase(adminDatabaseUrl: string, label: string): Promise<string> {
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/hookline_bench_${label}_${randomBytes(4).toString("hex")}`;
  await migrateDatabase(url.toString());
  return url.toString();
}

async function sizeOf(pool: pg.Pool): Promise<number> {
  // A partitioned table's own size is 0: sum its partitions.
  const r = await pool.query<{ bytes: string }>(
    `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes from pg_class c
     where c.relkind = 'r' and (c.relname in ('events', 'deliveries', 'delivery_attempts')
       or c.relname like 'events\\_%' or c.relname like 'delivery\\_attempts\\_%')`,
  );
  return Number(r.rows[0]?.bytes ?? 0);
}

export async function measureDayDrop(
  adminDatabaseUrl: string,
  events: number,
  log: (line: string) => void,
): Promise<DayDropResult> {
  const now = new Date();
  const dayStart = Math.floor(now.getTime() / DAY) * DAY - 40 * DAY;
  // The whole day, ending a second before midnight: every row in that day's partition.
  const window = { end: new Date(dayStart + DAY - 1_000), hours: 24 - 1 / 3600 };
  const cutoff = new Date(now.getTime() - 30 * DAY);
  const urls: string[] = [];
  try {
    // Plain tables, today's batched delete.
    const plainUrl = await freshDatabase(adminDatabaseUrl, "plain");
    urls.push(plainUrl);
    log("  plain tables:");
    await seedGrowth(plainUrl, events, (line) => log(`  ${line}`), window);
    const plain = connectDatabase(plainUrl, { max: 2 });
    let batchedS: number;
    let batchedBytes: number;
    try {
      await plain.pool.query(EXPIRE_KEYS);
      const started = performance.now();
      const counts = await purgeOlderThan(plain.pool, { eventsBefore: cutoff, attemptsBefore: cutoff, now });
      batchedS = (performance.now() - started) / 1000;
      batchedBytes = await sizeOf(plain.pool);
      log(
        `  batched delete: ${counts.events.toLocaleString("en-US")} events, ${counts.delivery_attempts.toLocaleString("en-US")} attempts (and the events' own) in ${batchedS.toFixed(1)} s`,
      );
    } finally {
      await plain.close();
    }

    // Partitioned (daily), converted while empty as of the day before, so the day has its partition.
    const partUrl = await freshDatabase(adminDatabaseUrl, "part");
    urls.push(partUrl);
    const part = connectDatabase(partUrl, { max: 2 });
    try {
      await convertToPartitioned(part.pool, { period: "daily", now: new Date(dayStart - DAY) });
      log("  partitioned tables (daily):");
      await seedGrowth(partUrl, events, (line) => log(`  ${line}`), window);
      // Partitions ahead of today are the job's other half: made before the clock starts.
      await ensurePartitions(part.pool, { period: "daily", now });
      await part.pool.query(EXPIRE_KEYS);
      const started = performance.now();
      const report = await dropExpiredPartitions(part.pool, { eventsBefore: cutoff, attemptsBefore: cutoff });
      const dropS = (performance.now() - started) / 1000;
      const counts = await purgeOlderThan(part.pool, { eventsBefore: cutoff, attemptsBefore: cutoff, now });
      const partS = (performance.now() - started) / 1000;
      log(
        `  partition drop: ${report.dropped.filter((p) => p.startsWith("events_")).length} events partitions with ` +
          `${report.deliveries.toLocaleString("en-US")} deliveries in ${dropS.toFixed(2)} s; the batched purge after ` +
          `it (${counts.event_duplicates.toLocaleString("en-US")} duplicate receipts): ${(partS - dropS).toFixed(2)} s`,
      );
      return {
        events,
        batched_delete_s: Math.round(batchedS * 100) / 100,
        partition_drop_s: Math.round(partS * 100) / 100,
        ratio: Math.round((batchedS / partS) * 10) / 10,
        deliveries_deleted: report.deliveries,
        partitions_dropped: report.dropped,
        bytes_after: { batched: batchedBytes, partitioned: await sizeOf(part.pool) },
      };
    } finally {
      await part.close();
    }
  } finally {
    for (const url of urls) await dropDatabase(url).catch(() => {});
  }
}
