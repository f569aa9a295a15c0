// What ops ask of the database: list events and deliveries (filters, keyset pagination),
// look one up, retry deliveries (one, or many by filter, in batches) and replay an event.
// Every list is served by an index; see docs/sql-cookbook.md and the EXPLAIN test.
import { eq } from "drizzle-orm";
import type pg from "pg";
import { type Db, type Queryable, transaction } from "../client";
import { DELIVERY_STATUSES, type DeliveryStatus, deliveries } from "../schema/deliveries";
import type { AuditHook } from "./audit";
import { type DeliveryBody, TRANSFORM_ERROR } from "./ingest";
import { newestFirst, type Page, Where } from "./page";
import { type AttemptRow, attemptsOf, type DeliveryRow } from "./read";

export { DEFAULT_PAGE_SIZE, InvalidCursorError, MAX_PAGE_SIZE, type Page } from "./page";

// ---------------------------------------------------------------------------------------------
// events

export interface EventFilters {
  readonly source?: string;
  readonly type?: string;
  /** The provider's own id for the event (`webhook-id`, `X-GitHub-Delivery`, `evt_...`). */
  readonly providerId?: string;
  /** received_at >= since */
  readonly since?: Date;
  /** received_at < until */
  readonly until?: Date;
  /** Only events with a delivery in one of these statuses (and to `target`, when given). */
  readonly status?: readonly DeliveryStatus[];
  /** Only events with a delivery to this target. */
  readonly target?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface DeliveryCounts {
  readonly pending: number;
  readonly retrying: number;
  readonly succeeded: number;
  readonly failed: number;
}

export interface EventSummary {
  readonly id: string;
  readonly sourceId: string;
  readonly eventType: string | null;
  readonly providerId: string | null;
  readonly receivedAt: Date;
  readonly contentType: string | null;
  readonly bodySize: number;
  readonly duplicateCount: number;
  readonly deliveries: DeliveryCounts;
}

interface EventSummaryRow {
  id: string;
  source_id: string;
  event_type: string | null;
  provider_id: string | null;
  received_at: Date;
  content_type: string | null;
  body_size: number;
  duplicate_count: number;
  pending: number;
  retrying: number;
  succeeded: number;
  failed: number;
}

/** Newest first, keyset-paginated on (received_at desc, id desc). */
export async function listEvents(pool: pg.Pool, filters: EventFilters = {}): Promise<Page<EventSummary>> {
  const w = new Where();
  if (filters.source !== undefined) w.add(`e.source_id = ${w.param(filters.source)}`);
  if (filters.type !== undefined) w.add(`e.event_type = ${w.param(filters.type)}`);
  if (filters.providerId !== undefined) w.add(`e.provider_id = ${w.param(filters.providerId)}`);
  if (filters.since !== undefined) w.add(`e.received_at >= ${w.param(filters.since)}`);
  if (filters.until !== undefined) w.add(`e.received_at < ${w.param(filters.until)}`);
  if (filters.status !== undefined || filters.target !== undefined) {
    const match: string[] = ["x.event_id = e.id"];
    if (filters.status !== undefined) match.push(`x.status = any(${w.param(filters.status)}::text[])`);
    if (filters.target !== undefined) match.push(`x.target_id = ${w.param(filters.target)}`);
    w.add(`exists (select 1 from deliveries x where ${match.join(" and ")})`);
  }
  const query = {
    columns: `e.id, e.source_id, e.event_type, e.provider_id, e.received_at, e.content_type,
              octet_length(e.body)::int as body_size, e.duplicate_count,
              coalesce(c.pending, 0)::int as pending, coalesce(c.retrying, 0)::int as retrying,
              coalesce(c.succeeded, 0)::int as succeeded, coalesce(c.failed, 0)::int as failed`,
    from: `events e
           left join lateral (
             select count(*) filter (where d.status = 'pending') as pending,
                    count(*) filter (where d.status = 'retrying') as retrying,
                    count(*) filter (where d.status = 'succeeded') as succeeded,
                    count(*) filter (where d.status = 'failed') as failed
             from deliveries d where d.event_id = e.id
           ) c on true`,
    at: "e.received_at",
    id: "e.id",
  };
  return newestFirst<EventSummaryRow, EventSummary>(pool, query, w, filters, (r) => ({
    id: r.id,
    sourceId: r.source_id,
    eventType: r.event_type,
    providerId: r.provider_id,
    receivedAt: r.received_at,
    contentType: r.content_type,
    bodySize: r.body_size,
    duplicateCount: r.duplicate_count,
    deliveries: { pending: r.pending, retrying: r.retrying, succeeded: r.succeeded, failed: r.failed },
  }));
}

// ---------------------------------------------------------------------------------------------
// deliveries

export interface DeliveryFilters {
  /** One status or several (any of them). */
  readonly status?: readonly DeliveryStatus[];
  readonly target?: string;
  readonly source?: string;
  readonly eventId?: string;
  /** updated_at >= since: the delivery's last change (its last attempt, retry or success). */
  readonly since?: Date;
  /** updated_at < until */
  readonly until?: Date;
}

export interface DeliveryListFilters extends DeliveryFilters {
  readonly limit?: number;
  readonly cursor?: string;
}

export function isDeliveryStatus(value: string): value is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly string[]).includes(value);
}

