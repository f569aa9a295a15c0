import type pg from "pg";
import type { DeliveryStatus } from "../schema/deliveries";

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
}

interface OpenedRow {
  attempt_count: number;
  run_base_attempt: number;
  event_id: string;
  source_id: string;
  event_type: string | null;
  received_at: Date;
  content_type: string | null;
  body: Buffer;
}

/**
 * Counts and logs the start of an attempt, unless the delivery is already final or the job
 * belongs to a run that a manual retry has superseded (then null: the job has nothing to do).
 * The attempt row is written before the request is sent, so a worker killed mid-request
 * still leaves a row for the try.
 */
export async function openAttempt(
  pool: pg.Pool,
  deliveryId: string,
  runNumber: number,
  attemptId: string,
): Promise<OpenedAttempt | null> {
  const result = await pool.query<OpenedRow>(
    `with d as (
       update deliveries set attempt_count = attempt_count + 1, next_attempt_at = null, updated_at = now()
       where id = $1 and run_number = $2 and status in ('pending', 'retrying')
       returning id, event_id, attempt_count, run_base_attempt
     ), a as (
       insert into delivery_attempts (id, delivery_id, attempt_number, started_at)
       select $3, d.id, d.attempt_count, now() from d
     )
     select d.attempt_count, d.run_base_attempt, e.id as event_id, e.source_id, e.event_type, e.received_at,
            e.content_type, e.body
     from d join events e on e.id = d.event_id`,
    [deliveryId, runNumber, attemptId],
  );
  const row = result.rows[0];
  if (!row) return null;
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
  };
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

/** Records the outcome of an attempt and moves the delivery on, in one statement. */
export async function closeAttempt(pool: pg.Pool, r: AttemptResult): Promise<void> {
  await pool.query(
    `with a as (
       update delivery_attempts set duration_ms = $2, status_code = $3, response_body = $4, error = $5
       where id = $1
     )
     update deliveries set status = $7, last_status_code = $3, last_error = $5, next_attempt_at = $8,
       updated_at = now(), succeeded_at = case when $7 = 'succeeded' then now() else succeeded_at end
     where id = $6 and run_number = $9`,
    [
      r.attemptId,
      r.durationMs,
      r.statusCode,
      r.responseBody,
      r.error,
      r.deliveryId,
      r.status,
      r.nextAttemptAt,
      r.runNumber,
    ],
  );
}

/** When a circuit is open, the delivery waits: record when it will be tried again. */
export async function postponeDelivery(
  pool: pg.Pool,
  deliveryId: string,
  nextAttemptAt: Date,
): Promise<void> {
  await pool.query("update deliveries set next_attempt_at = $2, updated_at = now() where id = $1", [
    deliveryId,
    nextAttemptAt,
  ]);
}
