// Every route of the admin port, once: its parameters, body and answers as zod schemas. The
// app validates requests with them (app.ts) and GET /api/openapi.json documents them, so the
// document cannot drift from what the server accepts. The filter schemas are @hookline/operations'
// (the CLI and the dashboard parse with the same ones).
import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { CIRCUIT_STATES } from "@hookline/metrics";
import {
  ADMIN_ERROR_STATUS,
  type AdminErrorCode,
  AuditQuery,
  DeliveryFilterQuery,
  DeliveryListQuery,
  EventQuery,
  MAX_PAUSE_REASON,
  PageQuery,
  readPauseReason,
  refuse,
  textProblem,
} from "@hookline/operations";

// ---- Shared pieces ------------------------------------------------------------------------

/** `:id` in a path; one Postgres could not even compare (a NUL) is a 400, not a 500. */
const IdParams = z.object({
  id: z
    .string()
    .transform((id, ctx) => {
      const problem = textProblem(id);
      return problem ? refuse(ctx, id, problem) : id;
    })
    .openapi({ param: { name: "id", in: "path" }, description: "evt_…, dlv_… or a target id." }),
});

/**
 * true, false, "true", "1", "false" or "": how `force` and `dry_run` are given. Absent (or null)
 * stays undefined, so a body's explicit false still wins over the query string's true.
 */
const flag = z
  .unknown()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === null) return undefined;
    if (value === "" || value === false || value === "false") return false;
    if (value === true || value === "true" || value === "1") return true;
    return refuse(ctx, value, "expected true or false");
  })
  .openapi({ type: "boolean", default: false });

export const ErrorBody = z
  .object({
    code: z.enum(Object.keys(ADMIN_ERROR_STATUS) as [AdminErrorCode, ...AdminErrorCode[]]).openapi({
      description: "A stable reason code (docs/admin-api.md#authentication-and-errors).",
    }),
    message: z.string().openapi({ description: "For people; may change." }),
    request_id: z.string().openapi({ description: "Also in the request-id header and the logs." }),
  })
  .openapi("Error");

/** What every /api route may answer besides its own: the token check, the port's limits. */
const ALWAYS: readonly AdminErrorCode[] = [
  "unauthorized",
  "too_many_failures",
  "admin_api_disabled",
  "internal_error",
];
/** And every change: a read token may only GET; a body is bounded. */
const CHANGES: readonly AdminErrorCode[] = ["forbidden", "body_too_large"];

/** The error answers for these codes, grouped by status, each naming its codes. */
function errorResponses(codes: readonly AdminErrorCode[]) {
  const byStatus = new Map<number, AdminErrorCode[]>();
  for (const code of codes) {
    const status = ADMIN_ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        description: list.map((c) => `\`${c}\``).join(", "),
        content: { "application/json": { schema: ErrorBody } },
      },
    ]),
  );
}

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const page = <S extends z.ZodType>(item: S) =>
  z.object({
    data: z.array(item),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `cursor` for the next page; null at the end." }),
  });

const isoTime = z.string().openapi({ format: "date-time" });

// ---- Answers ------------------------------------------------------------------------------

const EventSummary = z
  .object({
    id: z.string(),
    source_id: z.string(),
    event_type: z.string().nullable(),
    provider_id: z.string().nullable(),
    received_at: isoTime,
    content_type: z.string().nullable(),
    body_size: z.number().int(),
    duplicate_count: z.number().int(),
    deliveries: z.object({
      pending: z.number().int(),
      retrying: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
    }),
  })
  .openapi("EventSummary");

const Delivery = z
  .object({
    id: z.string(),
    event_id: z.string(),
    target_id: z.string(),
    source_id: z.string(),
    status: z.string().openapi({ enum: ["pending", "retrying", "succeeded", "failed"] }),
    attempt_count: z.number().int(),
    run_number: z.number().int(),
    next_attempt_at: isoTime.nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: isoTime,
    updated_at: isoTime,
    succeeded_at: isoTime.nullable(),
    ordering_key: z.string().nullable(),
    held: z.boolean(),
    transformed: z.boolean(),
  })
  .openapi("Delivery");

const Attempt = z
  .object({
    id: z.string(),
    attempt_number: z.number().int(),
    started_at: isoTime,
    duration_ms: z.number().int().nullable(),
    status_code: z.number().int().nullable(),
    response_body: z.string().nullable(),
    error: z.string().nullable(),
  })
  .openapi("Attempt");

const bodyEncoding = z.enum(["utf8", "base64"]);

const DeliveryWithAttempts = Delivery.extend({
  sent_body: z.string().optional(),
  sent_body_encoding: bodyEncoding.optional(),
  attempts: z.array(Attempt),
}).openapi("DeliveryWithAttempts");

