// The delivery job: one attempt at sending one delivery to its target. The attempt row is
// written before the request and completed after it; a retry re-delays the same job.
import { type Database, isNotDue, newId, postponeDelivery } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import { type DeliveryJob, deliveryJobSchema } from "@hookline/queue";
import { DelayedError, type Job } from "bullmq";
import { type AttemptDeps, sendAttempt } from "./attempt";
import type { TargetSlots } from "./target-slots";

export interface DeliveryJobDeps extends AttemptDeps {
  readonly slots: TargetSlots;
  readonly isPaused: (targetId: string) => boolean;
  readonly pool: Database["pool"];
  readonly logger: Logger;
}

/** How soon a job that found its target paused looks again (it waits in the paused queue). */
const PAUSED_RECHECK_MS = 1_000;

/** Puts the job back in the delayed set until `at`; BullMQ then neither completes nor fails it. */
async function delayUntil(job: Job<DeliveryJob>, at: number, token: string | undefined): Promise<never> {
  await job.moveToDelayed(at, token);
  throw new DelayedError();
}

export function createDeliveryProcessor(
  deps: DeliveryJobDeps,
): (job: Job<DeliveryJob>, token?: string) => Promise<void> {
  const { target, circuit, attempts, now, slots } = deps;
  return async (job, token) => {
    const data = deliveryJobSchema.parse(job.data);
    const log = deps.logger.child({ target: target.id, delivery: data.deliveryId });
    // The target's concurrency is shared with first attempts made by the ingest worker.
    await slots.acquire();
    const freeSlot = slots.releaseOnce();
    try {
      // Fetched just before the pause reached its queue: back to wait, no attempt made or used.
      if (deps.isPaused(target.id)) return await delayUntil(job, now() + PAUSED_RECHECK_MS, token);
      const admission = circuit.admit(now());
      if ("wait" in admission) {
        const at = now() + admission.wait;
        // Final or superseded meanwhile: nothing to wait for.
        if (!(await postponeDelivery(deps.pool, data.deliveryId, data.runNumber, new Date(at)))) return;
        return await delayUntil(job, at, token);
      }
      const { ticket } = admission;
      // The ticket may be the half-open circuit's only probe: give it back on every path that
      // makes no attempt, or every later job would wait for a probe that never reports.
      const opened = await attempts
        .open({
          deliveryId: data.deliveryId,
          runNumber: data.runNumber,
          attemptId: newId("att"),
          now: new Date(now()),
        })
        .catch((error: unknown) => {
          circuit.release(ticket);
          throw error;
        });
      if (opened === null) {
        circuit.release(ticket);
        return; // already final, or superseded by a manual retry
      }
      if (isNotDue(opened)) {
        // Re-run before its time (a failed moveToDelayed after the last outcome was committed, a
        // duplicate job, a first attempt still in flight): the schedule and Retry-After still hold.
        circuit.release(ticket);
        log.debug({ until: opened.notDueUntil }, "attempt not due yet: delayed again");
        return await delayUntil(job, opened.notDueUntil.getTime(), token);
      }
      const outcome = await sendAttempt(deps, data, opened, ticket, freeSlot);
      log.debug({ attempt: opened.attemptNumber, status: outcome.status }, "attempt done");
      if (outcome.nextAttemptAt) return await delayUntil(job, outcome.nextAttemptAt.getTime(), token);
    } finally {
      freeSlot();
    }
  };
}
