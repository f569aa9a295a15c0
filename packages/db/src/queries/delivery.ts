// The writes of a delivery attempt. Each exists once, as a batch: concurrent deliveries share a
// statement and a commit (apps/worker/src/attempt-batch.ts), and a single call is a batch of one.
import type pg from "pg";
import type { DeliveryStatus } from "../schema/deliveries";
import { IS_LIVE, IS_LIVE_NOT_HELD } from "./found-by-id";
import { type HeadCandidate, type HeadCandidateRow, toHeadCandidate } from "./ordering";
import { SENT_BODY, SENT_CONTENT_TYPE } from "./sent-body";

/** Everything a delivery attempt needs, fetched in the same round trip that opens the attempt. */
export interface OpenedAttempt {
  readonly attemptId: string;
  readonly attemptNumber: number;
  /** 1-based number of this attempt within the current run (manual retries start a new run). */
  readonly attemptInRun: number;
  readonly eventId: string;
  readonly sourceId: string;
  readonly eventType: string | null;
  readonly receivedAt: Date;
  readonly contentType: string | null;
  readonly body: Buffer;
  /** The event's trace (W3C traceparent) when it was received with tracing on. */
  readonly traceparent: string | null;
}

/** The delivery is live but its next attempt is scheduled later: the job ran early. */
export interface NotDue {
  readonly notDueUntil: Date;
}

/**
 * What opening an attempt found: an opened attempt, not yet due, or null when the job has nothing
 * to do (the delivery is final, or its run was superseded by a manual retry).
 */
export type OpenResult = OpenedAttempt | NotDue | null;

export function isNotDue(result: OpenResult): result is NotDue {
  return result !== null && "notDueUntil" in result;
}

/** One attempt to open: which delivery, which run, the new attempt's id, and the caller's clock. */
export interface OpenRequest {
  readonly deliveryId: string;
  readonly runNumber: number;
  readonly attemptId: string;
  /** An attempt scheduled after this instant is not opened (a retry must not run early). */
  readonly now: Date;
}

interface OpenedRow extends OpenedAttemptRow {
  attempt_id: string;
  not_due_until: Date | null;
}

/**
 * Counts and logs the start of each attempt, in one statement, unless the delivery is already
 * final, the job belongs to a run that a manual retry has superseded, or the delivery's
 * `next_attempt_at` is still ahead (a job that BullMQ re-ran early, for instance after a failed
 * `moveToDelayed`, must not call the target before its schedule and its Retry-After). The
 * attempt row is written before the request is sent, so a worker killed mid-request still
 * leaves a row for the try.
 */
export async function openAttempts(pool: pg.Pool, requests: readonly OpenRequest[]): Promise<OpenResult[]> {
  if (requests.length === 0) return [];
  const result = await pool.query<OpenedRow>({
    name: "hookline_open_attempts",
    text: `with input as (
       select * from unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[]) as t(delivery_id, run_number, attempt_id, now)
     ), d as (
       update deliveries set attempt_count = attempt_count + 1, next_attempt_at = null, updated_at = now()
       from input
       where deliveries.id = input.delivery_id and deliveries.run_number = input.run_number
         and ${IS_LIVE_NOT_HELD("deliveries")}
         and (deliveries.next_attempt_at is null or deliveries.next_attempt_at <= input.now)
       returning deliveries.id, deliveries.event_id, deliveries.target_id, deliveries.attempt_count,
                 deliveries.run_base_attempt, deliveries.sent_body, input.attempt_id
     ), a as (
       insert into delivery_attempts (id, delivery_id, target_id, attempt_number, started_at)
       select d.attempt_id, d.id, d.target_id, d.attempt_count, now() from d
     )
     select d.attempt_id, null::timestamptz as not_due_until, d.attempt_count, d.run_base_attempt,
            e.id as event_id, e.source_id, e.event_type, e.received_at,
            ${SENT_CONTENT_TYPE} as content_type, ${SENT_BODY} as body, e.traceparent
     from d join events e on e.id = d.event_id
     union all
     select input.attempt_id, deliveries.next_attempt_at, null, null, null, null, null, null, null, null, null
     from deliveries join input on deliveries.id = input.delivery_id and deliveries.run_number = input.run_number
     where ${IS_LIVE("deliveries")} and deliveries.next_attempt_at > input.now`,
    values: [
      requests.map((r) => r.deliveryId),
      requests.map((r) => r.runNumber),
      requests.map((r) => r.attemptId),
      requests.map((r) => r.now.toISOString()),
    ],
  });
  const byAttempt = new Map(result.rows.map((row) => [row.attempt_id, row]));
  return requests.map((r): OpenResult => {
    const row = byAttempt.get(r.attemptId);
    if (!row) return null;
    if (row.not_due_until) return { notDueUntil: row.not_due_until };
    return toOpenedAttempt(r.attemptId, row);
  });
}

