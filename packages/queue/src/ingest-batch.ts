// Several ingest events in one job. The gateway writes the events that finished arriving
// together as one job (one Redis write, one Lua call) and answers each request 202 only once
// that job is stored; the worker records them in one transaction. A single event still goes
// as a plain `ingest` job.
import { z } from "zod";
import { type IngestJob, ingestJobSchema } from "./catalog";

export const INGEST_JOB_NAME = "ingest";
export const INGEST_BATCH_JOB_NAME = "ingest-batch";

/** At most this many events, or this many bytes of base64 body, go into one job. */
export const INGEST_BATCH_MAX_EVENTS = 64;
export const INGEST_BATCH_MAX_BODY_BYTES = 2 * 1024 * 1024;

export const ingestBatchJobSchema = z.object({
  events: z.array(ingestJobSchema).min(1),
});
export type IngestBatchJob = z.infer<typeof ingestBatchJobSchema>;

/** An ingest job as the gateway holds it until it is queued: the body still its raw bytes. */
export type OutgoingIngestJob = Omit<IngestJob, "body"> & { readonly body: Buffer };

/** What the gateway queues: one event (an `ingest` job) or several (an `ingest-batch` job). */
export type OutgoingIngestData = OutgoingIngestJob | { readonly events: readonly OutgoingIngestJob[] };

const BODY_OPEN = '{"body":"';

/** One event's JSON text around its base64 body: what precedes it is BODY_OPEN. */
function eventTail(event: OutgoingIngestJob): string {
  const { body: _, ...rest } = event;
  const others = JSON.stringify(rest);
  return others.length > 2 ? `",${others.slice(1)}` : '"}';
}

/**
 * The JSON bytes of `data` with each body in base64: what the worker parses as an IngestJob or
 * IngestBatchJob. Written by hand, not by JSON.stringify, because V8's stringify scans the
 * body's base64 text for characters to escape (about 1.4 µs per KiB-sized body here), where
 * base64 has none; and because one non-ASCII character elsewhere in a job (the "…" of a
 * shortened signature) made the whole stringified job a two-byte string, which doubled the cost
 * of turning it into bytes. Base64 is ASCII, so it is written as Latin-1 (a copy); the rest,
 * which may hold any character, as UTF-8.
 */
export function encodeIngestData(data: OutgoingIngestData): Buffer {
  const batch = "events" in data;
  const events = batch ? data.events : [data];
  const bodies = events.map((event) => event.body.toString("base64"));
  const tails = events.map(eventTail);
  const open = batch ? '{"events":[' : "";
  const close = batch ? "]}" : "";
  let length = open.length + close.length + Math.max(0, events.length - 1);
  for (let i = 0; i < events.length; i++)
    length += BODY_OPEN.length + (bodies[i] as string).length + Buffer.byteLength(tails[i] as string);
  const out = Buffer.allocUnsafe(length);
  let at = out.write(open, 0, "latin1");
  for (let i = 0; i < events.length; i++) {
    if (i > 0) at += out.write(",", at, "latin1");
    at += out.write(BODY_OPEN, at, "latin1");
    at += out.write(bodies[i] as string, at, "latin1");
    at += out.write(tails[i] as string, at, "utf8");
  }
  out.write(close, at, "latin1");
  return out;
}
