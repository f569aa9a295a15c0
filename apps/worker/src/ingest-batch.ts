import type { HooklineConfig } from "@hookline/config";
import {
  type Database,
  type DeliveryRef,
  type IngestInput,
  type IngestOutcome,
  recordIngestedEvent,
  recordIngestedEvents,
} from "@hookline/db";
import type { Logger } from "@hookline/logger";
import type { IngestJob } from "@hookline/queue";
import { CallBatcher } from "./call-batcher";
import { routeTargets } from "./routing";

/** `recordIngestedEvent` for concurrently running ingest jobs, batched into shared transactions. */
export function createIngestRecorder(
  pool: Database["pool"],
  maxInFlight = 4,
): (input: IngestInput) => Promise<IngestOutcome> {
  const batcher = new CallBatcher<IngestInput, IngestOutcome>(
    (items) => recordIngestedEvents(pool, items),
    (item) => recordIngestedEvent(pool, item),
    64,
    maxInFlight,
  );
  return (input) => batcher.call(input);
}

const DEFAULT_DEDUPE_WINDOW_MS = 72 * 3600 * 1000;

export function toIngestInput(config: HooklineConfig, data: IngestJob): IngestInput {
  const source = config.sources.find((s) => s.id === data.sourceId);
  return {
    eventId: data.eventId,
    sourceId: data.sourceId,
    eventType: data.eventType,
    dedupeKey: data.dedupeKey,
    providerId: data.providerId,
    receivedAt: new Date(data.receivedAt),
    headers: data.headers,
    body: Buffer.from(data.body, "base64"),
    contentType: data.contentType,
    dedupeWindowMs: source?.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS,
    targetIds: routeTargets(config.routes, data.sourceId, data.eventType),
  };
}

export interface BatchDeps {
  readonly config: HooklineConfig;
  readonly pool: Database["pool"];
  readonly logger: Logger;
  readonly enqueueDeliveries: (deliveries: readonly DeliveryRef[], log: Logger) => Promise<void>;
}

/**
 * Records an `ingest-batch` job's events in one transaction and queues their deliveries. If
 * the batch as a whole fails, each event is tried on its own, so one event Postgres refuses
 * cannot hold the others back; the job then fails (and is retried) for the events that did not
 * make it, and re-running the ones that did is a no-op.
 */
export async function recordBatch(deps: BatchDeps, events: readonly IngestJob[]): Promise<void> {
  const inputs = events.map((e) => toIngestInput(deps.config, e));
  let outcomes: (IngestOutcome | Error)[];
  try {
    outcomes = await recordIngestedEvents(deps.pool, inputs);
  } catch (error) {
    deps.logger.warn(
      { events: inputs.length, err: { message: error instanceof Error ? error.message : String(error) } },
      "batch failed as a whole: recording its events one by one",
    );
    outcomes = [];
    for (const input of inputs) {
      outcomes.push(
        await recordIngestedEvent(deps.pool, input).catch((e: unknown) =>
          e instanceof Error ? e : new Error(String(e)),
        ),
      );
    }
  }
  const deliveries: DeliveryRef[] = [];
  let failure: Error | null = null;
  for (const [i, outcome] of outcomes.entries()) {
    const input = inputs[i] as IngestInput;
    if (outcome instanceof Error) {
      failure ??= outcome;
      continue;
    }
    switch (outcome.kind) {
      case "created":
      case "rerun":
        deliveries.push(...outcome.deliveries);
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
  await deps.enqueueDeliveries(deliveries, deps.logger);
  if (failure) throw failure;
}