const EventDetail = z
  .object({
    id: z.string(),
    source_id: z.string(),
    event_type: z.string().nullable(),
    provider_id: z.string().nullable(),
    dedupe_key: z.string(),
    received_at: isoTime,
    content_type: z.string().nullable(),
    duplicate_count: z.number().int(),
    last_duplicate_at: isoTime.nullable(),
    headers: z.record(z.string(), z.string()),
    body_size: z.number().int(),
    body: z.string(),
    body_encoding: bodyEncoding,
    deliveries: z.array(DeliveryWithAttempts),
  })
  .openapi("EventDetail");

const Run = z
  .object({
    id: z.string(),
    target_id: z.string(),
    run_number: z.number().int(),
    status: z.literal("pending"),
  })
  .openapi("QueuedRun");

const Target = z
  .object({
    id: z.string(),
    type: z.enum(["http", "amqp", "nats"]),
    url: z.string(),
    paused: z.boolean(),
    paused_at: isoTime.nullable(),
    paused_reason: z.string().nullable(),
    circuit: z.enum(CIRCUIT_STATES as [string, ...string[]]).nullable(),
    backlog: z.number().int(),
    oldest_pending_at: isoTime.nullable(),
  })
  .openapi("Target");

const IngestFailure = z
  .object({
    id: z.string(),
    source_id: z.string().nullable(),
    event_ids: z.array(z.string()),
    reason: z.string(),
    error: z.string(),
    failed_at: isoTime,
  })
  .openapi("IngestFailure");

const Audit = z
  .object({
    id: z.string(),
    at: isoTime,
    actor: z.string(),
    action: z.string(),
    subject: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    ip: z.string().nullable(),
  })
  .openapi("AuditEntry");

// ---- Bodies -------------------------------------------------------------------------------
// A body's wrong shape is `invalid_body`; a wrong filter or flag in it is `invalid_parameter`,
// as in the query string.

const bodyText = z.string({ error: "expected a string" }).nullish();

export const RetryManyBody = z
  .object({
    status: z
      .union([z.string(), z.array(z.string())], { error: "expected a string" })
      .nullish()
      .openapi({ description: "One status, several comma-separated, or an array of them." }),
    target: bodyText,
    source: bodyText,
    event: bodyText,
    since: bodyText.openapi({ description: "An ISO-8601 time or a duration back from now (2h)." }),
    until: bodyText,
    force: flag.openapi({ description: "Retry succeeded deliveries too (they are sent again)." }),
    dry_run: flag.openapi({ description: "Count what matches; change nothing." }),
  })
  .openapi("RetryManyRequest");

export const RetryOneBody = z
  .object({ force: flag.openapi({ description: "Retry a delivery that succeeded (it is sent again)." }) })
  .openapi("RetryRequest");

export const ReplayBody = z
  .object({
    targets: z
      .array(z.string().min(1, { error: "expected an array of target ids" }), {
        error: "expected an array of target ids",
      })
      .optional()
      .openapi({ description: "Only these of the event's targets; default: all its route sends it to." }),
  })
  .openapi("ReplayRequest");

export const PauseBody = z
  .object({
    reason: z
      .unknown()
      .optional()
      .transform((value, ctx) => {
        const read = readPauseReason(value);
        return read.ok ? read.reason : refuse(ctx, value, read.message, "invalid_body", true);
      })
      .openapi({
        type: ["string", "null"],
        maxLength: MAX_PAUSE_REASON,
        description: "One line, for people.",
      }),
  })
  .openapi("PauseRequest");

// ---- Routes -------------------------------------------------------------------------------

const security = [{ bearer: [] }];

