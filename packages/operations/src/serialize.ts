// The JSON shapes of the admin API (and of the CLI's --json): snake_case like the tables,
// timestamps as ISO-8601 strings. Everything that came from outside (headers, bodies, target
// answers, errors) goes through the same Redactor as the dashboard, so the two never disagree:
// a target that echoes its credential back is not shown to API readers either.
import type {
  AttemptRow,
  AuditRow,
  DeliveryRow,
  EventDetail,
  EventSummary,
  IngestFailure,
  Page,
  QueuedRun,
} from "@hookline/db";
import type { Redactor } from "@hookline/redact";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface EventSummaryJson {
  id: string;
  source_id: string;
  event_type: string | null;
  provider_id: string | null;
  received_at: string;
  content_type: string | null;
  body_size: number;
  duplicate_count: number;
  deliveries: { pending: number; retrying: number; succeeded: number; failed: number };
}

export function eventSummaryJson(e: EventSummary): EventSummaryJson {
  return {
    id: e.id,
    source_id: e.sourceId,
    event_type: e.eventType,
    provider_id: e.providerId,
    received_at: e.receivedAt.toISOString(),
    content_type: e.contentType,
    body_size: e.bodySize,
    duplicate_count: e.duplicateCount,
    deliveries: { ...e.deliveries },
  };
}

export interface DeliveryJson {
  id: string;
  event_id: string;
  target_id: string;
  source_id: string;
  status: string;
  attempt_count: number;
  run_number: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  succeeded_at: string | null;
  /** The event's key on an ordered route, or null. */
  ordering_key: string | null;
  /** Ordered and waiting for its turn (an earlier delivery of its key is not final yet). */
  held: boolean;
  /** Its route's transform made what is sent (`sent_body` in the delivery's detail). */
  transformed: boolean;
}

export function deliveryJson(d: DeliveryRow, redactor: Redactor): DeliveryJson {
  return {
    id: d.id,
    event_id: d.eventId,
    target_id: d.targetId,
    source_id: d.sourceId,
    status: d.status,
    attempt_count: d.attemptCount,
    run_number: d.runNumber,
    next_attempt_at: iso(d.nextAttemptAt),
    last_status_code: d.lastStatusCode,
    last_error: d.lastError === null ? null : redactor.text(d.lastError),
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
    succeeded_at: iso(d.succeededAt),
    ordering_key: d.orderingKey === null ? null : redactor.text(d.orderingKey),
    held: d.held,
    transformed: d.sentBody !== null,
  };
}

export interface AttemptJson {
  id: string;
  attempt_number: number;
  started_at: string;
  duration_ms: number | null;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
}

export function attemptJson(a: AttemptRow, redactor: Redactor): AttemptJson {
  return {
    id: a.id,
    attempt_number: a.attemptNumber,
    started_at: a.startedAt.toISOString(),
    duration_ms: a.durationMs,
    status_code: a.statusCode,
    response_body: a.responseBody === null ? null : redactor.text(a.responseBody),
    error: a.error === null ? null : redactor.text(a.error),
  };
}

export interface DeliveryWithAttemptsJson extends DeliveryJson {
  /** What is sent when its route transforms the event (the event's `body` stays as received). */
  sent_body?: string;
  sent_body_encoding?: "utf8" | "base64";
  attempts: AttemptJson[];
}

export function deliveryDetailJson(
  d: DeliveryRow,
  attempts: readonly AttemptRow[],
  redactor: Redactor,
): DeliveryWithAttemptsJson {
  const sent = d.sentBody === null ? null : bodyJson(redactor.bytes(d.sentBody));
  return {
    ...deliveryJson(d, redactor),
    ...(sent ? { sent_body: sent.body, sent_body_encoding: sent.body_encoding } : {}),
    attempts: attempts.map((a) => attemptJson(a, redactor)),
  };
}

/** The body as text when it is UTF-8, else base64; `body_encoding` says which. */
export function bodyJson(body: Buffer): { body: string; body_encoding: "utf8" | "base64" } {
  try {
    return { body: new TextDecoder("utf-8", { fatal: true }).decode(body), body_encoding: "utf8" };
  } catch {
    return { body: body.toString("base64"), body_encoding: "base64" };
  }
}

/** One event with every delivery and every attempt: `GET /api/events/:id`. */
export function eventDetailJson(detail: EventDetail, redactor: Redactor) {
  const e = detail.event;
  return {
    id: e.id,
    source_id: e.sourceId,
    event_type: e.eventType,
    provider_id: e.providerId,
    dedupe_key: redactor.text(e.dedupeKey),
    received_at: e.receivedAt.toISOString(),
    content_type: e.contentType,
    duplicate_count: e.duplicateCount,
    last_duplicate_at: iso(e.lastDuplicateAt),
    headers: Object.fromEntries(
      Object.entries(e.headers).map(([name, value]) => [name, redactor.header(name, value)]),
    ),
    body_size: e.body.length,
    ...bodyJson(redactor.bytes(e.body)),
    deliveries: detail.deliveries.map((d) => deliveryDetailJson(d, d.attempts, redactor)),
  };
}

export type EventDetailAnswer = ReturnType<typeof eventDetailJson>;

export function pageJson<T, J>(
  page: Page<T>,
  map: (item: T) => J,
): { data: J[]; next_cursor: string | null } {
  return { data: page.data.map(map), next_cursor: page.nextCursor };
}

export function runJson(r: QueuedRun): {
  id: string;
  target_id: string;
  run_number: number;
  status: "pending";
} {
  return { id: r.id, target_id: r.targetId, run_number: r.runNumber, status: "pending" };
}

export interface IngestFailureJson {
  id: string;
  source_id: string | null;
  event_ids: string[];
  reason: string;
  error: string;
  failed_at: string;
}

/** A set-aside ingest job, without its data (the body stays in the table, for SQL and re-drives). */
export function ingestFailureJson(f: IngestFailure, redactor: Redactor): IngestFailureJson {
  return {
    id: f.id,
    source_id: f.sourceId,
    event_ids: [...f.eventIds],
    reason: f.reason,
    error: redactor.text(f.error),
    failed_at: f.failedAt.toISOString(),
  };
}

export interface AuditJson {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly subject: string | null;
  readonly details: Readonly<Record<string, unknown>>;
  readonly ip: string | null;
}

/** Every string inside a JSON value, redacted (a pause reason is free text, and may hold anything). */
function redactJson(value: unknown, redactor: Redactor): unknown {
  if (typeof value === "string") return redactor.text(value);
  if (Array.isArray(value)) return value.map((v) => redactJson(v, redactor));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactJson(v, redactor)]));
  return value;
}

/** An audit row as the API and the dashboard show it: free text redacted like everything stored. */
export function auditJson(a: AuditRow, redactor: Redactor): AuditJson {
  return {
    id: a.id,
    at: a.at.toISOString(),
    actor: a.actor,
    action: a.action,
    subject: a.subject === null ? null : redactor.text(a.subject),
    details: redactJson(a.details, redactor) as Record<string, unknown>,
    ip: a.ip,
  };
}
