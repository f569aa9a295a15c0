// Attempts made without a queue job: the first attempt of a new delivery (first-attempt.ts) and
// the first attempt of an ordered delivery as it is released (ordering.ts). Everything that has
// to wait goes to the target's queue instead: a paused target, a target with a rate limit
// (counted across processes by BullMQ), a circuit that is not closed, every retry, and a target
// whose concurrency stays taken. A slot that frees within SLOT_WAIT_MS is waited for: with a
// backlog, the caller then goes at the pace of the deliveries, each on the cheap path, instead
// of moving the backlog into delivery jobs (which would then hold every slot, so that nothing
// could go inline again). A target that keeps its slots longer than that (a slow or hanging
// target) gets no wait for SPILL_MS: it delays other targets' work by SLOT_WAIT_MS at most per
// SPILL_MS.
//
// Crash safety without a job: the attempt is opened under a lease (`next_attempt_at` = now +
// the target's timeout + LEASE_SLACK_MS). A process that dies mid-request leaves the delivery
// live with that lease; the reconciler queues it once the lease and its grace have passed, and
// the job sends it again (at least once, as for a job whose worker died). A stray job that runs
// earlier finds the attempt not due and waits.
import { newId, type OpenedAttempt } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import { type DeliveryJob, type DeliveryRun, deliveryJobsByQueue } from "@hookline/queue";
import type { Queue } from "bullmq";
import { type AttemptDeps, sendAttempt } from "./attempt";
import type { AttemptWriter } from "./attempt-batch";
import type { CircuitTicket } from "./circuit";
import type { TargetSlots } from "./target-slots";
import { Underway } from "./underway";

/** How long past its timeout an inline attempt still counts as in flight. */
const LEASE_SLACK_MS = 10_000;
/** How long an inline attempt waits for one of its target's slots before its delivery is queued. */
const SLOT_WAIT_MS = 1_000;
/** After a wait ran out, how long the target's inline attempts take a free slot only, never wait. */
const SPILL_MS = 10_000;

export interface TargetRuntime extends Omit<AttemptDeps, "attempts" | "now" | "observer"> {
  readonly queue: Queue<DeliveryJob>;
  readonly slots: TargetSlots;
}

export interface InlineAttemptDeps {
  readonly runtimes: ReadonlyMap<string, TargetRuntime>;
  /** A paused target's deliveries are queued (its queue is paused), never sent inline. */
  readonly isPaused: (targetId: string) => boolean;
  readonly attempts: AttemptWriter;
  readonly now: () => number;
  readonly logger: Logger;
  readonly observer?: AttemptDeps["observer"];
}

/** A slot of the target and the circuit's admission, for one attempt about to be opened. */
export interface Reservation {
  readonly runtime: TargetRuntime;
  readonly ticket: CircuitTicket;
  readonly attemptId: string;
  /** Until when the attempt counts as in flight once opened. */
  readonly leaseUntil: Date;
}

export interface InlineAttempts {
  /** A reservation, or null: the delivery goes to its target's queue. */
  reserve(targetId: string): Promise<Reservation | null>;
  /** Gives back a reservation whose attempt was not opened. */
  giveBack(r: Reservation): void;
  /** Sends an opened attempt in the background; a retry goes to the target's queue. */
  start(r: Reservation, run: DeliveryRun, opened: OpenedAttempt, log: Logger): void;
  /** Queues runs on their targets' queues (fixed job ids: queueing twice leaves one job). */
  enqueue(runs: readonly DeliveryRun[]): Promise<void>;
  /** Waits for the attempts still under way. */
  drain(): Promise<void>;
}

export function createInlineAttempts(deps: InlineAttemptDeps): InlineAttempts {
  const { runtimes, attempts, now } = deps;
  const runtimeByQueue = new Map([...runtimes.values()].map((rt) => [rt.queue.name, rt]));
  const underway = new Underway();
  const spillUntil = new Map<string, number>();

  const enqueue = async (runs: readonly DeliveryRun[]) => {
    const byQueue = deliveryJobsByQueue(runs, now());
    await Promise.all([...byQueue].map(([name, jobs]) => runtimeByQueue.get(name)?.queue.addBulk(jobs)));
  };

  const slot = async (runtime: TargetRuntime): Promise<boolean> => {
    if ((spillUntil.get(runtime.target.id) ?? 0) > now()) return runtime.slots.tryAcquire();
    if (await runtime.slots.acquire(SLOT_WAIT_MS)) return true;
    spillUntil.set(runtime.target.id, now() + SPILL_MS);
    return false;
  };

  const giveBack = (r: Reservation) => {
    r.runtime.circuit.release(r.ticket);
    r.runtime.slots.release();
  };

  const send = async (r: Reservation, run: DeliveryRun, opened: OpenedAttempt, log: Logger) => {
    const freeSlot = r.runtime.slots.releaseOnce();
    try {
      const outcome = await sendAttempt(
        { ...r.runtime, attempts, now, ...(deps.observer ? { observer: deps.observer } : {}) },
        { deliveryId: run.id, runNumber: run.runNumber },
        opened,
        r.ticket,
        freeSlot,
      );
      if (outcome.nextAttemptAt) await enqueue([{ ...run, notBefore: outcome.nextAttemptAt }]);
    } catch (error) {
      // A probe (the circuit may have opened while the slot was awaited) must not be stranded;
      // once recorded, giving it back is a no-op.
      r.runtime.circuit.release(r.ticket);
      // The outcome could not be stored, or its retry not queued: the lease (or the retry's
      // next_attempt_at) runs out and the reconciler queues the delivery.
      log.warn(
        { delivery: run.id, err: error },
        "inline attempt: outcome not stored; left to the reconciler",
      );
    } finally {
      freeSlot();
    }
  };

  return {
    async reserve(targetId) {
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
      return {
        runtime,
        ticket: admission.ticket,
        attemptId: newId("att"),
        leaseUntil: new Date(now() + runtime.target.timeoutMs + LEASE_SLACK_MS),
      };
    },
    giveBack,
    start(r, run, opened, log) {
      underway.add(send(r, run, opened, log));
    },
    enqueue,
    drain: () => underway.drain(),
  };
}