export const routes = {
  healthz: createRoute({
    method: "get",
    path: "/healthz",
    summary: "Liveness of the admin port",
    security: [],
    responses: { 200: json(z.object({ status: z.literal("ok") }), "The process answers.") },
  }),
  metrics: createRoute({
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics",
    security: [],
    responses: {
      200: {
        description: "Prometheus text exposition format.",
        content: { "text/plain": { schema: z.string() } },
      },
    },
  }),
  openapi: createRoute({
    method: "get",
    path: "/api/openapi.json",
    summary: "This document",
    description: "Behind the bearer token like every /api route; a read token is enough.",
    security,
    responses: {
      200: json(z.record(z.string(), z.unknown()), "The OpenAPI 3.1 document of the admin API."),
      ...errorResponses(ALWAYS),
    },
  }),
  audit: createRoute({
    method: "get",
    path: "/api/audit",
    summary: "The audit log: every change made through the API, the dashboard or the CLI",
    security,
    request: { query: AuditQuery },
    responses: {
      200: json(page(Audit), "Newest first."),
      ...errorResponses([...ALWAYS, "invalid_parameter", "invalid_cursor"]),
    },
  }),
  events: createRoute({
    method: "get",
    path: "/api/events",
    summary: "Events, newest first",
    security,
    request: { query: EventQuery },
    responses: {
      200: json(page(EventSummary), "A page of events."),
      ...errorResponses([...ALWAYS, "invalid_parameter", "invalid_cursor"]),
    },
  }),
  event: createRoute({
    method: "get",
    path: "/api/events/{id}",
    summary: "One event with its headers, body, deliveries and attempts",
    security,
    request: { params: IdParams },
    responses: {
      200: json(EventDetail, "The event."),
      ...errorResponses([...ALWAYS, "invalid_parameter", "event_not_found"]),
    },
  }),
  replay: createRoute({
    method: "post",
    path: "/api/events/{id}/replay",
    summary: "Deliver an event again, as a new run of each delivery",
    security,
    request: {
      params: IdParams,
      body: { content: { "application/json": { schema: ReplayBody } }, required: false },
    },
    responses: {
      202: json(z.object({ event_id: z.string(), deliveries: z.array(Run) }), "Queued."),
      ...errorResponses([
        ...ALWAYS,
        ...CHANGES,
        "invalid_parameter",
        "invalid_body",
        "unknown_target",
        "event_not_found",
        "queue_unavailable",
      ]),
    },
  }),
  targets: createRoute({
    method: "get",
    path: "/api/targets",
    summary: "Configured targets with pause state, circuit and backlog",
    security,
    responses: {
      200: json(z.object({ data: z.array(Target) }), "In config order."),
      ...errorResponses(ALWAYS),
    },
  }),
  target: createRoute({
    method: "get",
    path: "/api/targets/{id}",
    summary: "One configured target",
    security,
    request: { params: IdParams },
    responses: {
      200: json(Target, "The target."),
      ...errorResponses([...ALWAYS, "invalid_parameter", "target_not_found"]),
    },
  }),
  pause: createRoute({
    method: "post",
    path: "/api/targets/{id}/pause",
    summary: "Pause a target's deliveries (they wait, nothing is dropped)",
    security,
    request: {
      params: IdParams,
      body: { content: { "application/json": { schema: PauseBody } }, required: false },
    },
    responses: {
      200: json(Target, "The target, paused."),
      ...errorResponses([...ALWAYS, ...CHANGES, "invalid_parameter", "invalid_body", "target_not_found"]),
    },
  }),
  resume: createRoute({
    method: "post",
    path: "/api/targets/{id}/resume",
    summary: "Resume a paused target",
    security,
    request: { params: IdParams },
    responses: {
      200: json(Target, "The target, resumed."),
      ...errorResponses([...ALWAYS, ...CHANGES, "invalid_parameter", "target_not_found"]),
    },
  }),
  ingestFailures: createRoute({
    method: "get",
    path: "/api/ingest-failures",
    summary: "Ingest jobs set aside after their retries (without their bodies)",
    security,
    request: { query: PageQuery },
    responses: {
      200: json(page(IngestFailure), "Newest first."),
      ...errorResponses([...ALWAYS, "invalid_parameter", "invalid_cursor"]),
    },
  }),
  deliveries: createRoute({
    method: "get",
    path: "/api/deliveries",
    summary: "Deliveries, most recently changed first",
    security,
    request: { query: DeliveryListQuery },
    responses: {
      200: json(page(Delivery), "A page of deliveries."),
      ...errorResponses([...ALWAYS, "invalid_parameter", "invalid_cursor"]),
    },
  }),
  retryMany: createRoute({
    method: "post",
    path: "/api/deliveries/retry",
    summary: "Retry every delivery that matches the filters (query string or body; the body wins)",
    security,
    request: {
      query: DeliveryFilterQuery.extend({ force: flag, dry_run: flag }),
      body: { content: { "application/json": { schema: RetryManyBody } }, required: false },
    },
    responses: {
      200: json(z.object({ dry_run: z.literal(true), matched: z.number().int() }), "dry_run: what matches."),
      202: json(z.object({ retried: z.number().int() }), "Queued."),
      ...errorResponses([
        ...ALWAYS,
        ...CHANGES,
        "invalid_parameter",
        "invalid_body",
        "delivery_succeeded",
        "queue_unavailable",
      ]),
    },
  }),
  delivery: createRoute({
    method: "get",
    path: "/api/deliveries/{id}",
    summary: "One delivery with its attempts",
    security,
    request: { params: IdParams },
    responses: {
      200: json(DeliveryWithAttempts, "The delivery."),
      ...errorResponses([...ALWAYS, "invalid_parameter", "delivery_not_found"]),
    },
  }),
  retryOne: createRoute({
    method: "post",
    path: "/api/deliveries/{id}/retry",
    summary: "Retry one delivery, as a new run",
    security,
    request: {
      params: IdParams,
      query: z.object({ force: flag }),
      body: { content: { "application/json": { schema: RetryOneBody } }, required: false },
    },
    responses: {
      202: json(Run, "Queued."),
      ...errorResponses([
        ...ALWAYS,
        ...CHANGES,
        "invalid_parameter",
        "invalid_body",
        "delivery_not_found",
        "delivery_succeeded",
        "target_not_configured",
        "transform_failed",
        "queue_unavailable",
      ]),
    },
  }),
} satisfies Record<string, RouteConfig>;
