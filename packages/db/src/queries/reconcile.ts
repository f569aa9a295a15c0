// What the worker's reconciler reads and writes: live deliveries that may have lost their queue
// job (a crash or a Redis failure between the commit that created or re-armed them and their
// enqueue), and deliveries to a target that is no longer configured.
import type pg from "pg";
import { IS_LIVE } from "./found-by-id";

export interface LiveDelivery {
  readonly id: string;
  readonly targetId: string;
  readonly runNumber: number;
  /** When it became due: its next_attempt_at, or its last change when it has none. */
  readonly dueSince: Date;
  readonly updatedAt: Date;
}

/** Where a sweep stopped, so the next one goes on from there instead of re-reading the same rows. */
export interface SweepPosition {
  readonly updatedAt: Date;
  readonly id: string;
}

interface LiveRow {
  id: string;
  target_id: string;
  run_number: number;
  due_since: Date;
  updated_at: Date;
}

/**
 * Live (pending or retrying) deliveries that have been due, untouched, for longer than `graceMs`
 * (held ordered deliveries have no job to lose: apps/worker/src/ordering.ts releases them),
 * oldest change first, after `after`. Served by deliveries_status_updated_idx.
 */
export async function dueLiveDeliveries(
  pool: pg.Pool,
  options: { readonly graceMs: number; readonly limit: number; readonly after: SweepPosition | null },
): Promise<LiveDelivery[]> {
  const result = await pool.query<LiveRow>(
    `select id, target_id, run_number, coalesce(next_attempt_at, updated_at) as due_since, updated_at
     from deliveries
     where status in ('pending', 'retrying') and not held
       and updated_at < now() - $1 * interval '1 millisecond'
       and (next_attempt_at is null or next_attempt_at < now() - $1 * interval '1 millisecond')
       and ($3::timestamptz is null or (updated_at, id) > ($3::timestamptz, $4::text))
     order by updated_at, id
     limit $2`,
    [options.graceMs, options.limit, options.after?.updatedAt ?? null, options.after?.id ?? null],
  );
  return result.rows.map((r) => ({
    id: r.id,
    targetId: r.target_id,
    runNumber: r.run_number,
    dueSince: r.due_since,
    updatedAt: r.updated_at,
  }));
}

/** The reason a delivery to a target that is no longer configured ends with. */
export const TARGET_REMOVED = "target_removed";

/** Ends live deliveries whose target is gone: `failed`, `last_error = 'target_removed'`. Returns how many. */
/** A delivery the reconciler ended as failed (target_removed). */
export interface RemovedTargetDelivery {
  readonly id: string;
  readonly targetId: string;
  readonly eventId: string;
}

export async function failRemovedTargetDeliveries(
  pool: pg.Pool,
  ids: readonly string[],
): Promise<RemovedTargetDelivery[]> {
  if (ids.length === 0) return [];
  const result = await pool.query<RemovedTargetDelivery>(
    `update deliveries set status = 'failed', last_error = '${TARGET_REMOVED}', next_attempt_at = null, updated_at = now()
     where id = any($1::text[]) and ${IS_LIVE("deliveries")}
     returning id, target_id as "targetId", event_id as "eventId"`,
    [ids],
  );
  return result.rows;
}
