// Several ingest events in one job. The gateway writes the events that finished arriving
// together as one job (one Redis write, one Lua call) and answers each request 202 only once
// that job is stored; the worker records them in one transaction. A single event still goes
// as a plain `ingest` job.
import { z } from "zod";
import { ingestJobSchema } from "./catalog";

export const INGEST_JOB_NAME = "ingest";
export const INGEST_BATCH_JOB_NAME = "ingest-batch";

/** At most this many events, or this many bytes of base64 body, go into one job. */
export const INGEST_BATCH_MAX_EVENTS = 64;
export const INGEST_BATCH_MAX_BODY_BYTES = 2 * 1024 * 1024;

export const ingestBatchJobSchema = z.object({
  events: z.array(ingestJobSchema).min(1),
});
export type IngestBatchJob = z.infer<typeof ingestBatchJobSchema>;