interface DeliveryDbRow {
  id: string;
  event_id: string;
  target_id: string;
  source_id: string;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  run_number: number;
  run_base_attempt: number;
  created_at: Date;
  updated_at: Date;
  succeeded_at: Date | null;
  ordering_key: string | null;
  ordering_seq: string | null;
  held: boolean;
  sent_body: Buffer | null;
}

const DELIVERY_COLUMNS = `d.id, d.event_id, d.target_id, d.source_id, d.status, d.attempt_count, d.next_attempt_at,
  d.last_status_code, d.last_error, d.run_number, d.run_base_attempt, d.created_at, d.updated_at, d.succeeded_at,
  d.ordering_key, d.ordering_seq, d.held, d.sent_body`;

function toDeliveryRow(r: DeliveryDbRow): DeliveryRow {
  return {
    id: r.id,
    eventId: r.event_id,
    targetId: r.target_id,
    sourceId: r.source_id,
    status: r.status,
    attemptCount: r.attempt_count,
    nextAttemptAt: r.next_attempt_at,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    runNumber: r.run_number,
    runBaseAttempt: r.run_base_attempt,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    succeededAt: r.succeeded_at,
    orderingKey: r.ordering_key,
    orderingSeq: r.ordering_seq === null ? null : BigInt(r.ordering_seq),
    held: r.held,
    sentBody: r.sent_body,
  };
}

function deliveryWhere(w: Where, filters: DeliveryFilters): void {
  const statuses = filters.status;
  if (statuses !== undefined && statuses.length === 1) w.add(`d.status = ${w.param(statuses[0])}`);
  else if (statuses !== undefined && statuses.length > 1)
    w.add(`d.status = any(${w.param(statuses)}::text[])`);
  if (filters.target !== undefined) w.add(`d.target_id = ${w.param(filters.target)}`);
  if (filters.source !== undefined) w.add(`d.source_id = ${w.param(filters.source)}`);
  if (filters.eventId !== undefined) w.add(`d.event_id = ${w.param(filters.eventId)}`);
  if (filters.since !== undefined) w.add(`d.updated_at >= ${w.param(filters.since)}`);
  if (filters.until !== undefined) w.add(`d.updated_at < ${w.param(filters.until)}`);
}

/** Most recently changed first, keyset-paginated on (updated_at desc, id desc). */
export async function listDeliveries(
  pool: pg.Pool,
  filters: DeliveryListFilters = {},
): Promise<Page<DeliveryRow>> {
  const w = new Where();
  deliveryWhere(w, filters);
  const query = { columns: DELIVERY_COLUMNS, from: "deliveries d", at: "d.updated_at", id: "d.id" };
  return newestFirst<DeliveryDbRow, DeliveryRow>(pool, query, w, filters, toDeliveryRow);
}

/** How many deliveries the filters select (for a dry run of a bulk retry). */
export async function countDeliveries(pool: pg.Pool, filters: DeliveryFilters): Promise<number> {
  const w = new Where();
  deliveryWhere(w, filters);
  const result = await pool.query<{ n: string }>(
    `select count(*) as n from deliveries d ${w.sql()}`,
    w.params,
  );
  return Number(result.rows[0]?.n ?? 0);
}

