// Time partitions for `events` and `delivery_attempts` (retention.partitioning: daily | weekly).
//
// The partition key is `id`. Event and attempt ids are UUIDv7 (ids.ts): after the prefix, the
// first 12 hex digits are the millisecond the id was made, which for an event is its
// `received_at` and for an attempt its `started_at`. Ranging on the id, not on the time column,
// keeps the primary keys as they are (`id`, unique across partitions, as Postgres requires the
// partition key in every unique key), so every look-up by id prunes to one partition and the
// names, columns and keys SQL users know stay the same. `deliveries` stays one table: its
// fan-out ids are derived from (event, target) so that a re-run finds what it made, and carry no time.
//
// Dropping a partition cannot cascade, and a foreign key into a partition blocks the drop until
// Postgres has checked every referencing row; a cascade from `deliveries` into a partitioned
// `delivery_attempts` probes every partition per row. So conversion drops the two foreign keys
// (deliveries -> events, delivery_attempts -> deliveries) and retention removes rows in step:
// an events partition goes after its deliveries, and attempts go with their own partitions.
import type pg from "pg";
import { transaction } from "./client";

export type PartitionPeriod = "daily" | "weekly";

export const PARTITIONED_TABLES = [
  { table: "events", prefix: "evt" },
  { table: "delivery_attempts", prefix: "att" },
] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number]["table"];

/** The foreign keys a partitioned install does without (see above). */
const FOREIGN_KEYS = [
  { table: "deliveries", name: "deliveries_event_id_events_id_fk" },
  { table: "delivery_attempts", name: "delivery_attempts_delivery_id_deliveries_id_fk" },
] as const;

/** Partitions made ahead of today by default: a week of days, or four weeks. */
export const DEFAULT_AHEAD: Record<PartitionPeriod, number> = { daily: 7, weekly: 4 };

const DAY = 86_400_000;
const LIVE = "('pending', 'retrying')";

/** Start of the UTC day, or of the ISO week (Monday 00:00 UTC), that holds `ms`. */
export function periodStart(ms: number, period: PartitionPeriod): number {
  const day = Math.floor(ms / DAY) * DAY;
  if (period === "daily") return day;
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday * DAY;
}

/** The first period boundary after `ms`. */
export function nextBoundary(ms: number, period: PartitionPeriod): number {
  return periodStart(ms, period) + (period === "daily" ? DAY : 7 * DAY);
}

/** The smallest id made at `ms`: the prefix and the 48-bit time, no random part. */
export function boundId(prefix: string, ms: number): string {
  return `${prefix}_${ms.toString(16).padStart(12, "0")}`;
}

function boundMs(bound: string): number | null {
  const hex = /^[a-z]+_([0-9a-f]{12})$/.exec(bound)?.[1];
  return hex === undefined ? null : Number.parseInt(hex, 16);
}

