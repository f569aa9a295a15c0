import type { SourceConfig } from "@hookline/config";
import type { IngestJob } from "@hookline/queue";
import type { VerifyFailure } from "@hookline/verify";

/** What happened to one request on the ingest path. Exhaustively handled by the HTTP layer. */
export type IngestOutcome =
  | { readonly kind: "accepted"; readonly eventId: string; readonly eventType: string | null }
  | { readonly kind: "unknown_source" }
  | { readonly kind: "verification_failed"; readonly failure: VerifyFailure }
  | { readonly kind: "enqueue_failed"; readonly error: Error };

export interface IngestRequest {
  readonly sourceId: string;
  readonly body: Buffer;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly url: string;
}

export interface IngestDeps {
  readonly sources: ReadonlyMap<string, SourceConfig>;
  /** Resolves only once the job is in Redis. */
  readonly enqueue: (job: IngestJob) => Promise<void>;
  readonly now: () => number;
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
export const REDACTED = "[redacted]";

export function storedHeaders(
  headers: Readonly<Record<string, string>>,
  secretHeaders: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name)) continue;
    out[name] = ALWAYS_SECRET.includes(name) || secretHeaders.includes(name) ? REDACTED : value;
  }
  return out;
}

export async function ingest(deps: IngestDeps, request: IngestRequest): Promise<IngestOutcome> {
  const source = deps.sources.get(request.sourceId);
  if (!source) return { kind: "unknown_source" };
  const receivedAt = deps.now();
  const verdict = source.verifier.verify(
    { body: request.body, headers: request.headers, url: request.url },
    receivedAt,
  );
  if (!verdict.ok) return { kind: "verification_failed", failure: verdict };
  const eventId = deps.newEventId();
  const job: IngestJob = {
    eventId,
    sourceId: source.id,
    eventType: verdict.eventType,
    dedupeKey: verdict.dedupeKey,
    providerId: verdict.providerId,
    receivedAt,
    headers: storedHeaders(request.headers, source.verifier.secretHeaders),
    contentType: request.headers["content-type"] ?? null,
    body: request.body.toString("base64"),
  };
  try {
    await deps.enqueue(job);
  } catch (error) {
    return { kind: "enqueue_failed", error: error instanceof Error ? error : new Error(String(error)) };
  }
  return { kind: "accepted", eventId, eventType: verdict.eventType };
}