export interface DeliveryDetail {
  readonly delivery: DeliveryRow;
  readonly attempts: readonly AttemptRow[];
}

/** One delivery with every attempt of every run, oldest first. */
export async function getDeliveryDetail(db: Db, deliveryId: string): Promise<DeliveryDetail | null> {
  const [delivery] = await db.select().from(deliveries).where(eq(deliveries.id, deliveryId));
  if (!delivery) return null;
  return { delivery, attempts: await attemptsOf(db, [deliveryId]) };
}

// ---------------------------------------------------------------------------------------------
// retry and replay

/** A delivery run ready to be queued: the job is `{ deliveryId: id, runNumber }`. */
export interface QueuedRun {
  readonly id: string;
  readonly targetId: string;
  readonly runNumber: number;
}

interface RunRow {
  id: string;
  target_id: string;
  run_number: number;
}

const toRun = (r: RunRow): QueuedRun => ({ id: r.id, targetId: r.target_id, runNumber: r.run_number });

/**
 * Starts a new run of a delivery: back to `pending`, run_number + 1, and the run's attempt
 * budget counted from the attempts already made, so history is kept and numbering goes on.
 */
const START_RUN = `status = 'pending', run_number = d.run_number + 1, run_base_attempt = d.attempt_count,
  next_attempt_at = now(), last_error = null, updated_at = now()`;

export type RetryDeliveryOutcome =
  | { readonly kind: "retried"; readonly run: QueuedRun }
  | { readonly kind: "not_found" }
  | { readonly kind: "not_allowed"; readonly status: DeliveryStatus; readonly targetId: string }
  /** Its route's transform failed, so it has nothing to send: a replay applies the transform again. */
  | { readonly kind: "transform_failed" };

/**
 * A delivery whose transform failed has no body to send (the event's own bytes are not what its
 * target expects): it is never retried, only replayed.
 */
const SENDABLE = `not (d.sent_body is null and coalesce(d.last_error, '') like '${TRANSFORM_ERROR}:%')`;

/**
 * Retries one delivery when its status is in `allowed` and its target in `targets`. The check
 * and the update are one statement, so a delivery that changes meanwhile is never retried
 * from a state the caller did not allow.
 */
export async function retryDelivery(
  pool: pg.Pool,
  deliveryId: string,
  allowed: readonly DeliveryStatus[],
  targets: readonly string[],
  audit?: AuditHook<QueuedRun>,
): Promise<RetryDeliveryOutcome> {
  // The audit row commits with the change or not at all.
  const run = await transaction(pool, async (tx) => {
    const updated = await tx.query<RunRow>(
      `update deliveries d set ${START_RUN}
       where d.id = $1 and d.status = any($2::text[]) and d.target_id = any($3::text[]) and ${SENDABLE}
       returning d.id, d.target_id, d.run_number`,
      [deliveryId, allowed, targets],
    );
    const row = updated.rows[0];
    if (!row) return null;
    const run = toRun(row);
    await audit?.(tx, run);
    return run;
  });
  if (run) return { kind: "retried", run };
  const current = await pool.query<{ status: DeliveryStatus; target_id: string; sendable: boolean }>(
    `select status, target_id, ${SENDABLE} as sendable from deliveries d where id = $1`,
    [deliveryId],
  );
  const found = current.rows[0];
  if (!found) return { kind: "not_found" };
  if (!found.sendable) return { kind: "transform_failed" };
  return { kind: "not_allowed", status: found.status, targetId: found.target_id };
}

export interface BulkRetryOptions {
  /** Only deliveries to these targets are retried (the configured ones). */
  readonly targets: readonly string[];
  readonly batchSize?: number;
  /** Called with each batch after it is committed; queue it before the next batch starts. */
  readonly onBatch: (runs: readonly QueuedRun[]) => Promise<void>;
  /**
   * Called in each batch's transaction with the total retried so far (the first batch's even
   * when it found nothing), so an audit row commits with every batch it counts.
   */
  readonly audit?: AuditHook<number>;
}

/**
 * Retries every delivery the filters select, in batches: each batch is one UPDATE ... RETURNING
 * over at most `batchSize` rows, walked in id order (keyset), so memory stays flat whatever the
 * count and a delivery that fails again during the walk is not retried twice.
 */
