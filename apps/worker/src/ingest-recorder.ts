import { Batcher } from "@hookline/batch";
import { DEFAULTS, type HooklineConfig } from "@hookline/config";
import {
  type Database,
  type DeliveryBody,
  type IngestInput,
  type IngestOutcome,
  recordIngestedEvents,
} from "@hookline/db";
import type { Logger } from "@hookline/logger";
import { type IngestJob, ingestSeq } from "@hookline/queue";
import { orderingKey, routableEvent, routeEvent } from "@hookline/routing";
import { endSpan, SpanKind, startSpan } from "@hookline/tracing";
import { TransformError } from "@hookline/transform";
import { dedupeKeyOfBody } from "@hookline/verify";
import type { FirstAttempts } from "./first-attempt";
import { permanentReason, type SetAsideReason } from "./permanent-error";

export type IngestRecorder = (input: IngestInput) => Promise<IngestOutcome>;

/** `recordIngestedEvent` for concurrently running ingest jobs, batched into shared transactions. */
export function createIngestRecorder(pool: Database["pool"], maxInFlight = 4): IngestRecorder {
  const batcher = new Batcher<IngestInput, IngestOutcome>({
    write: (items) => recordIngestedEvents(pool, items),
    maxItems: 64,
    maxInFlight,
    isolateFailures: true,
  });
  return (input) => batcher.call(input);
}

/**
 * What the recorder needs for one event of an ingest job. `seq` is the event's place in
 * acceptance order (ingestSeq); an event without one (a job not numbered by BullMQ, as only
 * hand-made jobs are) is delivered unordered.
 */
export async function toIngestInput(
  config: HooklineConfig,
  data: IngestJob,
  seq: bigint | null,
): Promise<IngestInput> {
  const source = config.sources.find((s) => s.id === data.sourceId);
  const body = Buffer.from(data.body, "base64");
  const event = routableEvent({
    sourceId: data.sourceId,
    eventType: data.eventType,
    headers: data.headers,
    body,
  });
  // The gateway leaves a key the body alone decides to us (the schema holds one of the two).
  // Taken before any transform sees the parsed body, which routing and the key share.
  const dedupeKey = data.dedupeKey ?? dedupeKeyOfBody(body, data.dedupeFrom ?? ["body"], () => event.json());
  const routed = routeEvent(config.routes, event);
  const orderingKeys =
    seq !== null && routed.some((r) => r.orderingKey !== null)
      ? routed.map((r) => (r.orderingKey === null ? null : orderingKey(r.orderingKey, event)))
      : undefined;
  // Each route's transform, once per target, before anything is recorded: a failure is kept on
  // the delivery (transform_error), never retried.
  const deliveryBodies = routed.some((r) => r.transform !== null)
    ? await Promise.all(
        routed.map(async (r): Promise<DeliveryBody | null> => {
          if (r.transform === null) return null;
          try {
            return { sent: await r.transform.apply(event.json()) };
          } catch (error) {
            return { failed: error instanceof TransformError ? error.message : String(error) };
          }
        }),
      )
    : undefined;
  return {
    eventId: data.eventId,
    sourceId: data.sourceId,
    eventType: data.eventType,
    dedupeKey,
    providerId: data.providerId,
    receivedAt: new Date(data.receivedAt),
    headers: data.headers,
    body,
    contentType: data.contentType,
    // An event of a source no longer configured (a re-run under a newer config) keeps the default.
    dedupeWindowMs: source?.dedupeWindowMs ?? DEFAULTS.source.dedupeWindowMs,
    targetIds: routed.map((r) => r.targetId),
    ...(orderingKeys ? { orderingKeys, orderingSeq: seq } : {}),
    ...(deliveryBodies ? { deliveryBodies } : {}),
    ...(data.traceparent ? { traceparent: data.traceparent } : {}),
  };
}

/**
 * Tracing on: recording each event is a span of that event's trace (the gateway's traceparent);
 * call the result with each event's outcome. A no-op for events received with tracing off.
 */
export function traceRecording(
  inputs: readonly IngestInput[],
): (outcomes: readonly (IngestOutcome | Error)[]) => void {
  const spans = inputs.map((input) =>
    input.traceparent
      ? startSpan("hookline.record", SpanKind.CONSUMER, input.traceparent, {
          "hookline.event_id": input.eventId,
          "hookline.source": input.sourceId,
        })
      : null,
  );
  return (outcomes) => {
    for (const [i, outcome] of outcomes.entries()) {
      const span = spans[i];
      if (!span) continue;
      if (!(outcome instanceof Error)) span.setAttribute("hookline.outcome", outcome.kind);
      endSpan(span, outcome instanceof Error ? outcome.message : null);
    }
  };
}

export interface BatchDeps {
  readonly config: HooklineConfig;
  readonly record: IngestRecorder;
  readonly logger: Logger;
  readonly firstAttempts: FirstAttempts;
  /** Keeps an event that can never be recorded where ops see it. */
  readonly setAside: (event: IngestJob, reason: SetAsideReason, error: Error) => Promise<void>;
}

/**
 * Records an `ingest-batch` job's events and sends or queues their deliveries. A statement that
 * fails as a whole is retried event by event (the recorder isolates failures), so one event
 * Postgres refuses cannot hold the others back: an event that can never be recorded is set
 * aside, and the job fails (and is retried) only for events that met an outage; re-running the
 * ones that made it is a no-op.
 */
export async function recordBatch(
  deps: BatchDeps,
  jobId: string | undefined,
  events: readonly IngestJob[],
): Promise<void> {
  const plan = await deps.firstAttempts.plan(
    await Promise.all(events.map((e, i) => toIngestInput(deps.config, e, ingestSeq(jobId, i)))),
  );
  const { inputs } = plan;
  const traced = traceRecording(inputs);
  // Through the shared recorder: the events of concurrently running jobs go in one statement.
  const outcomes = await Promise.all(
    inputs.map((input) =>
      deps.record(input).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
    ),
  );
  traced(outcomes);
  await plan.settle(outcomes, deps.logger);
  let failure: Error | null = null;
  for (const [i, outcome] of outcomes.entries()) {
    const input = inputs[i] as IngestInput;
    if (outcome instanceof Error) {
      const reason = permanentReason(outcome);
      if (reason === null) failure ??= outcome;
      else await deps.setAside(events[i] as IngestJob, reason, outcome);
      continue;
    }
    switch (outcome.kind) {
      case "created":
      case "rerun":
        deps.logger.debug(
          {
            source: input.sourceId,
            eventId: input.eventId,
            kind: outcome.kind,
            deliveries: outcome.deliveries.length,
          },
          "event recorded",
        );
        break;
      case "duplicate":
      case "duplicate_rerun":
        deps.logger.info(
          { source: input.sourceId, eventId: input.eventId, original: outcome.originalEventId },
          "provider duplicate: counted, not forwarded",
        );
        break;
      default: {
        const exhaustive: never = outcome;
        throw new Error(`unhandled outcome ${JSON.stringify(exhaustive)}`);
      }
    }
  }
  if (failure) throw failure;
}
