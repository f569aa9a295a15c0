// Query parameters shared by the admin API, the dashboard and the CLI: one zod schema per
// listing is the only parser. The admin API validates requests with these schemas and documents
// them in its OpenAPI document (apps/admin/src/routes.ts); the CLI and the dashboard go through
// the parse*Params wrappers below. `since`/`until` take an ISO-8601 time or a duration back from
// now ("2h", "30m"): the schema checks the text, and *Filters(query, nowMs) turns it into a time.
import { parseDuration } from "@hookline/config";
import {
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditFilters,
  DELIVERY_STATUSES,
  type DeliveryFilters,
  type DeliveryListFilters,
  type DeliveryStatus,
  decodeCursor,
  type EventFilters,
  isAuditAction,
  isDeliveryStatus,
  MAX_PAGE_SIZE,
} from "@hookline/db";
import { z } from "zod";

/** The reason codes a bad parameter is refused with (docs/admin-api.md). */
export type ParamErrorCode = "invalid_parameter" | "invalid_cursor";

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: ParamErrorCode; readonly message: string };

/** Raw parameters as they arrive in a query string, a JSON body or CLI flags. */
export type RawParams = Readonly<Record<string, string | undefined>>;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A time filter as written: an instant, or a span back from whenever it is resolved. */
export type TimeFilter = { readonly at: Date } | { readonly agoMs: number };

/** "2h" → two hours back; "2026-05-29T18:30:00Z" → that instant; anything else → null. */
export function readTimeFilter(text: string): TimeFilter | null {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== null) return { agoMs: duration };
  if (!ISO_DATE.test(trimmed)) return null;
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) return null;
  const at = new Date(ms);
  // JavaScript rolls 2026-02-30 over to March 2 and accepts year 0; refuse both, as Postgres would.
  const [year, month, day] = trimmed.slice(0, 10).split("-").map(Number);
  const local = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 0));
  if (local.getUTCMonth() !== (month ?? 0) - 1 || local.getUTCDate() !== day) return null;
  return (year ?? 0) >= 1 && at.getUTCFullYear() >= 1 && at.getUTCFullYear() <= 9999 ? { at } : null;
}

function resolveTime(filter: TimeFilter | undefined, nowMs: number): Date | undefined {
  if (filter === undefined) return undefined;
  return "at" in filter ? filter.at : new Date(nowMs - filter.agoMs);
}

