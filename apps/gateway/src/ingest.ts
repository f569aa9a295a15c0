import type { SourceConfig } from "@hookline/config";
import type { OutgoingIngestJob } from "@hookline/queue";
import { isSignatureHeader, REDACTED, shortenSignature } from "@hookline/redact";
import { endSpan, SpanKind, startSpan, traceparentOf } from "@hookline/tracing";
import type { Verifier, VerifyFailure } from "@hookline/verify";
import { checkMetadata } from "./metadata";

/** What happened to one request on the ingest path. Exhaustively handled by the HTTP layer. */
export type IngestVerdict =
  | { readonly kind: "accepted"; readonly eventId: string; readonly eventType: string | null }
  | { readonly kind: "unknown_source" }
  | { readonly kind: "verification_failed"; readonly failure: VerifyFailure }
  | {
      readonly kind: "invalid_metadata";
      readonly reason: "event_type_invalid" | "event_id_invalid";
      readonly message: string;
    }
  | { readonly kind: "enqueue_failed"; readonly error: Error };

export interface IngestRequest {
  readonly sourceId: string;
  readonly body: Buffer;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly url: string;
}

/** A request as the verifying side gets it: the clock read and the trace started on the HTTP thread. */
export interface CheckRequest extends IngestRequest {
  readonly receivedAt: number;
  readonly traceparent: string | null;
}

/** Verifies a request and queues it: here (`verifyAndQueue`) or on the ingest thread (ingest-thread.ts). */
export type VerifyAndQueue = (request: CheckRequest) => Promise<IngestVerdict>;

export interface IngestDeps {
  readonly sources: ReadonlyMap<string, SourceConfig>;
  readonly now: () => number;
  readonly verifyAndQueue: VerifyAndQueue;
}

/** What verifying and queueing needs of a source: the ingest thread rebuilds only this. */
export type VerifyingSource = Pick<SourceConfig, "id" | "verifier">;

export interface QueueDeps {
  readonly sources: ReadonlyMap<string, VerifyingSource>;
  /** Resolves only once the job is in Redis. */
  readonly enqueue: (job: OutgoingIngestJob) => Promise<void>;
  readonly newEventId: () => string;
}

/** Headers that describe the connection, not the event: never stored. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "upgrade",
  "proxy-connection",
  "te",
  "trailer",
  "expect",
]);
/** Carry credentials whatever the scheme: stored as "[redacted]". */
const ALWAYS_SECRET = ["authorization", "proxy-authorization", "cookie"];

/** What the verifier says about a source's headers, for storing them. */
export type HeaderRoles = Pick<Verifier, "secretHeaders" | "signatureHeaders">;

/**
 * The headers kept with the event: no hop-by-hop headers, credentials redacted, and signatures
 * cut to a short prefix. A full signature in `events.headers` would let anyone who can read the
 * admin API re-post the body (GitHub's delivery id is not signed) and have it delivered again.
 */
export function storedHeaders(
  headers: Readonly<Record<string, string>>,
  roles: HeaderRoles,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name)) continue;
    if (ALWAYS_SECRET.includes(name) || roles.secretHeaders.includes(name)) out[name] = REDACTED;
    else if (roles.signatureHeaders.includes(name) || isSignatureHeader(name))
      out[name] = shortenSignature(value);
    else out[name] = value;
  }
  return out;
}

export async function ingest(deps: IngestDeps, request: IngestRequest): Promise<IngestVerdict> {
  const source = deps.sources.get(request.sourceId);
  if (!source) return { kind: "unknown_source" };
  const receivedAt = deps.now();
  // A new trace per event, never a provider's traceparent: the request is not trusted yet.
  const span = startSpan("hookline.ingest", SpanKind.SERVER, null, { "hookline.source": source.id });
  if (span === null) return deps.verifyAndQueue({ ...request, receivedAt, traceparent: null });
  const verdict = await deps.verifyAndQueue({ ...request, receivedAt, traceparent: traceparentOf(span) });
  if (verdict.kind === "accepted") span.setAttribute("hookline.event_id", verdict.eventId);
  endSpan(
    span,
    verdict.kind === "accepted"
      ? null
      : verdict.kind === "verification_failed"
        ? verdict.failure.reason
        : verdict.kind,
  );
  return verdict;
}

/** `VerifyAndQueue` in this thread. */
export function verifyAndQueue(deps: QueueDeps): VerifyAndQueue {
  return async (request) => {
    const source = deps.sources.get(request.sourceId);
    if (!source) return { kind: "unknown_source" };
    const { receivedAt, traceparent } = request;
    const verdict = source.verifier.verify(
      { body: request.body, headers: request.headers, url: request.url },
      receivedAt,
    );
    if (!verdict.ok) return { kind: "verification_failed", failure: verdict };
    const metadata = checkMetadata(verdict, source.verifier.bodyDedupe);
    if (!metadata.ok) return { kind: "invalid_metadata", reason: metadata.reason, message: metadata.message };
    const eventId = deps.newEventId();
    const job: OutgoingIngestJob = {
      eventId,
      sourceId: source.id,
      eventType: verdict.eventType,
      ...metadata.dedupe,
      providerId: verdict.providerId,
      receivedAt,
      headers: storedHeaders(request.headers, source.verifier),
      contentType: request.headers["content-type"] ?? null,
      body: request.body,
      ...(traceparent ? { traceparent } : {}),
    };
    try {
      await deps.enqueue(job);
    } catch (error) {
      return { kind: "enqueue_failed", error: error instanceof Error ? error : new Error(String(error)) };
    }
    return { kind: "accepted", eventId, eventType: verdict.eventType };
  };
}
