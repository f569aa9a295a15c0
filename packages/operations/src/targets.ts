// Targets as operators see and steer them: configured target, stored pause state, circuit (when
// a worker runs in this process), and the deliveries waiting for it. Pause and resume write the
// state to Postgres (it outlives every process) and pause or resume the target's queue at once;
// each worker also re-reads the state every half second (apps/worker/src/target-control.ts), so
// a pause whose queue write failed still takes hold.
import type { Destination, TargetConfig } from "@hookline/config";
import {
  type AuditActor,
  insertAudit,
  setTargetPaused,
  type TargetState,
  targetBacklogs,
  targetStates,
} from "@hookline/db";
import type { CircuitState } from "@hookline/metrics";
import { deliveryQueueName } from "@hookline/queue";
import { displayUrl } from "@hookline/redact";
import { textProblem } from "./filters";
import type { AdminContext } from "./operations";

export interface TargetView {
  readonly id: string;
  readonly type: Destination["kind"];
  /** As the dashboard shows it: no credentials, no query string, configured secrets redacted. */
  readonly url: string;
  readonly paused: boolean;
  readonly pausedAt: Date | null;
  readonly pausedReason: string | null;
  /** null when no worker runs in this process (the circuit lives in each worker). */
  readonly circuit: CircuitState | null;
  readonly backlog: number;
  readonly oldestPendingAt: Date | null;
}

export interface TargetJson {
  readonly id: string;
  readonly type: Destination["kind"];
  readonly url: string;
  readonly paused: boolean;
  readonly paused_at: string | null;
  readonly paused_reason: string | null;
  readonly circuit: CircuitState | null;
  readonly backlog: number;
  readonly oldest_pending_at: string | null;
}

/** A pause reason is for people: one line, at most this long. */
export const MAX_PAUSE_REASON = 500;

/**
 * A pause's optional reason as the API, the dashboard and the CLI take it: a string of one line
 * and at most MAX_PAUSE_REASON characters; absent or blank is no reason.
 */
export function readPauseReason(
  value: unknown,
): { readonly ok: true; readonly reason: string | null } | { readonly ok: false; readonly message: string } {
  if (value === undefined || value === null) return { ok: true, reason: null };
  if (typeof value !== "string") return { ok: false, message: "reason must be a string" };
  const problem = textProblem(value);
  if (problem) return { ok: false, message: `reason: ${problem}` };
  if (value.length > MAX_PAUSE_REASON)
    return { ok: false, message: `reason: at most ${MAX_PAUSE_REASON} characters` };
  return { ok: true, reason: value.trim() === "" ? null : value };
}

function view(
  ctx: AdminContext,
  target: TargetConfig,
  state: TargetState | undefined,
  backlog: { backlog: number; oldestPendingAt: Date | null } | undefined,
  circuit: CircuitState | null,
): TargetView {
  return {
    id: target.id,
    type: target.destination.kind,
    url: ctx.redactor.text(displayUrl(target.url)),
    paused: state?.paused ?? false,
    pausedAt: state?.pausedAt ?? null,
    pausedReason: state?.pausedReason ?? null,
    circuit,
    backlog: backlog?.backlog ?? 0,
    oldestPendingAt: backlog?.oldestPendingAt ?? null,
  };
}

export function targetJson(t: TargetView): TargetJson {
  return {
    id: t.id,
    type: t.type,
    url: t.url,
    paused: t.paused,
    paused_at: t.pausedAt?.toISOString() ?? null,
    paused_reason: t.pausedReason,
    circuit: t.circuit,
    backlog: t.backlog,
    oldest_pending_at: t.oldestPendingAt?.toISOString() ?? null,
  };
}

/** Every configured target, in config order. */
export async function listTargets(ctx: AdminContext): Promise<TargetView[]> {
  const [states, backlogs] = await Promise.all([
    targetStates(ctx.database.pool),
    targetBacklogs(ctx.database.pool),
  ]);
  return ctx.config.targets.map((t) =>
    view(ctx, t, states.get(t.id), backlogs.get(t.id), ctx.circuitState?.(t.id) ?? null),
  );
}

export async function getTarget(ctx: AdminContext, id: string): Promise<TargetView | null> {
  if (!ctx.config.targets.some((t) => t.id === id)) return null;
  return (await listTargets(ctx)).find((t) => t.id === id) ?? null;
}

/**
 * Pauses or resumes a configured target; null when there is no such target. The stored state
 * is what counts: if Redis does not take the queue's pause now, the workers apply it within a
 * second of their next read.
 */
export async function setPaused(
  ctx: AdminContext,
  actor: AuditActor,
  id: string,
  change: { readonly paused: true; readonly reason: string | null } | { readonly paused: false },
): Promise<TargetView | null> {
  if (!ctx.config.targets.some((t) => t.id === id)) return null;
  await setTargetPaused(ctx.database.pool, id, change, async (tx, state) => {
    await insertAudit(tx, {
      ...actor,
      action: change.paused ? "target.pause" : "target.resume",
      subject: id,
      details: change.paused ? { reason: state.pausedReason } : {},
    });
  });
  const queue = ctx.queues.queue(deliveryQueueName(id));
  await (change.paused ? queue.pause() : queue.resume()).catch(() => {});
  ctx.alerts?.raise(
    change.paused ? "target.paused" : "target.resumed",
    id,
    change.paused ? { reason: change.reason, by: actor.actor } : { by: actor.actor },
  );
  return getTarget(ctx, id);
}
