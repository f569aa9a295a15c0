// Per-key ordering (routes[].ordering_key). An ordered delivery is created held. It is released,
// and only then gets an attempt or a job, once (1) every event the gateway accepted before its
// own is recorded (its `ordering_seq` is below the ingest floor, see packages/queue's
// ingest-floor.ts) and (2) no earlier delivery of its target and key is still live. Releasing
// re-checks both in the statement that releases, so a stale list of candidates, or two workers
// releasing at once, can never send a key out of order: the row lock lets one of them win.
import type pg from "pg";
import { type OpenedAttempt, type OpenedAttemptRow, toOpenedAttempt } from "./delivery";
import { IS_HELD } from "./found-by-id";
import { SENT_BODY, SENT_CONTENT_TYPE } from "./sent-body";

/**
 * No delivery of the same target and key that comes earlier in acceptance order is live: `d` is
 * its key's head. The one condition both the search for heads and the release itself check.
 *
 * A correlated LIMIT 1 sub-select, not NOT EXISTS, so that it is always a probe of
 * deliveries_ordering_idx on (target, key, seq < own), read backwards: the nearest earlier live
 * delivery, if any, is the first entry it meets. NOT EXISTS may be planned as an anti-join, and
 * with statistics taken while few ordered deliveries were live (see found-by-id.ts) Postgres
 * read the whole index for every candidate: quadratic in the backlog.
 */
const FIRST_LIVE_OF_ITS_KEY = (d: string) => `(
         select 1 from deliveries p
         where p.target_id = ${d}.target_id and p.ordering_key = ${d}.ordering_key
           and p.ordering_seq < ${d}.ordering_seq and p.status in ('pending', 'retrying')
         order by p.ordering_seq desc limit 1) is null`;

/** A held delivery that may be at the head of its key. */
export interface HeadCandidate {
  readonly id: string;
  readonly targetId: string;
  readonly runNumber: number;
  /** Its place in acceptance order (`ordering_seq`). */
  readonly seq: bigint;
}

export interface HeadCandidateRow {
  id: string;
  target_id: string;
  run_number: number;
  ordering_seq: string;
}

export function toHeadCandidate(row: HeadCandidateRow): HeadCandidate {
  return { id: row.id, targetId: row.target_id, runNumber: row.run_number, seq: BigInt(row.ordering_seq) };
}

/**
 * Held deliveries with `fromSeq <= ordering_seq < belowSeq` that nothing live precedes in their
 * key, in acceptance order: what the floor just passed. Reads every held row in the range.
 */
export async function heldHeads(
  pool: pg.Pool,
  range: { readonly fromSeq: bigint; readonly belowSeq: bigint; readonly limit: number },
): Promise<HeadCandidate[]> {
  const result = await pool.query<HeadCandidateRow>({
    name: "hookline_held_heads",
    text: `select d.id, d.target_id, d.run_number, d.ordering_seq from deliveries d
     where d.held and d.ordering_seq >= $1::bigint and d.ordering_seq < $2::bigint
       and ${FIRST_LIVE_OF_ITS_KEY("d")}
     order by d.ordering_seq
     limit $3`,
    values: [range.fromSeq.toString(), range.belowSeq.toString(), range.limit],
  });
  return result.rows.map(toHeadCandidate);
}

/**
 * The head of every key (the live delivery with the lowest `ordering_seq` of its target and
 * key) that is held and below `belowSeq`. Walks the keys, not the rows (one index probe per
 * live key), so a long backlog behind a failing head costs nothing here.
 */
