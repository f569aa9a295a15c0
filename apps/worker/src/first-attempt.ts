// Where a newly recorded delivery goes. On the happy path the ingest worker makes the first
// attempt itself: the attempt is opened by the same statement that creates the delivery (see
// recordIngestedEvents) and the request is sent with no queue job at all, which saves a BullMQ
// job and a write per delivery. Everything that has to wait goes to the target's queue as
// before: a target with a rate limit (counted across processes by BullMQ), a circuit that is
// not closed, no free slot within the target's concurrency, a re-run of an ingest job, and
// every retry.
//
// Crash safety without a job: the delivery is created with a lease (`next_attempt_at` = now +
// the target's timeout + LEASE_SLACK_MS). A process that dies mid-request leaves it `pending`
// with that lease; the reconciler queues it once the lease and its grace have passed, and the
// job sends it again (at least once, as for a job whose worker died). A stray job that runs
// earlier finds the attempt not due and waits.
import {
  type DeliveryRef,
  fanoutDeliveryId,
  type IngestInput,
  type IngestOutcome,
  newId,
} from "@hookline/db";
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

export interface FirstAttemptDeps {
  readonly runtimes: ReadonlyMap<string, TargetRuntime>;
  readonly attempts: AttemptWriter;
  readonly now: () => number;
  readonly logger: Logger;
  readonly observer?: AttemptDeps["observer"];
}

/** First attempts planned for events about to be recorded. */
export interface FirstAttemptPlan {
  /** The events, each carrying the first attempts to open with its deliveries. */
  readonly inputs: readonly IngestInput[];
  /**
   * After recording: sends the first attempts that were opened, gives back what was reserved
   * for events that turned out to be re-runs or duplicates, and queues every other live
   * delivery. Resolves once each is under way or queued.
   */
  settle(outcomes: readonly (IngestOutcome | Error)[], log: Logger): Promise<void>;
  /** Nothing was recorded: gives back everything reserved. */
  cancel(): void;
}

export interface FirstAttempts {
  plan(inputs: readonly IngestInput[]): FirstAttemptPlan;
  /** Waits for the first attempts still under way. */
  drain(): Promise<void>;
}

interface Reservation {
  readonly runtime: TargetRuntime;
  readonly ticket: CircuitTicket;
  readonly attemptId: string;
  readonly input: IngestInput;
}

export function createFirstAttempts(deps: FirstAttemptDeps): FirstAttempts {
  const { runtimes, attempts, now } = deps;
  const runtimeByQueue = new Map([...runtimes.values()].map((rt) => [rt.queue.name, rt]));
  const underway = new Set<Promise<void>>();

  const enqueue = async (runs: readonly DeliveryRun[]) => {
    const byQueue = deliveryJobsByQueue(runs, now());
    await Promise.all([...byQueue].map(([name, jobs]) => runtimeByQueue.get(name)?.queue.addBulk(jobs)));
  };

  const giveBack = (r: Reservation) => {
    r.runtime.circuit.release(r.ticket);
    r.runtime.slots.release();
  };

  /** One reservation: a slot now and a circuit that lets it through, or null (the queue it is). */
  const reserve = (targetId: string, input: IngestInput): Reservation | null => {
    const runtime = runtimes.get(targetId);
    if (!runtime || runtime.target.rateLimit || !runtime.slots.tryAcquire()) return null;
    const admission = runtime.circuit.admit(now());
    if ("wait" in admission) {
      runtime.slots.release();
      return null;
    }
    return { runtime, ticket: admission.ticket, attemptId: newId("att"), input };
  };

  const send = async (r: Reservation, delivery: DeliveryRef, log: Logger) => {
    const { input } = r;
    try {
      const outcome = await sendAttempt(
        { ...r.runtime, attempts, now, ...(deps.observer ? { observer: deps.observer } : {}) },
        { deliveryId: delivery.id, runNumber: delivery.runNumber },
        {
          attemptId: r.attemptId,
          attemptNumber: 1,
          attemptInRun: 1,
          eventId: input.eventId,
          sourceId: input.sourceId,
          eventType: input.eventType,
          receivedAt: input.receivedAt,
          contentType: input.contentType,
          body: input.body,
        },
        r.ticket,
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
      r.runtime.slots.release();
    }
  };

  return {
    plan(inputs) {
      const reserved = new Map<string, Reservation>();
      const planned = inputs.map((input): IngestInput => {
        const firstAttempts = input.targetIds.map((targetId) => {
          const r = reserve(targetId, input);
          if (!r) return null;
          reserved.set(fanoutDeliveryId(input.eventId, targetId), r);
          return {
            attemptId: r.attemptId,
            leaseUntil: new Date(now() + r.runtime.target.timeoutMs + LEASE_SLACK_MS),
          };
        });
        return firstAttempts.some((f) => f !== null) ? { ...input, firstAttempts } : input;
      });
      let settled = false;
      const cancel = () => {
        if (settled) return;
        settled = true;
        for (const r of reserved.values()) giveBack(r);
      };
      return {
        inputs: planned,
        cancel,
        async settle(outcomes, log) {
          if (settled) throw new Error("first-attempt plan settled twice");
          settled = true;
          const queued: DeliveryRef[] = [];
          const unknown: string[] = [];
          for (const outcome of outcomes) {
            if (outcome instanceof Error || (outcome.kind !== "created" && outcome.kind !== "rerun"))
              continue;
            for (const delivery of outcome.deliveries) {
              const r = reserved.get(delivery.id);
              if (r && delivery.firstAttemptId === r.attemptId) {
                reserved.delete(delivery.id);
                const run = send(r, delivery, log);
                underway.add(run);
                void run.finally(() => underway.delete(run));
              } else if (delivery.status === "pending" || delivery.status === "retrying") {
                if (runtimes.has(delivery.targetId)) queued.push(delivery);
                else unknown.push(delivery.id);
              }
            }
          }
          for (const r of reserved.values()) giveBack(r);
          // Routes only name configured targets; a re-run recorded under an older config may
          // not. The reconciler ends those as target_removed once a rolling deploy is done.
          if (unknown.length > 0)
            log.warn(
              { deliveries: unknown },
              "delivery's target is no longer configured; left to the reconciler",
            );
          await enqueue(queued);
        },
      };
    },
    async drain() {
      while (underway.size > 0) await Promise.allSettled([...underway]);
    },
  };
}
