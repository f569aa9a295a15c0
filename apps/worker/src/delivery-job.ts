// The delivery job: one attempt at sending one delivery to its target. The attempt row is
// written before the request and completed after it; a retry re-delays the same job.
import type { TargetConfig } from "@hookline/config";
import { type Database, fanoutDeliveryId, isNotDue, newId, postponeDelivery } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import { type DeliveryJob, deliveryJobSchema } from "@hookline/queue";
import { DelayedError, type Job } from "bullmq";
import type { Agent } from "undici";
import type { AttemptWriter } from "./attempt-batch";
import type { CircuitBreaker } from "./circuit";
import { forward } from "./forward";
import { outboundHeaders } from "./outbound";
import { decide } from "./retry-policy";

export interface DeliveryObserver {
  attempt(targetId: string, outcome: "succeeded" | "retrying" | "failed", seconds: number): void;
  firstSuccess(targetId: string, lagSeconds: number): void;
}

export interface DeliveryJobDeps {
  readonly target: TargetConfig;
  readonly agent: Agent;
  readonly circuit: CircuitBreaker;
  readonly attempts: AttemptWriter;
  readonly pool: Database["pool"];
  readonly logger: Logger;
  readonly now: () => number;
  readonly observer?: DeliveryObserver;
}

/** Puts the job back in the delayed set until `at`; BullMQ then neither completes nor fails it. */
async function delayUntil(job: Job<DeliveryJob>, at: number, token: string | undefined): Promise<never> {
  await job.moveToDelayed(at, token);
  throw new DelayedError();
}

export function createDeliveryProcessor(
  deps: DeliveryJobDeps,
): (job: Job<DeliveryJob>, token?: string) => Promise<void> {
  const { target, agent, circuit, attempts, now } = deps;
  return async (job, token) => {
    const data = deliveryJobSchema.parse(job.data);
    const log = deps.logger.child({ target: target.id, delivery: data.deliveryId });
    const admission = circuit.admit(now());
    if ("wait" in admission) {
      const at = now() + admission.wait;
      // Final or superseded meanwhile: nothing to wait for.
      if (!(await postponeDelivery(deps.pool, data.deliveryId, data.runNumber, new Date(at)))) return;
      return delayUntil(job, at, token);
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
      // duplicate job): the schedule and the target's Retry-After still hold.
      circuit.release(ticket);
      log.debug({ until: opened.notDueUntil }, "attempt not due yet: delayed again");
      return delayUntil(job, opened.notDueUntil.getTime(), token);
    }
    const sentAt = now();
    const result = await forward(agent, {
      url: target.url,
      body: opened.body,
      timeoutMs: target.timeoutMs,
      headers: outboundHeaders(
        target,
        {
          eventId: opened.eventId,
          sourceId: opened.sourceId,
          eventType: opened.eventType,
          contentType: opened.contentType,
          body: opened.body,
          attemptNumber: opened.attemptNumber,
        },
        sentAt,
      ),
    });
    const verdict = decide(result, opened.attemptInRun, target.retryScheduleMs);
    const nextAttemptAt = verdict.status === "retrying" ? new Date(now() + verdict.delayMs) : null;
    // A 4xx means the target is up and answering: only retryable failures trip the circuit.
    // Recorded before the attempt is stored, so a failed write cannot strand a probe.
    circuit.record(
      ticket,
      verdict.status === "succeeded" ||
        (result.kind === "response" && result.status < 500 && result.status !== 408 && result.status !== 429),
      now(),
    );
    await attempts.close({
      attemptId: opened.attemptId,
      deliveryId: data.deliveryId,
      runNumber: data.runNumber,
      durationMs: result.durationMs,
      statusCode: result.kind === "response" ? result.status : null,
      responseBody: result.kind === "response" ? result.bodyExcerpt : null,
      error: verdict.status === "succeeded" ? null : verdict.reason,
      status: verdict.status,
      nextAttemptAt,
    });
    deps.observer?.attempt(target.id, verdict.status, result.durationMs / 1000);
    // Lag to the first success of the event's own fan-out, however many attempts it took;
    // manual retries (run > 1) and replays (fresh delivery ids) are not first successes.
    if (
      verdict.status === "succeeded" &&
      data.runNumber === 1 &&
      data.deliveryId === fanoutDeliveryId(opened.eventId, target.id)
    ) {
      deps.observer?.firstSuccess(target.id, (now() - opened.receivedAt.getTime()) / 1000);
    }
    log.debug({ attempt: opened.attemptNumber, status: verdict.status }, "attempt done");
    if (nextAttemptAt) return delayUntil(job, nextAttemptAt.getTime(), token);
  };
}
