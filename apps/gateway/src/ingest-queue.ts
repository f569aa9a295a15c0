import { Batcher } from "@hookline/batch";
import {
  INGEST_BATCH_JOB_NAME,
  INGEST_BATCH_MAX_BODY_BYTES,
  INGEST_BATCH_MAX_EVENTS,
  INGEST_JOB_NAME,
  INGEST_JOB_OPTIONS,
  type IngestBatchJob,
  type IngestJob,
} from "@hookline/queue";
import type { Queue } from "bullmq";

export type IngestQueue = Queue<IngestJob | IngestBatchJob>;

/**
 * The gateway's path into Redis: one `ingest` job for an event alone, one `ingest-batch` job
 * for events that arrived together. Jobs take BullMQ's own numbers, which are acceptance order
 * for per-key ordering (see packages/queue/src/ingest-floor.ts). A job that reached Redis twice
 * (a command re-sent after a reconnect) is harmless: the worker records each event id once.
 */
export function createIngestBatcher(
  queue: IngestQueue,
  lingerMs = 0,
  maxInFlight = 1,
): Batcher<IngestJob, undefined> {
  return new Batcher<IngestJob, undefined>({
    write: async (events) => {
      const first = events[0] as IngestJob;
      if (events.length === 1) await queue.add(INGEST_JOB_NAME, first, INGEST_JOB_OPTIONS);
      else await queue.add(INGEST_BATCH_JOB_NAME, { events: [...events] }, INGEST_JOB_OPTIONS);
      return events.map(() => undefined);
    },
    maxItems: INGEST_BATCH_MAX_EVENTS,
    maxBytes: INGEST_BATCH_MAX_BODY_BYTES,
    sizeOf: (job) => job.body.length,
    maxInFlight,
    lingerMs,
  });
}