export interface PartitionInfo {
  readonly name: string;
  readonly isDefault: boolean;
  /** Lower bound (inclusive); null: MINVALUE (the partition that took an install's old rows). */
  readonly from: string | null;
  /** Upper bound (exclusive); null for the default partition. */
  readonly to: string | null;
  /** The time `to` stands for, in ms; null for the default partition. */
  readonly toMs: number | null;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

type Client = Pick<pg.Pool, "query"> | pg.PoolClient;

/** Whether each table is partitioned (relkind 'p'). A missing table counts as not. */
export async function partitionedTables(db: Client): Promise<Record<PartitionedTable, boolean>> {
  const rows = await db.query<{ name: PartitionedTable; partitioned: boolean }>(
    `select t.name, coalesce((select relkind = 'p' from pg_class where oid = to_regclass(t.name)), false) as partitioned
     from unnest($1::text[]) as t(name)`,
    [PARTITIONED_TABLES.map((t) => t.table)],
  );
  const state = { events: false, delivery_attempts: false };
  for (const row of rows.rows) state[row.name] = row.partitioned;
  return state;
}

export async function listPartitions(db: Client, table: PartitionedTable): Promise<PartitionInfo[]> {
  const rows = await db.query<{ name: string; bound: string }>(
    `select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
     from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = to_regclass($1) order by c.relname`,
    [table],
  );
  return rows.rows.map((row) => {
    if (row.bound === "DEFAULT") return { name: row.name, isDefault: true, from: null, to: null, toMs: null };
    const m = /^FOR VALUES FROM \((MINVALUE|'([^']*)')\) TO \((MAXVALUE|'([^']*)')\)$/.exec(row.bound);
    if (!m) throw new Error(`${row.name}: unexpected partition bound ${row.bound}`);
    const to = m[4] ?? null;
    return {
      name: row.name,
      isDefault: false,
      from: m[2] ?? null,
      to,
      toMs: to === null ? null : boundMs(to),
    };
  });
}

function partitionName(table: string, fromMs: number): string {
  return `${table}_p${new Date(fromMs).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

export interface ConvertOptions {
  readonly period: PartitionPeriod;
  readonly now?: Date;
  /** Periods made ahead of the current one; default DEFAULT_AHEAD[period]. */
  readonly ahead?: number;
  /** How long to wait for the tables' locks before giving up (the command can be re-run). Default 10 s. */
  readonly lockTimeoutMs?: number;
}

export interface ConvertReport {
  /** Tables converted by this run; empty when everything already was (a re-run). */
  readonly converted: PartitionedTable[];
  /** Partitions created ahead. */
  readonly created: string[];
}

/**
 * Makes `events` and `delivery_attempts` partitioned tables of the same names, columns, keys
 * and indexes. The existing table becomes one partition, `<table>_legacy`, holding every id
 * before the end of the current period: renamed and attached, never copied, so this takes a
 * scan to prove its bound (the CHECK that lets ATTACH skip its own) and no rewrite. Everything
 * happens in one transaction: a crash or a kill -9 leaves the install exactly as it was, and a
 * re-run of a finished conversion only makes partitions that are missing.
 */
export async function convertToPartitioned(pool: pg.Pool, options: ConvertOptions): Promise<ConvertReport> {
  const now = (options.now ?? new Date()).getTime();
  const converted: PartitionedTable[] = [];
  await transaction(pool, async (tx) => {
    await tx.query(`set local lock_timeout = ${Math.max(1, options.lockTimeoutMs ?? 10_000)}`);
    const state = await partitionedTables(tx);
    for (const fk of FOREIGN_KEYS)
      await tx.query(`alter table ${ident(fk.table)} drop constraint if exists ${ident(fk.name)}`);
    for (const { table, prefix } of PARTITIONED_TABLES) {
      if (state[table]) continue;
      const legacy = `${table}_legacy`;
      // Taken before the rename: they name the table as the new parent will be named.
      const indexes = await tx.query<{ name: string; def: string; primary: boolean }>(
        `select c.relname as name, pg_get_indexdef(i.indexrelid) as def, i.indisprimary as primary
         from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = to_regclass($1)`,
        [table],
      );
      // The overview's statistics triggers (migration 0010), as they name the table: a statement
      // trigger fires only for the table a statement names, so they move to the new parent.
      const triggers = await tx.query<{ name: string; def: string }>(
        `select tgname as name, pg_get_triggerdef(oid) as def
         from pg_trigger where tgrelid = to_regclass($1) and not tgisinternal`,
        [table],
      );
      await tx.query(`lock table ${ident(table)} in access exclusive mode`);
      await tx.query(`alter table ${ident(table)} rename to ${ident(legacy)}`);
      for (const index of indexes.rows) {
        if (index.primary)
          await tx.query(
            `alter table ${ident(legacy)} rename constraint ${ident(index.name)} to ${ident(`${legacy}_pkey`)}`,
          );
        else await tx.query(`alter index ${ident(index.name)} rename to ${ident(`${index.name}_legacy`)}`);
      }
      await tx.query(
        `create table ${ident(table)} (like ${ident(legacy)} including defaults including constraints
           including storage including comments) partition by range (id)`,
      );
      await tx.query(`alter table ${ident(table)} add constraint ${ident(`${table}_pkey`)} primary key (id)`);
      for (const index of indexes.rows) if (!index.primary) await tx.query(index.def);
      // Before rows move below: what leaves the legacy table (its triggers) and what arrives in
      // the parent (these) then cancel out in the statistics.
      for (const trigger of triggers.rows) await tx.query(trigger.def);
      await tx.query(`create table ${ident(`${table}_default`)} partition of ${ident(table)} default`);
      const bound = boundId(prefix, nextBoundary(now, options.period));
      // Ids at or after the bound (a clock ahead, a hand-made id) cannot stay in the legacy
      // partition: they move to the partition their id belongs to (the default one, here).
      await tx.query(
        `with moved as (delete from ${ident(legacy)} where id >= $1 returning *)
         insert into ${ident(table)} select * from moved`,
        [bound],
      );
      await tx.query(
        `alter table ${ident(legacy)} add constraint ${ident(`${legacy}_bound`)} check (id < ${literal(bound)})`,
      );
      await tx.query(
        `alter table ${ident(table)} attach partition ${ident(legacy)} for values from (minvalue) to (${literal(bound)})`,
      );
      for (const trigger of triggers.rows)
        await tx.query(`drop trigger ${ident(trigger.name)} on ${ident(legacy)}`);
      converted.push(table);
    }
  });
  for (const table of converted) await pool.query(`analyze ${ident(table)}`);
  const created = await ensurePartitions(pool, options);
  return { converted, created };
}

/**
 * Creates the partitions from the last one's end through `ahead` periods after the current
 * one. Rows that landed in the default partition meanwhile (the job did not run for longer than
 * it plans ahead) move into the partition made for them, so an insert never fails and no row is
 * left where retention cannot drop it.
 */
export async function ensurePartitions(pool: pg.Pool, options: ConvertOptions): Promise<string[]> {
  const now = (options.now ?? new Date()).getTime();
  const ahead = options.ahead ?? DEFAULT_AHEAD[options.period];
  const state = await partitionedTables(pool);
  const created: string[] = [];
  let horizon = periodStart(now, options.period);
  for (let n = 0; n <= ahead; n++) horizon = nextBoundary(horizon, options.period);
  for (const { table, prefix } of PARTITIONED_TABLES) {
    if (!state[table]) continue;
    const partitions = await listPartitions(pool, table);
    const defaultPartition = partitions.find((p) => p.isDefault)?.name ?? null;
    const ends = partitions.flatMap((p) => (p.toMs === null ? [] : [p.toMs]));
    let from = ends.length > 0 ? Math.max(...ends) : periodStart(now, options.period);
    while (from < horizon) {
      const to = nextBoundary(from, options.period);
      const name = partitionName(table, from);
      await createPartition(pool, {
        table,
        name,
        lo: boundId(prefix, from),
        hi: boundId(prefix, to),
        defaultPartition,
        lockTimeoutMs: options.lockTimeoutMs ?? 10_000,
      });
      created.push(name);
      from = to;
    }
  }
  return created;
}

async function createPartition(
  pool: pg.Pool,
  p: {
    table: string;
    name: string;
    lo: string;
    hi: string;
    defaultPartition: string | null;
    lockTimeoutMs: number;
  },
): Promise<void> {
  const range = `for values from (${literal(p.lo)}) to (${literal(p.hi)})`;
  await transaction(pool, async (tx) => {
    await tx.query(`set local lock_timeout = ${Math.max(1, p.lockTimeoutMs)}`);
    const stray =
      p.defaultPartition !== null &&
      (
        await tx.query(`select 1 from ${ident(p.defaultPartition)} where id >= $1 and id < $2 limit 1`, [
          p.lo,
          p.hi,
        ])
      ).rowCount !== 0;
    if (!stray) {
      await tx.query(`create table ${ident(p.name)} partition of ${ident(p.table)} ${range}`);
      return;
    }
    // The default partition holds rows of this range: move them into the new table, then attach
    // it (Postgres refuses a partition whose rows the default one still has).
    const from = ident(p.defaultPartition as string);
    await tx.query(`lock table ${from} in access exclusive mode`);
    await tx.query(
      `create table ${ident(p.name)} (like ${ident(p.table)} including defaults including constraints)`,
    );
    await tx.query(
      `with moved as (delete from ${from} where id >= $1 and id < $2 returning *)
       insert into ${ident(p.name)} select * from moved`,
      [p.lo, p.hi],
    );
    await tx.query(`alter table ${ident(p.table)} attach partition ${ident(p.name)} ${range}`);
  });
}

/** Rolls back a partition drop: a delivery of its events became live meanwhile. */
class BecameLive extends Error {}

export interface DropOptions {
  /** Events partitions whose whole range is before this go (with their deliveries). null: keep. */
  readonly eventsBefore: Date | null;
  /** Attempt partitions whose whole range is before this go. null: keep. */
  readonly attemptsBefore: Date | null;
  /** Deliveries per DELETE while a day's deliveries are removed. Default 10,000. */
  readonly batchSize?: number;
  readonly lockTimeoutMs?: number;
}

export interface DropReport {
  readonly dropped: string[];
  /** Partitions old enough that still hold an event with a delivery in progress. */
  readonly kept: string[];
  /** Deliveries deleted with the events partitions they belonged to. */
  readonly deliveries: number;
}

/**
 * Retention by partition. An attempts partition goes once its whole range is older than the
 * attempts cutoff. An events partition goes once its whole range is older than the events
 * cutoff and none of its events has a delivery in progress (the batched purge's promise: such
 * an event stays); its deliveries are deleted first, in batches, and the partition is dropped
 * in a short transaction that checks again that nothing became live meanwhile. What is kept
 * here is left to the batched purge, row by row, as on an unpartitioned install.
 */
export async function dropExpiredPartitions(pool: pg.Pool, options: DropOptions): Promise<DropReport> {
  const state = await partitionedTables(pool);
  const batch = Math.max(1, options.batchSize ?? 10_000);
  const lockTimeout = Math.max(1, options.lockTimeoutMs ?? 10_000);
  const dropped: string[] = [];
  const kept: string[] = [];
  let deliveries = 0;
  const expired = async (table: PartitionedTable, before: Date | null) =>
    before === null || !state[table]
      ? []
      : (await listPartitions(pool, table)).filter((p) => p.toMs !== null && p.toMs <= before.getTime());

  for (const p of await expired("delivery_attempts", options.attemptsBefore)) {
    await transaction(pool, async (tx) => {
      await tx.query(`set local lock_timeout = ${lockTimeout}`);
      await tx.query(`drop table ${ident(p.name)}`);
    });
    dropped.push(p.name);
  }
  for (const p of await expired("events", options.eventsBefore)) {
    const range = p.from === null ? "event_id < $1" : "event_id < $1 and event_id >= $2";
    const params = p.from === null ? [p.to] : [p.to, p.from];
    const anyLive = `select 1 from deliveries where status in ${LIVE} and ${range} limit 1`;
    if ((await pool.query(anyLive, params)).rowCount !== 0) {
      kept.push(p.name);
      continue;
    }
    for (;;) {
      const n =
        (
          await pool.query(
            `delete from deliveries where id = any(array(
               select id from deliveries where ${range} and status not in ${LIVE} limit ${batch}))`,
            params,
          )
        ).rowCount ?? 0;
      deliveries += n;
      if (n < batch) break;
    }
    const done = await transaction(pool, async (tx) => {
      await tx.query(`set local lock_timeout = ${lockTimeout}`);
      // Dropping takes the parent's lock, so no replay or retry can start on these events now;
      // one that did in between is seen here, and the partition stays (rolled back).
      await tx.query(`drop table ${ident(p.name)}`);
      if ((await tx.query(anyLive, params)).rowCount !== 0) throw new BecameLive();
      deliveries += (await tx.query(`delete from deliveries where ${range}`, params)).rowCount ?? 0;
      return true;
    }).catch((error: unknown) => {
      if (error instanceof BecameLive) return false;
      throw error;
    });
    (done ? dropped : kept).push(p.name);
  }
  return { dropped, kept, deliveries };
}

export interface MaintainOptions extends DropOptions {
  readonly period: PartitionPeriod;
  readonly now?: Date;
  readonly ahead?: number;
}

export interface MaintainReport extends DropReport {
  readonly created: string[];
}

/**
 * The retention job's part on a partitioned install: partitions ahead, then the expired ones
 * dropped. null when neither table is partitioned (nothing to do; the batched purge does it all).
 */
export async function maintainPartitions(
  pool: pg.Pool,
  options: MaintainOptions,
): Promise<MaintainReport | null> {
  const state = await partitionedTables(pool);
  if (!state.events && !state.delivery_attempts) return null;
  const created = await ensurePartitions(pool, options);
  return { created, ...(await dropExpiredPartitions(pool, options)) };
}
