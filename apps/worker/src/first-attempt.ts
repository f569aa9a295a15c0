// Where a newly recorded delivery goes. On the happy path the ingest worker makes the first
// attempt itself: the attempt row is opened (one batched write) and the request sent, with no
// queue job at all, which saves a BullMQ job per delivery. Everything that has to wait goes to
// the target's queue as before: a target with a rate limit (counted across processes by
// BullMQ), a circuit that is not closed, no free slot within the target's concurrency, a re-run
// of an ingest job, and every retry.
//
// Crash safety without a job: the first attempt is opened with a lease (`next_attempt_at` =
// now + the target's timeout + LEASE_SLACK_MS). A process that dies mid-request leaves the
// delivery `pending` with that lease; the reconciler queues it once the lease and its grace
// have passed, and the job sends it again (at least once, as for a job whose worker died).
import { type DeliveryRef, isNotDue, newId, type OpenedAttempt } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import { type DeliveryJob, type DeliveryRun, deliveryJobsByQueue } from "@hookline/queue";
import type { Queue } from "bullmq";
import { type AttemptDeps, sendAttempt } from "./attempt";
import type { AttemptWriter } from "./attempt-batch";
import type { CircuitTicket } from "./circuit";
import type { TargetSlots } from "./target-slots";

/** How long past its timeout a first attempt still counts as in flight. */
export const LEASE_SLACK_MS = 10_000;

export interface TargetRuntime extends Omit<AttemptDeps, "attempts" | "now" | "observer"> {
  readonly queue: Queue<DeliveryJob>;
  readonly slots: TargetSlots;
}

export interface DispatcherDeps {
  readonly runtimes: ReadonlyMap<string, TargetRuntime>;
  readonly attempts: AttemptWriter;
  readonly now: () => number;
  readonly logger: Logger;
  readonly observer?: AttemptDeps["observer"];
}

export interface Dispatcher {
  /**
   * Sends `fresh` deliveries (just created by this ingest job) now where the target can take
   * them, and queues the rest; resolves once every delivery is either opened (its request under
   * way) or queued.
   */
  dispatch(
    deliveries: readonly DeliveryRef[],
    log: Logger,
    options: { readonly fresh: boolean },
  ): Promise<void>;
  /** Waits for the first attempts still under way. */
  drain(): Promise<void>;
}

interface Admitted {
  readonly delivery: DeliveryRef;
  readonly runtime: TargetRuntime;
  readonly ticket: CircuitTicket;
}

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { runtimes, attempts, now } = deps;
  const underway = new Set<Promise<void>>();

  const enqueue = async (runs: readonly (DeliveryRun & { readonly notBefore?: Date | null })[]) => {
    const byQueue = deliveryJobsByQueue(runs, now());
    await Promise.all([...byQueue].map(([name, jobs]) => runtimeByQueue.get(name)?.queue.addBulk(jobs)));
  };
  const runtimeByQueue = new Map([...runtimes.values()].map((rt) => [rt.queue.name, rt]));

  const send = async (a: Admitted, opened: OpenedAttempt, log: Logger) => {
    const { delivery, runtime } = a;
    try {
      const outcome = await sendAttempt(
        { ...runtime, attempts, now, ...(deps.observer ? { observer: deps.observer } : {}) },
        { deliveryId: delivery.id, runNumber: delivery.runNumber },
        opened,
        a.ticket,
      );
      if (outcome.nextAttemptAt) await enqueue([{ ...delivery, notBefore: outcome.nextAttemptAt }]);
    } catch (error) {
      // The outcome could not be stored, or its retry not queued: the lease (or the retry's
      // next_attempt_at) runs out and the reconciler queues the delivery.
      log.warn(
        { delivery: delivery.id, err: error },
        "first attempt: outcome not stored; left to the reconciler",
      );
    } finally {
      runtime.slots.release();
    }
  };

  return {
    async dispatch(deliveries, log, { fresh }) {
      const live = deliveries.filter((d) => d.status !== "succeeded" && d.status !== "failed");
      const unknown = live.filter((d) => !runtimes.has(d.targetId));
      // Routes only name configured targets; a re-run recorded under an older config may not.
      // The reconciler ends those as target_removed once a rolling deploy has had time to finish.
      if (unknown.length > 0)
        log.warn(
          { deliveries: unknown.map((d) => d.id) },
          "delivery's target is no longer configured; left to the reconciler",
        );
      const queued: DeliveryRef[] = [];
      const admitted: Admitted[] = [];
      for (const delivery of live) {
        const runtime = runtimes.get(delivery.targetId);
        if (!runtime) continue;
        if (!fresh || runtime.target.rateLimit || !runtime.slots.tryAcquire()) {
          queued.push(delivery);
          continue;
        }
        const admission = runtime.circuit.admit(now());
        if ("wait" in admission) {
          runtime.slots.release();
          queued.push(delivery);
          continue;
        }
        admitted.push({ delivery, runtime, ticket: admission.ticket });
      }
      const opens = await Promise.allSettled(
        admitted.map((a) =>
          attempts.open({
            deliveryId: a.delivery.id,
            runNumber: a.delivery.runNumber,
            attemptId: newId("att"),
            now: new Date(now()),
            leaseUntil: new Date(now() + a.runtime.target.timeoutMs + LEASE_SLACK_MS),
          }),
        ),
      );
      let failure: unknown = null;
      const notDue: (DeliveryRun & { notBefore: Date })[] = [];
      for (const [i, settled] of opens.entries()) {
        const a = admitted[i] as Admitted;
        if (settled.status === "fulfilled" && settled.value !== null && !isNotDue(settled.value)) {
          const run = send(a, settled.value, log);
          underway.add(run);
          void run.finally(() => underway.delete(run));
          continue;
        }
        a.runtime.circuit.release(a.ticket);
        a.runtime.slots.release();
        if (settled.status === "rejected") failure ??= settled.reason;
        else if (isNotDue(settled.value))
          notDue.push({ ...a.delivery, notBefore: settled.value.notDueUntil });
        // null: already final or superseded; nothing to send.
      }
      await enqueue([...queued, ...notDue]);
      // Postgres failed to open some: the ingest job fails and its re-run queues them.
      if (failure !== null) throw failure;
    },
    async drain() {
      while (underway.size > 0) await Promise.allSettled([...underway]);
    },
  };
}
