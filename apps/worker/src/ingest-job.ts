// The ingest job: record what the gateway accepted (one event, or a batch of them) and queue
// the deliveries. A job that fails for a reason that will not go away is set aside where ops see
// it (table `ingest_failures`, GET /api/ingest-failures, the dashboard, a metric) instead of
// being retried forever; an outage is retried as long as it takes, as before.
import type { HooklineConfig } from "@hookline/config";
import { type Database, type IngestInput, type SetAside, setAsideIngest } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import {
  INGEST_BATCH_JOB_NAME,
  INGEST_QUEUE,
  type IngestBatchJob,
  type IngestJob,
  ingestBatchJobSchema,
  ingestJobSchema,
  ingestSeq,
} from "@hookline/queue";
import type { Job } from "bullmq";
import { ZodError } from "zod";
import type { FirstAttempts } from "./first-attempt";
import { type IngestRecorder, recordBatch, toIngestInput, traceRecording } from "./ingest-recorder";
import { permanentReason, type SetAsideReason } from "./permanent-error";

export interface IngestJobDeps {
  readonly config: HooklineConfig;
  readonly pool: Database["pool"];
  readonly logger: Logger;
  readonly record: IngestRecorder;
  readonly firstAttempts: FirstAttempts;
  readonly onSetAside?: (reason: SetAsideReason) => void;
}

/**
 * An ingest job's number is its events' place in acceptance order only in shard 0 (the queue
 * `ingest`, the one shard per-key ordering allows): the other shards count on their own, so
 * their events carry no place (null) and are never held for ordering.
 */
function numbered(job: Job): string | undefined {
  return job.queueName === INGEST_QUEUE ? job.id : undefined;
}

export function createIngestProcessor(
  deps: IngestJobDeps,
): (job: Job<IngestJob | IngestBatchJob>) => Promise<void> {
  const setAside = async (row: SetAside & { reason: SetAsideReason }) => {
    await setAsideIngest(deps.pool, row);
    deps.onSetAside?.(row.reason);
    deps.logger.warn(
      { ingestFailure: row.id, source: row.sourceId, reason: row.reason, error: row.error },
      "ingest job set aside: it cannot be recorded (see GET /api/ingest-failures)",
    );
  };
  const setAsideEvent = (data: IngestJob, reason: SetAsideReason, error: Error) =>
    setAside({
      id: data.eventId,
      sourceId: data.sourceId,
      eventIds: [data.eventId],
      reason,
      error: error.message,
      job: data,
    });

  return async (job) => {
    let parsed: { kind: "one"; data: IngestJob } | { kind: "batch"; events: IngestJob[] };
    try {
      parsed =
        job.name === INGEST_BATCH_JOB_NAME
          ? { kind: "batch", events: ingestBatchJobSchema.parse(job.data).events }
          : { kind: "one", data: ingestJobSchema.parse(job.data) };
    } catch (error) {
      if (!(error instanceof ZodError)) throw error;
      // Unreadable: nothing can be recorded from it, whatever is retried.
      await setAside({
        // Shards number their jobs each from 1: the queue tells them apart.
        id: `job-${job.queueName === INGEST_QUEUE ? "" : `${job.queueName}-`}${job.id ?? "unknown"}`,
        sourceId: null,
        eventIds: [],
        reason: "invalid_job",
        error: error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
        job: job.data,
      });
      return;
    }
    if (parsed.kind === "batch") {
      // One by one after a failed batch; only the events that can never be recorded are set aside.
      await recordBatch({ ...deps, setAside: setAsideEvent }, numbered(job), parsed.events);
      return;
    }
    const { data } = parsed;
    const log = deps.logger.child({ source: data.sourceId, eventId: data.eventId });
    const plan = await deps.firstAttempts.plan([
      await toIngestInput(deps.config, data, ingestSeq(numbered(job), 0)),
    ]);
    const traced = traceRecording(plan.inputs);
    let outcome: Awaited<ReturnType<IngestRecorder>>;
    try {
      outcome = await deps.record(plan.inputs[0] as IngestInput);
      traced([outcome]);
    } catch (error) {
      traced([error instanceof Error ? error : new Error(String(error))]);
      plan.cancel();
      const reason = permanentReason(error);
      if (reason === null || !(error instanceof Error)) throw error;
      await setAsideEvent(data, reason, error);
      return;
    }
    await plan.settle([outcome], log);
    switch (outcome.kind) {
      case "created":
      case "rerun":
        log.debug({ kind: outcome.kind, deliveries: outcome.deliveries.length }, "event recorded");
        return;
      case "duplicate":
      case "duplicate_rerun":
        log.info({ original: outcome.originalEventId }, "provider duplicate: counted, not forwarded");
        return;
      default: {
        const exhaustive: never = outcome;
        return exhaustive;
      }
    }
  };
}
