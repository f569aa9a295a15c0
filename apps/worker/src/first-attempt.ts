// Where a newly recorded delivery goes. On the happy path the ingest worker makes the first
// attempt itself: the attempt is opened by the same statement that creates the delivery (see
// recordIngestedEvents) and the request is sent with no queue job at all, which saves a BullMQ
// job and a write per delivery. Everything that has to wait goes to the target's queue as
// before: a paused target, a target with a rate limit (counted across processes by BullMQ), a
// circuit that is not closed, a re-run of an ingest job, every retry, and a target whose concurrency stays
// taken. A slot that frees within SLOT_WAIT_MS is waited for: with a backlog, the ingest worker
// then goes at the pace of the deliveries, each on the cheap path, instead of moving the backlog
// into delivery jobs (which would then hold every slot, so that nothing could go inline again).
// A target that keeps its slots longer than that (a slow or hanging target) gets no wait for
// SPILL_MS: it delays the recording of other targets' events by SLOT_WAIT_MS at most per SPILL_MS.
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
const LEASE_SLACK_MS = 10_000;
/** How long a first attempt waits for one of its target's slots before its delivery is queued. */
const SLOT_WAIT_MS = 1_000;
/** After a wait ran out, how long the target's first attempts take a free slot only, never wait. */
const SPILL_MS = 10_000;

export interface TargetRuntime extends Omit<AttemptDeps, "attempts" | "now" | "observer"> {
  readonly queue: Queue<DeliveryJob>;
  readonly slots: TargetSlots;
}

export interface FirstAttemptObserver extends NonNullable<AttemptDeps["observer"]> {
  firstAttempts(targetId: string, path: "inline" | "queued", count: number): void;
}

export interface FirstAttemptDeps {
  readonly runtimes: ReadonlyMap<string, TargetRuntime>;
  /** A paused target's deliveries are created and queued (its queue is paused), never sent. */
  readonly isPaused: (targetId: string) => boolean;
  readonly attempts: AttemptWriter;
  readonly now: () => number;
  readonly logger: Logger;
  readonly observer?: FirstAttemptObserver;
}

/** First attempts planned for events about to be recorded. */
export interface PlannedBatch {
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
  plan(inputs: readonly IngestInput[]): Promise<PlannedBatch>;
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

  const spillUntil = new Map<string, number>();
  const slot = async (runtime: TargetRuntime): Promise<boolean> => {
    if ((spillUntil.get(runtime.target.id) ?? 0) > now()) return runtime.slots.tryAcquire();
    if (await runtime.slots.acquire(SLOT_WAIT_MS)) return true;
    spillUntil.set(runtime.target.id, now() + SPILL_MS);
    return false;
  };

  /** One reservation: a slot and a circuit that lets it through, or null (the queue it is). */
  const reserve = async (targetId: string, input: IngestInput): Promise<Reservation | null> => {
    const runtime = runtimes.get(targetId);
    if (!runtime || runtime.target.rateLimit || runtime.circuit.state !== "closed") return null;
    if (deps.isPaused(targetId)) return null;
    if (!(await slot(runtime))) return null;
    if (deps.isPaused(targetId)) {
      runtime.slots.release();
      return null;
    }
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
      // A probe (the circuit may have opened while the slot was awaited) must not be stranded;
      // once recorded, giving it back is a no-op.
      r.runtime.circuit.release(r.ticket);
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
    async plan(inputs) {
      const reserved = new Map<string, Reservation>();
      const planned = await Promise.all(
        inputs.map(async (input): Promise<IngestInput> => {
          const firstAttempts = await Promise.all(
            input.targetIds.map(async (targetId) => {
              const r = await reserve(targetId, input);
              if (!r) return null;
              reserved.set(fanoutDeliveryId(input.eventId, targetId), r);
              return {
                attemptId: r.attemptId,
                leaseUntil: new Date(now() + r.runtime.target.timeoutMs + LEASE_SLACK_MS),
              };
            }),
          );
          return firstAttempts.some((f) => f !== null) ? { ...input, firstAttempts } : input;
        }),
      );
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
          const counts = new Map<string, { inline: number; queued: number }>();
          const count = (targetId: string, path: "inline" | "queued") => {
            const c = counts.get(targetId) ?? { inline: 0, queued: 0 };
            c[path]++;
            counts.set(targetId, c);
          };
          for (const outcome of outcomes) {
            if (outcome instanceof Error || (outcome.kind !== "created" && outcome.kind !== "rerun"))
              continue;
            for (const delivery of outcome.deliveries) {
              const r = reserved.get(delivery.id);
              if (r && delivery.firstAttemptId === r.attemptId) {
                reserved.delete(delivery.id);
                count(delivery.targetId, "inline");
                const run = send(r, delivery, log);
                underway.add(run);
                void run.finally(() => underway.delete(run));
              } else if (delivery.status === "pending" || delivery.status === "retrying") {
                if (!runtimes.has(delivery.targetId)) unknown.push(delivery.id);
                else {
                  queued.push(delivery);
                  if (outcome.kind === "created") count(delivery.targetId, "queued");
                }
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
          for (const [targetId, c] of counts)
            for (const path of ["inline", "queued"] as const)
              if (c[path] > 0) deps.observer?.firstAttempts(targetId, path, c[path]);
          await enqueue(queued);
        },
      };
    },
    async drain() {
      while (underway.size > 0) await Promise.allSettled([...underway]);
    },
  };
}
