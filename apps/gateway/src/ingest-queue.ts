import {
  INGEST_BATCH_JOB_NAME,
  INGEST_BATCH_MAX_BODY_BYTES,
  INGEST_BATCH_MAX_EVENTS,
  INGEST_JOB_NAME,
  INGEST_JOB_OPTIONS,
  type IngestBatchJob,
  type IngestJob,
  ingestBatchJobId,
} from "@hookline/queue";
import type { Queue } from "bullmq";
import { Batcher } from "./batcher";

export type IngestQueue = Queue<IngestJob | IngestBatchJob>;

/**
 * The gateway's path into Redis: one `ingest` job for an event alone, one `ingest-batch` job
 * for events that arrived together. Both have fixed ids, so a retried add cannot duplicate.
 */
export function createIngestBatcher(queue: IngestQueue, lingerMs = 0, maxInFlight = 1): Batcher<IngestJob> {
  return new Batcher<IngestJob>(
    {
      one: async (job) => {
        await queue.add(INGEST_JOB_NAME, job, { ...INGEST_JOB_OPTIONS, jobId: job.eventId });
      },
      many: async (events) => {
        const first = events[0] as IngestJob;
        await queue.add(
          INGEST_BATCH_JOB_NAME,
          { events: [...events] },
          { ...INGEST_JOB_OPTIONS, jobId: ingestBatchJobId(first.eventId) },
        );
      },
    },
    {
      maxItems: INGEST_BATCH_MAX_EVENTS,
      maxBytes: INGEST_BATCH_MAX_BODY_BYTES,
      sizeOf: (job) => job.body.length,
      maxInFlight,
      lingerMs,
    },
  );
}
