// Query parameters shared by the admin API and the CLI: the same names, the same parsing, the
// same errors. `since`/`until` take an ISO-8601 time or a duration back from now ("2h", "30m").
import { parseDuration } from "@hookline/config";
import {
  AUDIT_ACTIONS,
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

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: "invalid_parameter" | "invalid_cursor"; readonly message: string };

/** Raw parameters as they arrive in a query string, a JSON body or CLI flags. */
export type RawParams = Readonly<Record<string, string | undefined>>;

class ParamError extends Error {
  constructor(
    readonly code: "invalid_parameter" | "invalid_cursor",
    message: string,
  ) {
    super(message);
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/** "2h" → two hours before now; "2026-05-29T18:30:00Z" → that instant; anything else → null. */
export function parseTimeFilter(text: string, nowMs: number): Date | null {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== null) return new Date(nowMs - duration);
  if (!ISO_DATE.test(trimmed)) return null;
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) return null;
  const at = new Date(ms);
  // JavaScript rolls 2026-02-30 over to March 2 and accepts year 0; refuse both, as Postgres would.
  const [year, month, day] = trimmed.slice(0, 10).split("-").map(Number);
  const local = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 0));
  if (local.getUTCMonth() !== (month ?? 0) - 1 || local.getUTCDate() !== day) return null;
  return (year ?? 0) >= 1 && at.getUTCFullYear() >= 1 && at.getUTCFullYear() <= 9999 ? at : null;
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

function nonEmpty(params: RawParams, name: string): string | undefined {
  const value = params[name]?.trim();
  if (value === undefined || value === "") return undefined;
  const problem = textProblem(value);
  if (problem) throw new ParamError("invalid_parameter", `${name}: ${problem}`);
  return value;
}

function time(params: RawParams, name: string, nowMs: number): Date | undefined {
  const text = nonEmpty(params, name);
  if (text === undefined) return undefined;
  const at = parseTimeFilter(text, nowMs);
  if (!at) {
    throw new ParamError(
      "invalid_parameter",
      `${name}: expected an ISO-8601 time (2026-05-29T18:30:00Z) or a duration back from now (30m, 2h, 7d), got "${text.slice(0, 64)}"`,
    );
  }
  return at;
}

function limit(params: RawParams): number | undefined {
  const text = nonEmpty(params, "limit");
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    throw new ParamError("invalid_parameter", `limit: expected an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return n;
}

function cursor(params: RawParams): string | undefined {
  const text = nonEmpty(params, "cursor");
  if (text === undefined) return undefined;
  if (!decodeCursor(text)) throw new ParamError("invalid_cursor", "cursor: not a cursor this API gave out");
  return text;
}

/** `failed` or `failed,retrying`. */
export function parseStatuses(text: string): DeliveryStatus[] | null {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0 || !parts.every(isDeliveryStatus)) return null;
  return [...new Set(parts)] as DeliveryStatus[];
}

function statuses(params: RawParams): DeliveryStatus[] | undefined {
  const text = nonEmpty(params, "status");
  if (text === undefined) return undefined;
  const parsed = parseStatuses(text);
  if (!parsed) {
    throw new ParamError(
      "invalid_parameter",
      `status: expected one or more of ${DELIVERY_STATUSES.join(", ")} (comma-separated), got "${text.slice(0, 64)}"`,
    );
  }
  return parsed;
}

function attempt<T>(build: () => T): Parsed<T> {
  try {
    return { ok: true, value: build() };
  } catch (error) {
    if (error instanceof ParamError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

/** Drops undefined members: the filters are passed on with exactOptionalPropertyTypes in mind. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * `source`, `type`, `provider_id`, `since`, `until`, `limit`, `cursor`; and `status`, `target`:
 * events with a delivery in that status and/or to that target.
 */
export function parseEventParams(params: RawParams, nowMs: number): Parsed<EventFilters> {
  return attempt(() =>
    defined<EventFilters>({
      source: nonEmpty(params, "source"),
      type: nonEmpty(params, "type"),
      providerId: nonEmpty(params, "provider_id"),
      status: statuses(params),
      target: nonEmpty(params, "target"),
      since: time(params, "since", nowMs),
      until: time(params, "until", nowMs),
      limit: limit(params),
      cursor: cursor(params),
    }),
  );
}

/** `status`, `target`, `source`, `event`, `since`, `until` (what bulk retry accepts too). */
export function parseDeliveryFilterParams(params: RawParams, nowMs: number): Parsed<DeliveryFilters> {
  return attempt(() =>
    defined<DeliveryFilters>({
      status: statuses(params),
      target: nonEmpty(params, "target"),
      source: nonEmpty(params, "source"),
      eventId: nonEmpty(params, "event"),
      since: time(params, "since", nowMs),
      until: time(params, "until", nowMs),
    }),
  );
}

/** The delivery filters plus `limit` and `cursor`. */
export function parseDeliveryListParams(params: RawParams, nowMs: number): Parsed<DeliveryListFilters> {
  const filters = parseDeliveryFilterParams(params, nowMs);
  if (!filters.ok) return filters;
  return attempt(() => defined({ ...filters.value, limit: limit(params), cursor: cursor(params) }));
}

/** `limit` and `cursor` alone: listings without filters. */
export function parsePageParams(params: RawParams): Parsed<{ limit?: number; cursor?: string }> {
  return attempt(() => defined({ limit: limit(params), cursor: cursor(params) }));
}

/** `actor`, `action`, `since`, `until`, `limit`, `cursor`: the audit log's listing. */
export function parseAuditParams(params: RawParams, nowMs: number): Parsed<AuditFilters> {
  return attempt(() => {
    const action = nonEmpty(params, "action");
    if (action !== undefined && !isAuditAction(action)) {
      throw new ParamError(
        "invalid_parameter",
        `action: expected one of ${AUDIT_ACTIONS.join(", ")}, got "${action.slice(0, 64)}"`,
      );
    }
    return defined<AuditFilters>({
      actor: nonEmpty(params, "actor"),
      action,
      since: time(params, "since", nowMs),
      until: time(params, "until", nowMs),
      limit: limit(params),
      cursor: cursor(params),
    });
  });
}