/** "2h" → two hours before now; "2026-05-29T18:30:00Z" → that instant; anything else → null. */
export function parseTimeFilter(text: string, nowMs: number): Date | null {
  return resolveTime(readTimeFilter(text) ?? undefined, nowMs) ?? null;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Longer than any id, source, target or type Hookline stores. */
const MAX_PARAM_LENGTH = 512;

/** Why a text parameter or path id cannot be a stored value (Postgres refuses a NUL), or null. */
export function textProblem(value: string): string | null {
  if (CONTROL.test(value)) return "holds a control character";
  if (value.length > MAX_PARAM_LENGTH) return `is longer than ${MAX_PARAM_LENGTH} characters`;
  return null;
}

type Ctx = z.core.$RefinementCtx;

/**
 * Refuses a value inside a zod transform: `code` travels in the issue's params to the HTTP edge
 * (issueProblem); `named`: the message already names its field ("reason must be a string").
 */
export function refuse(
  ctx: Ctx,
  input: unknown,
  message: string,
  code: ParamErrorCode | "invalid_body" = "invalid_parameter",
  named = false,
): never {
  ctx.issues.push({ code: "custom", input, message, params: { code, named } });
  return z.NEVER;
}

/**
 * A parameter's text: trimmed; blank is the same as absent. A refused text is undefined too (the
 * issue already fails the parse), so no check after this one sees a value that is not a string.
 */
function present(raw: string | undefined, ctx: Ctx): string | undefined {
  const value = raw?.trim();
  if (value === undefined || value === "") return undefined;
  const problem = textProblem(value);
  if (problem) {
    refuse(ctx, raw, problem);
    return undefined;
  }
  return value;
}

/** A free-text filter (a source, a target, a type, an id). */
export const textParam = () =>
  z
    .string({ error: "expected a string" })
    .optional()
    .transform((raw, ctx) => present(raw, ctx))
    .meta({ maxLength: MAX_PARAM_LENGTH });

/**
 * A parameter `read` turns into a value, or null when it cannot: refused with `why` (given the
 * text) and `code`. Blank is absent.
 */
const readParam = <T>(
  read: (text: string) => T | null,
  why: (text: string) => string,
  code: ParamErrorCode = "invalid_parameter",
) =>
  z
    .string()
    .optional()
    .transform((raw, ctx): T | undefined => {
      const text = present(raw, ctx);
      if (text === undefined) return undefined;
      return read(text) ?? refuse(ctx, raw, why(text), code);
    });

/** What a parameter was, quoted and cut short, after what it should have been. */
const got = (expected: string) => (text: string) => `${expected}, got "${text.slice(0, 64)}"`;

const timeParam = () =>
  readParam(
    readTimeFilter,
    got("expected an ISO-8601 time (2026-05-29T18:30:00Z) or a duration back from now (30m, 2h, 7d)"),
  ).meta({
    description: "An ISO-8601 time (2026-05-29T18:30:00Z) or a duration back from now (30m, 2h, 7d).",
    examples: ["2h"],
  });

const limitParam = readParam(
  (text) => {
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    return Number.isInteger(n) && n >= 1 && n <= MAX_PAGE_SIZE ? n : null;
  },
  () => `expected an integer from 1 to ${MAX_PAGE_SIZE}`,
).meta({ type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, description: "Page size." });

const cursorParam = readParam(
  (text) => (decodeCursor(text) ? text : null),
  () => "not a cursor this API gave out",
  "invalid_cursor",
).meta({ description: "The `next_cursor` of the previous page." });

/** `failed` or `failed,retrying`. */
export function parseStatuses(text: string): DeliveryStatus[] | null {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0 || !parts.every(isDeliveryStatus)) return null;
  return [...new Set(parts)] as DeliveryStatus[];
}

const statusParam = readParam(
  parseStatuses,
  got(`expected one or more of ${DELIVERY_STATUSES.join(", ")} (comma-separated)`),
).meta({
  description: `One or more of ${DELIVERY_STATUSES.join(", ")}, comma-separated.`,
  examples: ["failed,retrying"],
});

const actionParam = readParam(
  (text): AuditAction | null => (isAuditAction(text) ? text : null),
  got(`expected one of ${AUDIT_ACTIONS.join(", ")}`),
).meta({ enum: [...AUDIT_ACTIONS] });

/** `limit` and `cursor` alone: listings without filters. */
export const PageQuery = z.object({ limit: limitParam, cursor: cursorParam });

/**
 * `source`, `type`, `provider_id`, `since`, `until`, `limit`, `cursor`; and `status`, `target`:
 * events with a delivery in that status and/or to that target. Keys in the order they are
 * checked: the first bad one is the one reported.
 */
export const EventQuery = z.object({
  source: textParam(),
  type: textParam(),
  provider_id: textParam(),
  status: statusParam,
  target: textParam(),
  since: timeParam(),
  until: timeParam(),
  ...PageQuery.shape,
});

/** `status`, `target`, `source`, `event`, `since`, `until` (what bulk retry accepts too). */
export const DeliveryFilterQuery = z.object({
  status: statusParam,
  target: textParam(),
  source: textParam(),
  event: textParam(),
  since: timeParam(),
  until: timeParam(),
});

/** The delivery filters plus `limit` and `cursor`. */
export const DeliveryListQuery = z.object({ ...DeliveryFilterQuery.shape, ...PageQuery.shape });

/** `actor`, `action`, `since`, `until`, `limit`, `cursor`: the audit log's listing. */
export const AuditQuery = z.object({
  actor: textParam(),
  action: actionParam,
  since: timeParam(),
  until: timeParam(),
  ...PageQuery.shape,
});

export type PageQuery = z.output<typeof PageQuery>;
export type EventQuery = z.output<typeof EventQuery>;
export type DeliveryFilterQuery = z.output<typeof DeliveryFilterQuery>;
export type DeliveryListQuery = z.output<typeof DeliveryListQuery>;
export type AuditQuery = z.output<typeof AuditQuery>;

