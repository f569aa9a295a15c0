import type pg from "pg";
import { transaction } from "../client";
import type { AuditHook } from "./audit";

export interface PurgeOptions {
  /** Events received before this are deleted, with their deliveries and attempts. null: keep. */
  readonly eventsBefore: Date | null;
  /** Attempt logs started before this are deleted. null: keep. */
  readonly attemptsBefore: Date | null;
  /** Rows per DELETE statement; each statement is its own short transaction. Default 5,000. */
  readonly batchSize?: number;
  /** Pause between batches so ingest and delivery get the database in between. Default 0. */
  readonly pauseMs?: number;
  /** Expired de-duplication keys are those with expires_at before this. Default: now. */
  readonly now?: Date;
  /** Called after each batch with what it deleted (logs, tests). */
  readonly onBatch?: (table: PurgeTable, deleted: number) => void;
  /**
   * Called in each deleting statement's transaction (and the first one's, even when it deletes
   * nothing) with the counts so far, so an audit row commits with every batch it counts.
   */
  readonly audit?: AuditHook<PurgeCounts>;
}

export type PurgeTable = "events" | "delivery_attempts" | "event_duplicates" | "dedupe_keys";

export type PurgeCounts = Record<PurgeTable, number>;

/**
 * Deletes old rows in small batches (`delete ... where id = any(array(select ... limit n))`,
 * an index look-up per id, never a scan of the table), so no
 * statement holds locks for long and ingest and delivery never stall behind a purge.
 *
 * - Events older than the cutoff go, with their deliveries and attempts, except events that
 *   still have a delivery in progress (pending or retrying).
 * - Attempt logs older than their own cutoff go, even when their event stays.
 * - Provider-duplicate receipts older than the events cutoff go.
 * - De-duplication keys go only once their window has passed (`expires_at`), whatever the
 *   events cutoff: de-duplication holds for its whole window even after the event is purged.
 */
export async function purgeOlderThan(pool: pg.Pool, options: PurgeOptions): Promise<PurgeCounts> {
  const batchSize = Math.max(1, options.batchSize ?? 5_000);
  // An event's cascade deletes its deliveries and attempts too: take fewer per statement.
  const eventBatch = Math.max(1, Math.floor(batchSize / 5));
  const counts: PurgeCounts = { events: 0, delivery_attempts: 0, event_duplicates: 0, dedupe_keys: 0 };
  const audit = options.audit;
  let audited = false;
  // A statement that deletes from several tables says how many rows of its own it deleted (`deleted`).
  const count = (result: pg.QueryResult<{ deleted?: number }>) =>
    result.rows[0]?.deleted ?? result.rowCount ?? 0;
  const run = async (table: PurgeTable, sql: string, params: unknown[]): Promise<number> => {
    if (audit === undefined) return count(await pool.query(sql, params));
    return transaction(pool, async (tx) => {
      const deleted = count(await tx.query(sql, params));
      if (deleted > 0 || !audited) await audit(tx, { ...counts, [table]: counts[table] + deleted });
      audited = true;
      return deleted;
    });
  };
  const loop = async (table: PurgeTable, size: number, sql: string, params: unknown[]) => {
    for (;;) {
      const deleted = await run(table, sql, params);
      counts[table] += deleted;
      if (deleted > 0) options.onBatch?.(table, deleted);
      if (deleted < size) return;
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };

  /** Rows of `table` whose `column` is before `before`, oldest first, by their id. */
  const oldest = (table: "delivery_attempts" | "event_duplicates", column: string, before: Date) =>
    loop(
      table,
      batchSize,
      `delete from ${table} where id = any(array(
         select id from ${table} where ${column} < $1 order by ${column} limit ${batchSize}
       ))`,
      [before],
    );

  if (options.attemptsBefore) await oldest("delivery_attempts", "started_at", options.attemptsBefore);
  if (options.eventsBefore) {
    await loop(
      "events",
      eventBatch,
      // Deliveries and attempts are deleted by name, not left to ON DELETE CASCADE: a
      // partitioned install has no foreign keys (see partitioning.ts), and on one that has, the
      // cascade then finds nothing left to do.
      `with gone as (
         delete from events where id = any(array(
           select e.id from events e
           where e.received_at < $1
             and not exists (
               select 1 from deliveries d where d.event_id = e.id and d.status in ('pending', 'retrying')
             )
           order by e.received_at nulls first -- the received_at index, read backwards
           limit ${eventBatch}
         ))
         returning id
       ), gone_deliveries as (
         delete from deliveries where event_id = any(array(select id from gone)) returning id
       ), gone_attempts as (
         delete from delivery_attempts where delivery_id = any(array(select id from gone_deliveries))
       )
       select count(*)::int as deleted from gone`,
      [options.eventsBefore],
    );
    await oldest("event_duplicates", "received_at", options.eventsBefore);
  }
  // Re-checking expires_at in the outer DELETE keeps a key that was re-claimed (its window
  // renewed, so a new row version at another ctid) between the inner select and the delete.
  await loop(
    "dedupe_keys",
    batchSize,
    `delete from dedupe_keys where ctid = any(array(
       select ctid from dedupe_keys where expires_at < $1 order by expires_at limit ${batchSize}
     )) and expires_at < $1`,
    [options.now ?? new Date()],
  );
  return counts;
}
