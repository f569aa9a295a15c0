import type pg from "pg";
import type { AttemptResult, OpenedAttempt } from "./delivery";

/** One `openAttempt` call: which delivery, which run, and the new attempt's id. */
export interface OpenRequest {
  readonly deliveryId: string;
  readonly runNumber: number;
  readonly attemptId: string;
}

interface OpenedRow {
  delivery_id: string;
  attempt_id: string;
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
 * `openAttempt` for several deliveries in one statement (one round trip, one commit): the same
 * result, request by request, null where the delivery is already final or the run superseded.
 */
export async function openAttempts(
  pool: pg.Pool,
  requests: readonly OpenRequest[],
): Promise<(OpenedAttempt | null)[]> {
  if (requests.length === 0) return [];
  const result = await pool.query<OpenedRow>({
    name: "hookline_open_attempts",
    text: `with input as (
       select * from unnest($1::text[], $2::int[], $3::text[]) as t(delivery_id, run_number, attempt_id)
     ), d as (
       update deliveries set attempt_count = attempt_count + 1, next_attempt_at = null, updated_at = now()
       from input
       where deliveries.id = input.delivery_id and deliveries.run_number = input.run_number
         and deliveries.status in ('pending', 'retrying')
       returning deliveries.id, deliveries.event_id, deliveries.attempt_count, deliveries.run_base_attempt,
                 input.attempt_id
     ), a as (
       insert into delivery_attempts (id, delivery_id, attempt_number, started_at)
       select d.attempt_id, d.id, d.attempt_count, now() from d
     )
     select d.id as delivery_id, d.attempt_id, d.attempt_count, d.run_base_attempt, e.id as event_id, e.source_id,
            e.event_type, e.received_at, e.content_type, e.body
     from d join events e on e.id = d.event_id`,
    values: [
      requests.map((r) => r.deliveryId),
      requests.map((r) => r.runNumber),
      requests.map((r) => r.attemptId),
    ],
  });
  const byAttempt = new Map(result.rows.map((row) => [row.attempt_id, row]));
  return requests.map((r) => {
    const row = byAttempt.get(r.attemptId);
    if (!row) return null;
    return {
      attemptId: r.attemptId,
      attemptNumber: row.attempt_count,
      attemptInRun: row.attempt_count - row.run_base_attempt,
      eventId: row.event_id,
      sourceId: row.source_id,
      eventType: row.event_type,
      receivedAt: row.received_at,
      contentType: row.content_type,
      body: row.body,
    };
  });
}

/** `closeAttempt` for several attempts in one statement: each outcome recorded, each delivery moved on. */
export async function closeAttempts(pool: pg.Pool, results: readonly AttemptResult[]): Promise<void> {
  if (results.length === 0) return;
  await pool.query({
    name: "hookline_close_attempts",
    text: `with input as (
       select * from unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::timestamptz[], $9::int[])
         as t(attempt_id, duration_ms, status_code, response_body, error, delivery_id, status, next_attempt_at, run_number)
     ), a as (
       update delivery_attempts set duration_ms = i.duration_ms, status_code = i.status_code,
         response_body = i.response_body, error = i.error
       from input i where delivery_attempts.id = i.attempt_id
     )
     update deliveries set status = i.status, last_status_code = i.status_code, last_error = i.error,
       next_attempt_at = i.next_attempt_at, updated_at = now(),
       succeeded_at = case when i.status = 'succeeded' then now() else deliveries.succeeded_at end
     from input i where deliveries.id = i.delivery_id and deliveries.run_number = i.run_number`,
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
}