export async function retryDeliveries(
  pool: pg.Pool,
  filters: DeliveryFilters,
  options: BulkRetryOptions,
): Promise<number> {
  const batchSize = options.batchSize ?? 1_000;
  let after = "";
  let total = 0;
  for (let batch = 0; ; batch++) {
    const w = new Where();
    deliveryWhere(w, filters);
    w.add(`d.target_id = any(${w.param(options.targets)}::text[])`);
    w.add(SENDABLE);
    w.add(`d.id > ${w.param(after)}`);
    const retryBatch = async (tx: Queryable): Promise<QueuedRun[]> => {
      const result = await tx.query<RunRow>(
        `with batch as (
           select d.id from deliveries d ${w.sql()} order by d.id limit ${batchSize}
         )
         update deliveries d set ${START_RUN}
         from batch where d.id = batch.id
         returning d.id, d.target_id, d.run_number`,
        w.params,
      );
      if (result.rows.length > 0 || batch === 0) await options.audit?.(tx, total + result.rows.length);
      return result.rows.map(toRun);
    };
    // A transaction only when there is an audit row to commit with the batch.
    const runs = await (options.audit ? transaction(pool, retryBatch) : retryBatch(pool));
    if (runs.length === 0) return total;
    total += runs.length;
    await options.onBatch(runs);
    for (const r of runs) if (r.id > after) after = r.id;
  }
}

/** One replay delivery: its target and, when its route transforms, what the transform made. */
export interface PlannedReplay {
  readonly id: string;
  readonly targetId: string;
  readonly body?: DeliveryBody | null;
}

/**
 * New deliveries (run 1) of an existing event to the given targets; null when the event is gone.
 * Returns the runs to queue: a delivery whose transform failed is created failed, not queued.
 */
export async function createReplayDeliveries(
  pool: pg.Pool,
  eventId: string,
  planned: readonly PlannedReplay[],
  audit?: AuditHook<readonly QueuedRun[]>,
): Promise<QueuedRun[] | null> {
  if (audit === undefined) return insertReplayDeliveries(pool, eventId, planned);
  return transaction(pool, async (tx) => {
    const runs = await insertReplayDeliveries(tx, eventId, planned);
    if (runs !== null) await audit(tx, runs);
    return runs;
  });
}

async function insertReplayDeliveries(
  q: Queryable,
  eventId: string,
  planned: readonly PlannedReplay[],
): Promise<QueuedRun[] | null> {
  const failed = (p: PlannedReplay) =>
    p.body && "failed" in p.body ? `${TRANSFORM_ERROR}: ${p.body.failed}` : null;
  const result = await q.query<RunRow & { status: DeliveryStatus }>(
    `insert into deliveries (id, event_id, target_id, source_id, status, created_at, updated_at, sent_body, last_error)
     select p.id, e.id, p.target_id, e.source_id, case when p.failed is null then 'pending' else 'failed' end,
            now(), now(), p.sent_body, p.failed
     from events e, unnest($2::text[], $3::text[], $4::bytea[], $5::text[]) as p(id, target_id, sent_body, failed)
     where e.id = $1
     returning id, target_id, run_number, status`,
    [
      eventId,
      planned.map((p) => p.id),
      planned.map((p) => p.targetId),
      planned.map((p) => (p.body && "sent" in p.body ? p.body.sent : null)),
      planned.map(failed),
    ],
  );
  if (result.rows.length === 0 && planned.length > 0) return null;
  return result.rows.filter((r) => r.status === "pending").map(toRun);
}

/** What routing reads of a stored event (its filters see its headers and body). */
export interface EventRouting {
  readonly sourceId: string;
  readonly eventType: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** The fields replay needs to route an event again. */
export async function getEventRouting(pool: pg.Pool, eventId: string): Promise<EventRouting | null> {
  const result = await pool.query<{
    source_id: string;
    event_type: string | null;
    headers: Record<string, string>;
    body: Buffer;
  }>("select source_id, event_type, headers, body from events where id = $1", [eventId]);
  const row = result.rows[0];
  return row
    ? { sourceId: row.source_id, eventType: row.event_type, headers: row.headers, body: row.body }
    : null;
}