export async function heldHeadsByKey(
  pool: pg.Pool,
  belowSeq: bigint,
  limit: number,
): Promise<HeadCandidate[]> {
  const result = await pool.query<HeadCandidateRow & { held: boolean }>({
    name: "hookline_held_heads_by_key",
    text: `with recursive heads as (
       (select target_id, ordering_key, ordering_seq, id, run_number, held from deliveries
        where ordering_key is not null and status in ('pending', 'retrying')
        order by target_id, ordering_key, ordering_seq limit 1)
       union all
       select n.target_id, n.ordering_key, n.ordering_seq, n.id, n.run_number, n.held from heads h
       cross join lateral (
         select target_id, ordering_key, ordering_seq, id, run_number, held from deliveries d
         where d.ordering_key is not null and d.status in ('pending', 'retrying')
           and (d.target_id, d.ordering_key) > (h.target_id, h.ordering_key)
         order by d.target_id, d.ordering_key, d.ordering_seq limit 1
       ) n
     )
     select id, target_id, run_number, ordering_seq, held from heads
     where held and ordering_seq < $1::bigint
     order by ordering_seq
     limit $2`,
    values: [belowSeq.toString(), limit],
  });
  return result.rows.map(toHeadCandidate);
}

/** Release one held delivery; with `attemptId`, also open its first attempt under a lease. */
export interface ReleaseRequest {
  readonly deliveryId: string;
  readonly attemptId: string | null;
  /** Until when the opened attempt counts as in flight (its `next_attempt_at`). */
  readonly leaseUntil: Date | null;
}

/** What releasing did: not released (null), released to be queued, or released with an attempt open. */
export type ReleaseResult =
  | null
  | { readonly kind: "queue"; readonly runNumber: number }
  | { readonly kind: "opened"; readonly runNumber: number; readonly attempt: OpenedAttempt };

interface ReleasedRow extends Omit<OpenedAttemptRow, "body"> {
  id: string;
  run_number: number;
  attempt_id: string | null;
  /** Only for a release that opened an attempt. */
  body: Buffer | null;
}

/**
 * Releases the requested deliveries that are still held, below `belowSeq`, and first in their
 * key among the live ones; opens the attempts asked for, in the same statement.
 */
export async function releaseHeads(
  pool: pg.Pool,
  requests: readonly ReleaseRequest[],
  belowSeq: bigint,
): Promise<ReleaseResult[]> {
  if (requests.length === 0) return [];
  const result = await pool.query<ReleasedRow>({
    name: "hookline_release_heads",
    text: `with input as (
       select * from unnest($1::text[], $2::text[], $3::timestamptz[]) as t(delivery_id, attempt_id, lease_until)
     ), d as (
       update deliveries set held = false, updated_at = now(),
         attempt_count = deliveries.attempt_count + case when input.attempt_id is null then 0 else 1 end,
         next_attempt_at = input.lease_until
       from input
       where deliveries.id = input.delivery_id and ${IS_HELD("deliveries")}
         and deliveries.ordering_seq < $4::bigint
         and ${FIRST_LIVE_OF_ITS_KEY("deliveries")}
       returning deliveries.id, deliveries.event_id, deliveries.target_id, deliveries.run_number,
                 deliveries.attempt_count, deliveries.run_base_attempt, deliveries.sent_body, input.attempt_id
     ), a as (
       insert into delivery_attempts (id, delivery_id, target_id, attempt_number, started_at)
       select d.attempt_id, d.id, d.target_id, d.attempt_count, now() from d where d.attempt_id is not null
     )
     select d.id, d.run_number, d.attempt_id, d.attempt_count, d.run_base_attempt, e.id as event_id, e.source_id,
            e.event_type, e.received_at, ${SENT_CONTENT_TYPE} as content_type,
            case when d.attempt_id is null then null else ${SENT_BODY} end as body, e.traceparent
     from d join events e on e.id = d.event_id`,
    values: [
      requests.map((r) => r.deliveryId),
      requests.map((r) => r.attemptId),
      requests.map((r) => r.leaseUntil?.toISOString() ?? null),
      belowSeq.toString(),
    ],
  });
  const byId = new Map(result.rows.map((row) => [row.id, row]));
  return requests.map((r): ReleaseResult => {
    const row = byId.get(r.deliveryId);
    if (!row) return null;
    if (row.attempt_id === null || row.body === null) return { kind: "queue", runNumber: row.run_number };
    return {
      kind: "opened",
      runNumber: row.run_number,
      attempt: toOpenedAttempt(row.attempt_id, { ...row, body: row.body }),
    };
  });
}
