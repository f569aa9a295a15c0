// One attempt, once its row is open: send the request, decide what the answer means, tell the
// circuit, store the outcome. The same for a delivery job and for the first attempt the ingest
// worker makes itself (first-attempt.ts).
import type { TargetConfig } from "@hookline/config";
import { fanoutDeliveryId, type OpenedAttempt } from "@hookline/db";
import { endSpan, SpanKind, startSpan, traceparentOf } from "@hookline/tracing";
import type { AttemptWriter } from "./attempt-batch";
import type { CircuitBreaker, CircuitTicket } from "./circuit";
import { outboundHeaders } from "./outbound";
import { decide } from "./retry-policy";
import type { Transport } from "./transport";

export interface DeliveryObserver {
  attempt(targetId: string, outcome: "succeeded" | "retrying" | "failed", seconds: number): void;
  firstSuccess(targetId: string, lagSeconds: number): void;
  /** A delivery that failed for good (alerts: delivery.failed). */
  deliveryFailed?(
    targetId: string,
    failed: { readonly deliveryId: string; readonly eventId: string; readonly reason: string | null },
  ): void;
}

export interface AttemptDeps {
  readonly target: TargetConfig;
  readonly transport: Transport;
  readonly circuit: CircuitBreaker;
  readonly attempts: AttemptWriter;
  readonly now: () => number;
  readonly observer?: DeliveryObserver;
}

export interface AttemptOutcome {
  readonly status: "succeeded" | "retrying" | "failed";
  /** When the next attempt is due, for `retrying`. */
  readonly nextAttemptAt: Date | null;
}

export async function sendAttempt(
  deps: AttemptDeps,
  run: { readonly deliveryId: string; readonly runNumber: number },
  opened: OpenedAttempt,
  ticket: CircuitTicket,
  /** Called once the target has answered (or failed to), before the outcome is stored. */
  answered?: () => void,
): Promise<AttemptOutcome> {
  const { target, now } = deps;
  const headers = outboundHeaders(
    target,
    {
      eventId: opened.eventId,
      sourceId: opened.sourceId,
      eventType: opened.eventType,
      contentType: opened.contentType,
      body: opened.body,
      attemptNumber: opened.attemptNumber,
    },
    now(),
  );
  // Tracing on: this attempt is a span of the event's trace, and the target gets its traceparent.
  const span = startSpan("hookline.deliver", SpanKind.CLIENT, opened.traceparent, {
    "hookline.target": target.id,
    "hookline.delivery_id": run.deliveryId,
    "hookline.event_id": opened.eventId,
    "hookline.attempt": opened.attemptNumber,
  });
  const traceparent = span === null ? null : traceparentOf(span);
  if (traceparent !== null) headers.traceparent = traceparent;
  const result = await deps.transport.send({
    body: opened.body,
    timeoutMs: target.timeoutMs,
    eventId: opened.eventId,
    sourceId: opened.sourceId,
    eventType: opened.eventType,
    headers,
  });
  answered?.();
  const verdict = decide(result, opened.attemptInRun, target.retryScheduleMs);
  if (span !== null) {
    if (result.kind === "response") span.setAttribute("http.response.status_code", result.status);
    span.setAttribute("hookline.outcome", verdict.status);
    endSpan(span, verdict.status === "succeeded" ? null : verdict.reason);
  }
  const nextAttemptAt = verdict.status === "retrying" ? new Date(now() + verdict.delayMs) : null;
  // A 4xx means the target is up and answering: only retryable failures trip the circuit.
  // Recorded before the attempt is stored, so a failed write cannot strand a probe.
  deps.circuit.record(
    ticket,
    verdict.status === "succeeded" ||
      (result.kind === "response" && result.status < 500 && result.status !== 408 && result.status !== 429),
    now(),
  );
  await deps.attempts.close({
    attemptId: opened.attemptId,
    deliveryId: run.deliveryId,
    runNumber: run.runNumber,
    durationMs: result.durationMs,
    statusCode: result.kind === "response" ? result.status : null,
    responseBody:
      result.kind === "response" ? result.bodyExcerpt : result.kind === "ack" ? result.answer : null,
    error: verdict.status === "succeeded" ? null : verdict.reason,
    status: verdict.status,
    nextAttemptAt,
  });
  deps.observer?.attempt(target.id, verdict.status, result.durationMs / 1000);
  if (verdict.status === "failed")
    deps.observer?.deliveryFailed?.(target.id, {
      deliveryId: run.deliveryId,
      eventId: opened.eventId,
      reason: verdict.reason,
    });
  // Lag to the first success of the event's own fan-out, however many attempts it took;
  // manual retries (run > 1) and replays (fresh delivery ids) are not first successes.
  if (
    verdict.status === "succeeded" &&
    run.runNumber === 1 &&
    run.deliveryId === fanoutDeliveryId(opened.eventId, target.id)
  ) {
    deps.observer?.firstSuccess(target.id, (now() - opened.receivedAt.getTime()) / 1000);
  }
  return { status: verdict.status, nextAttemptAt };
}