/** The columns every statement that opens an attempt returns, for the attempt it opened. */
export interface OpenedAttemptRow {
  attempt_count: number;
  run_base_attempt: number;
  event_id: string;
  source_id: string;
  event_type: string | null;
  received_at: Date;
  content_type: string | null;
  body: Buffer;
  traceparent: string | null;
}

export function toOpenedAttempt(attemptId: string, row: OpenedAttemptRow): OpenedAttempt {
  return {
    attemptId,
    attemptNumber: row.attempt_count,
    attemptInRun: row.attempt_count - row.run_base_attempt,
    eventId: row.event_id,
    sourceId: row.source_id,
    eventType: row.event_type,
    receivedAt: row.received_at,
    contentType: row.content_type,
    body: row.body,
    traceparent: row.traceparent,
  };
}

/** `openAttempts` for one attempt. */
export async function openAttempt(pool: pg.Pool, request: OpenRequest): Promise<OpenResult> {
  const [result] = await openAttempts(pool, [request]);
  return result ?? null;
}

export interface AttemptResult {
  readonly attemptId: string;
  readonly deliveryId: string;
  /**
   * The run the attempt belonged to. A manual retry during the attempt starts a new run; the
   * attempt's row is still completed, but it must not overwrite the new run's status.
   */
  readonly runNumber: number;
  readonly durationMs: number;
  readonly statusCode: number | null;
  readonly responseBody: string | null;
  readonly error: string | null;
  /** The delivery's state after this attempt. */
  readonly status: Exclude<DeliveryStatus, "pending">;
  readonly nextAttemptAt: Date | null;
}

/**
 * Records the outcome of each attempt and moves each delivery on, in one statement. For an
 * ordered delivery that became final, returns the next held delivery of its key: it may now be
 * released (`releaseHeads` checks again).
 */
export async function closeAttempts(
  pool: pg.Pool,
  results: readonly AttemptResult[],
): Promise<HeadCandidate[]> {
  if (results.length === 0) return [];
  const closed = await pool.query<HeadCandidateRow>({
    name: "hookline_close_attempts",
    text: `with input as (
       select * from unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::timestamptz[], $9::int[])
         as t(attempt_id, duration_ms, status_code, response_body, error, delivery_id, status, next_attempt_at, run_number)
     ), a as (
       update delivery_attempts set duration_ms = i.duration_ms, status_code = i.status_code,
         response_body = i.response_body, error = i.error
       from input i where delivery_attempts.id = i.attempt_id
     ), closed as (
       update deliveries set status = i.status, last_status_code = i.status_code, last_error = i.error,
         next_attempt_at = i.next_attempt_at, updated_at = now(),
         succeeded_at = case when i.status = 'succeeded' then now() else deliveries.succeeded_at end
       from input i where deliveries.id = i.delivery_id and deliveries.run_number = i.run_number
       returning deliveries.target_id, deliveries.ordering_key, deliveries.ordering_seq, deliveries.status
     )
     -- The statement's snapshot still shows the closed delivery live: look past it.
     select n.id, n.target_id, n.run_number, n.ordering_seq from closed c
     cross join lateral (
       select id, target_id, run_number, ordering_seq, held from deliveries n
       where n.target_id = c.target_id and n.ordering_key = c.ordering_key and n.ordering_seq > c.ordering_seq
         and n.status in ('pending', 'retrying')
       order by n.ordering_seq limit 1
     ) n
     where c.ordering_key is not null and c.status in ('succeeded', 'failed') and n.held`,
    values: [
      results.map((r) => r.attemptId),
      results.map((r) => r.durationMs),
      results.map((r) => r.statusCode),
      results.map((r) => r.responseBody),
      results.map((r) => r.error),
      results.map((r) => r.deliveryId),
      results.map((r) => r.status),
      results.map((r) => (r.nextAttemptAt ? r.nextAttemptAt.toISOString() : null)),
      results.map((r) => r.runNumber),
    ],
  });
  return closed.rows.map(toHeadCandidate);
}

/** `closeAttempts` for one attempt. */
export async function closeAttempt(pool: pg.Pool, result: AttemptResult): Promise<HeadCandidate[]> {
  return closeAttempts(pool, [result]);
}

/**
 * When a circuit is open, the delivery waits: record when it will be tried again. Only for the
 * run the job drives and while the delivery is live, so a stale job cannot stamp a time on a
 * delivery that is final or superseded. False: the job has nothing left to do.
 */
export async function postponeDelivery(
  pool: pg.Pool,
  deliveryId: string,
  runNumber: number,
  nextAttemptAt: Date,
): Promise<boolean> {
  const result = await pool.query(
    `update deliveries set next_attempt_at = $3, updated_at = now()
     where id = $1 and run_number = $2 and ${IS_LIVE("deliveries")}`,
    [deliveryId, runNumber, nextAttemptAt],
  );
  return (result.rowCount ?? 0) > 0;
}
