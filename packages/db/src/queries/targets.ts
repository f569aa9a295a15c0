// Target state an operator controls (pause and resume), and what the targets' listing shows
// from the deliveries: how much waits and since when.
import type pg from "pg";
import { transaction } from "../client";
import type { AuditHook } from "./audit";

export interface TargetState {
  readonly targetId: string;
  readonly paused: boolean;
  readonly pausedAt: Date | null;
  readonly pausedReason: string | null;
}

export interface TargetBacklog {
  /** Deliveries not yet final (pending or retrying). */
  readonly backlog: number;
  /** When the oldest of them was created; null when none waits. */
  readonly oldestPendingAt: Date | null;
}

interface StateRow {
  target_id: string;
  paused: boolean;
  paused_at: Date | null;
  paused_reason: string | null;
}

const toState = (r: StateRow): TargetState => ({
  targetId: r.target_id,
  paused: r.paused,
  pausedAt: r.paused_at,
  pausedReason: r.paused_reason,
});

/** Every stored target state, by target id (a target with no row is not paused). */
export async function targetStates(pool: pg.Pool): Promise<Map<string, TargetState>> {
  const result = await pool.query<StateRow>({
    name: "hookline_target_states",
    text: "select target_id, paused, paused_at, paused_reason from target_states",
  });
  return new Map(result.rows.map((r) => [r.target_id, toState(r)]));
}

/**
 * Pauses (with an optional reason) or resumes a target. Pausing a paused target keeps its
 * first `paused_at` and takes the new reason when one is given; resuming clears both.
 */
export async function setTargetPaused(
  pool: pg.Pool,
  targetId: string,
  change: { readonly paused: true; readonly reason: string | null } | { readonly paused: false },
  audit?: AuditHook<TargetState>,
): Promise<TargetState> {
  return transaction(pool, async (tx) => {
    const state = await upsertTargetState(tx, targetId, change);
    await audit?.(tx, state);
    return state;
  });
}

async function upsertTargetState(
  q: pg.PoolClient,
  targetId: string,
  change: { readonly paused: true; readonly reason: string | null } | { readonly paused: false },
): Promise<TargetState> {
  const result = await q.query<StateRow>(
    `insert into target_states (target_id, paused, paused_at, paused_reason, updated_at)
     values ($1, $2, case when $2 then now() end, case when $2 then $3::text end, now())
     on conflict (target_id) do update set
       paused = excluded.paused,
       paused_at = case when excluded.paused then coalesce(target_states.paused_at, now()) end,
       paused_reason = case when excluded.paused then coalesce($3::text, target_states.paused_reason) end,
       updated_at = now()
     returning target_id, paused, paused_at, paused_reason`,
    [targetId, change.paused, change.paused ? change.reason : null],
  );
  return toState(result.rows[0] as StateRow);
}

/** Deliveries still to run per target, and the creation time of the oldest. */
export async function targetBacklogs(pool: pg.Pool): Promise<Map<string, TargetBacklog>> {
  const result = await pool.query<{ target_id: string; backlog: number; oldest: Date | null }>(
    `select target_id, count(*)::int as backlog, min(created_at) as oldest
     from deliveries where status in ('pending', 'retrying')
     group by target_id`,
  );
  return new Map(result.rows.map((r) => [r.target_id, { backlog: r.backlog, oldestPendingAt: r.oldest }]));
}