/** Drops undefined members: the filters are passed on with exactOptionalPropertyTypes in mind. */
function defined<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function pageParams(q: PageQuery): { limit?: number; cursor?: string } {
  return defined({ limit: q.limit, cursor: q.cursor });
}

export function eventFilters(q: EventQuery, nowMs: number): EventFilters {
  return defined<EventFilters>({
    source: q.source,
    type: q.type,
    providerId: q.provider_id,
    status: q.status,
    target: q.target,
    since: resolveTime(q.since, nowMs),
    until: resolveTime(q.until, nowMs),
    limit: q.limit,
    cursor: q.cursor,
  });
}

export function deliveryFilters(q: DeliveryFilterQuery, nowMs: number): DeliveryFilters {
  return defined<DeliveryFilters>({
    status: q.status,
    target: q.target,
    source: q.source,
    eventId: q.event,
    since: resolveTime(q.since, nowMs),
    until: resolveTime(q.until, nowMs),
  });
}

export function deliveryListFilters(q: DeliveryListQuery, nowMs: number): DeliveryListFilters {
  return { ...deliveryFilters(q, nowMs), ...pageParams(q) };
}

export function auditFilters(q: AuditQuery, nowMs: number): AuditFilters {
  return defined<AuditFilters>({
    actor: q.actor,
    action: q.action,
    since: resolveTime(q.since, nowMs),
    until: resolveTime(q.until, nowMs),
    limit: q.limit,
    cursor: q.cursor,
  });
}

/**
 * A zod failure as the API, the dashboard and the CLI report it: the first issue, named by its
 * parameter ("since: expected ..."), with the code it carries (`invalid_parameter` unless the
 * check said otherwise). `fallback`: the code of an issue zod raised itself (a wrong type).
 */
export function issueProblem<C extends string>(
  error: z.ZodError,
  fallback: C,
): { readonly code: ParamErrorCode | "invalid_body" | C; readonly message: string } {
  const issue = error.issues[0];
  if (issue === undefined) return { code: fallback, message: "invalid input" };
  const name = issue.path.length > 0 ? String(issue.path[0]) : "";
  const params = issue.code === "custom" ? (issue.params as { code?: unknown; named?: unknown }) : {};
  const code =
    params.code === "invalid_parameter" || params.code === "invalid_cursor" || params.code === "invalid_body"
      ? params.code
      : fallback;
  const message = name === "" || params.named === true ? issue.message : `${name}: ${issue.message}`;
  return { code, message };
}

function parseWith<S extends z.ZodType, T>(schema: S, build: (q: z.output<S>) => T) {
  return (params: RawParams): Parsed<T> => {
    const parsed = schema.safeParse(params);
    if (!parsed.success) {
      const problem = issueProblem(parsed.error, "invalid_parameter");
      // Only the admin API's bodies refuse with invalid_body; a parameter is always a parameter.
      const code = problem.code === "invalid_cursor" ? "invalid_cursor" : "invalid_parameter";
      return { ok: false, code, message: problem.message };
    }
    return { ok: true, value: build(parsed.data) };
  };
}

export function parseEventParams(params: RawParams, nowMs: number): Parsed<EventFilters> {
  return parseWith(EventQuery, (q) => eventFilters(q, nowMs))(params);
}

export function parseDeliveryFilterParams(params: RawParams, nowMs: number): Parsed<DeliveryFilters> {
  return parseWith(DeliveryFilterQuery, (q) => deliveryFilters(q, nowMs))(params);
}

export function parseDeliveryListParams(params: RawParams, nowMs: number): Parsed<DeliveryListFilters> {
  return parseWith(DeliveryListQuery, (q) => deliveryListFilters(q, nowMs))(params);
}

export function parsePageParams(params: RawParams): Parsed<{ limit?: number; cursor?: string }> {
  return parseWith(PageQuery, pageParams)(params);
}

export function parseAuditParams(params: RawParams, nowMs: number): Parsed<AuditFilters> {
  return parseWith(AuditQuery, (q) => auditFilters(q, nowMs))(params);
}
