import { Batcher } from "@hookline/batch";
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

export type IngestQueue = Queue<IngestJob | IngestBatchJob>;

/**
 * The gateway's path into Redis: one `ingest` job for an event alone, one `ingest-batch` job
 * for events that arrived together. Both have fixed ids, so a retried add cannot duplicate.
 */
export function createIngestBatcher(
  queue: IngestQueue,
  lingerMs = 0,
  maxInFlight = 1,
): Batcher<IngestJob, undefined> {
  return new Batcher<IngestJob, undefined>({
    write: async (events) => {
      const first = events[0] as IngestJob;
      if (events.length === 1)
        await queue.add(INGEST_JOB_NAME, first, { ...INGEST_JOB_OPTIONS, jobId: first.eventId });
      else
        await queue.add(
          INGEST_BATCH_JOB_NAME,
          { events: [...events] },
          { ...INGEST_JOB_OPTIONS, jobId: ingestBatchJobId(first.eventId) },
        );
      return events.map(() => undefined);
    },
    maxItems: INGEST_BATCH_MAX_EVENTS,
    maxBytes: INGEST_BATCH_MAX_BODY_BYTES,
    sizeOf: (job) => job.body.length,
    maxInFlight,
    lingerMs,
  });
}
