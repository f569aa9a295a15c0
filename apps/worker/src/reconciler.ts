// Deliveries that are live in Postgres but have no job in Redis would wait forever: a crash, or
// Redis failing, between the commit that created (or re-armed) them and their enqueue leaves
// them so. The reconciler finds them in bounded sweeps and queues them again, with the run's
// fixed job id, so a delivery that did have a job still has exactly one, and several workers
// sweeping at once is harmless. Deliveries to a target that is no longer configured have no
// queue anyone works on: after a grace long enough for a rolling deploy, they fail as
// `target_removed` (visible, retryable once the target is back), and retention can purge them.
import type { WorkerConfig } from "@hookline/config";
import {
  type Database,
  dueLiveDeliveries,
  failRemovedTargetDeliveries,
  type LiveDelivery,
  type RemovedTargetDelivery,
  type SweepPosition,
} from "@hookline/db";
import type { Logger } from "@hookline/logger";
import { type DeliveryJob, deliveryJobId, deliveryJobsByQueue, deliveryQueueName } from "@hookline/queue";
import type { Queue } from "bullmq";
import { runEvery } from "./periodic";

export interface ReconcilerDeps {
  readonly pool: Database["pool"];
  /** The queue of each configured target, by target id. */
  readonly queues: ReadonlyMap<string, Queue<DeliveryJob>>;
  readonly settings: Pick<
    WorkerConfig,
    "reconcileIntervalMs" | "reconcileBatch" | "reconcileGraceMs" | "removedTargetGraceMs"
  >;
  readonly logger: Logger;
  readonly now: () => number;
  readonly onReconciled?: (targetId: string, count: number) => void;
  /** Deliveries just ended as failed (target_removed): counted, and each a delivery.failed alert. */
  readonly onTargetRemoved?: (ended: readonly RemovedTargetDelivery[]) => void;
}

export interface SweepResult {
  readonly examined: number;
  readonly requeued: number;
  readonly removedTarget: number;
}

export interface Reconciler {
  /** One bounded sweep; exported for tests and for the first sweep at start. */
  sweep(): Promise<SweepResult>;
  close(): Promise<void>;
}

/** Job states in which the job will still run; anything else (missing, completed, failed) will not. */
const LIVE_STATES = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children", "paused"]);

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { settings } = deps;
  let position: SweepPosition | null = null;

  /** The live deliveries of one target that have no job that will run. */
  async function withoutJob(
    queue: Queue<DeliveryJob>,
    list: readonly LiveDelivery[],
  ): Promise<LiveDelivery[]> {
    const states = await Promise.all(list.map((d) => queue.getJobState(deliveryJobId(d.id, d.runNumber))));
    const orphans: LiveDelivery[] = [];
    for (const [i, state] of states.entries()) {
      const d = list[i] as LiveDelivery;
      if (LIVE_STATES.has(state)) continue;
      // A finished job of a live run (kept as failed, or completed but not yet removed) would
      // make the add below a no-op: remove it first. A job that is locked refuses removal.
      if (state !== "unknown") await queue.remove(deliveryJobId(d.id, d.runNumber)).catch(() => 0);
      orphans.push(d);
    }
    return orphans;
  }

  async function sweep(): Promise<SweepResult> {
    const found = await dueLiveDeliveries(deps.pool, {
      graceMs: settings.reconcileGraceMs,
      limit: settings.reconcileBatch,
      after: position,
    });
    const last = found[found.length - 1];
    // Go on from here next time; start over once the end is reached.
    position =
      found.length === settings.reconcileBatch && last ? { updatedAt: last.updatedAt, id: last.id } : null;

    const byTarget = new Map<string, LiveDelivery[]>();
    const removed: string[] = [];
    for (const d of found) {
      if (!deps.queues.has(d.targetId)) {
        if (deps.now() - d.dueSince.getTime() >= settings.removedTargetGraceMs) removed.push(d.id);
        continue;
      }
      const list = byTarget.get(d.targetId);
      if (list) list.push(d);
      else byTarget.set(d.targetId, [d]);
    }
    let requeued = 0;
    for (const [targetId, list] of byTarget) {
      const queue = deps.queues.get(targetId);
      if (!queue) continue;
      const orphans = await withoutJob(queue, list);
      if (orphans.length === 0) continue;
      const jobs = deliveryJobsByQueue(orphans).get(deliveryQueueName(targetId)) ?? [];
      await queue.addBulk(jobs);
      requeued += orphans.length;
      deps.onReconciled?.(targetId, orphans.length);
      deps.logger.warn(
        { target: targetId, deliveries: orphans.length, first: orphans[0]?.id },
        "reconciler: live deliveries had no queue job; queued them again",
      );
    }
    const ended = await failRemovedTargetDeliveries(deps.pool, removed);
    const removedTarget = ended.length;
    if (removedTarget > 0) {
      deps.onTargetRemoved?.(ended);
      deps.logger.warn(
        { deliveries: removedTarget },
        "reconciler: deliveries to a target no longer configured ended as failed (target_removed)",
      );
    }
    return { examined: found.length, requeued, removedTarget };
  }

  // One sweep at a time in a process; a sweep that fails (Postgres or Redis away) is logged and
  // the next tick tries again.
  const periodic = runEvery(settings.reconcileIntervalMs, sweep, (error) =>
    deps.logger.warn({ err: error }, "reconciler sweep failed"),
  );
  return { sweep, close: periodic.close };
}
