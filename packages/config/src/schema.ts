// The zod schema of hookline.yaml. Objects are strict (a typo is an error naming the key);
// units are parsed here so the loader receives milliseconds, bytes and rate limits.

import type { DedupeKeySpec, EventTypeSpec } from "@hookline/verify";
import { z } from "zod";
import type { RateLimit } from "./types.js";
import { parseByteSize, parseDuration, parseRateLimit } from "./units.js";

export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

type Check<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** A field parsed by hand: full control over the message, one issue at the field's path. */
function field<T>(check: (input: unknown) => Check<T>) {
  return z.unknown().transform((input, ctx): T => {
    const result = check(input);
    if (result.ok) return result.value;
    ctx.addIssue({ code: "custom", message: result.message });
    return z.NEVER;
  });
}

/** A value for an error message; long strings are shortened, and `secret` hides their text. */
export function describe(value: unknown, secret = false): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") {
    if (secret) return "a string";
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  // A token written unquoted arrives as a number: still not to be shown.
  if (secret) return `a ${typeof value}`;
  return `${typeof value} ${String(value)}`;
}

/** Numbers may arrive as strings after `${VAR:-8080}` expansion; only digit strings count. */
function asNumber(input: unknown): number | undefined {
  if (typeof input === "number") return input;
  if (typeof input === "string" && /^\d+$/.test(input.trim())) return Number(input.trim());
  return undefined;
}

export function integer(min: number, max: number) {
  return field<number>((input) => {
    const value = asNumber(input);
    if (value !== undefined && Number.isInteger(value) && value >= min && value <= max)
      return { ok: true, value };
    return { ok: false, message: `must be an integer from ${min} to ${max}, got ${describe(input)}` };
  });
}

/** A duration in ms; `minMs` 1 forbids zero. Bare numbers other than 0 are refused (unit needed). */
export function duration(minMs = 0) {
  return field<number>((input) => {
    if (typeof input === "number" && input !== 0) {
      return {
        ok: false,
        message: `invalid duration ${input}: add a unit (ms, s, m, h, d), e.g. "${input}s"`,
      };
    }
    const ms = typeof input === "number" ? 0 : typeof input === "string" ? parseDuration(input) : null;
    if (ms === null) {
      const shown = typeof input === "string" ? JSON.stringify(input) : describe(input);
      return {
        ok: false,
        message: `invalid duration ${shown} (use ms, s, m, h or d, e.g. "200ms", "5m", "72h")`,
      };
    }
    if (ms < minMs) return { ok: false, message: "must be longer than 0" };
    return { ok: true, value: ms };
  });
}

/** A duration, or `forever` (null). */
const retentionDuration = field<number | null>((input) => {
  if (input === "forever") return { ok: true, value: null };
  const ms = typeof input === "string" ? parseDuration(input) : null;
  if (ms === null || ms <= 0) {
    return {
      ok: false,
      message: `must be a duration longer than 0 (e.g. "30d") or "forever", got ${describe(input)}`,
    };
  }
  return { ok: true, value: ms };
});

const byteSize = field<number>((input) => {
  const bytes =
    typeof input === "number"
      ? Number.isSafeInteger(input)
        ? input
        : null
      : typeof input === "string"
        ? parseByteSize(input)
        : null;
  if (bytes === null || bytes <= 0) {
    return {
      ok: false,
      message: `invalid size ${describe(input)} (e.g. "512kb", "1mb", or a number of bytes)`,
    };
  }
  return { ok: true, value: bytes };
});

const rateLimit = field<RateLimit>((input) => {
  const limit = typeof input === "string" ? parseRateLimit(input) : null;
  if (limit === null)
    return { ok: false, message: `invalid rate limit ${describe(input)} (e.g. "50/s", "1000/m", "10/h")` };
  return { ok: true, value: limit };
});

const text = z.string().min(1);

const id = z.string().regex(ID_PATTERN, {
  error: (issue) =>
    `must be 1-64 letters, digits, "-" or "_", starting with a letter or digit, got ${describe(issue.input)}`,
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function onlyKey(input: Record<string, unknown>): [string, unknown] | null {
  const entries = Object.entries(input);
  return entries.length === 1 ? (entries[0] ?? null) : null;
}

const nonEmptyString = (value: unknown): value is string => typeof value === "string" && value.length > 0;

const dedupeKey = field<DedupeKeySpec>((input) => {
  if (input === "body") return { ok: true, value: "body" };
  const entry = isRecord(input) ? onlyKey(input) : null;
  if (entry !== null) {
    const [key, value] = entry;
    if (key === "header" && nonEmptyString(value)) return { ok: true, value: { header: value } };
    if (key === "json" && nonEmptyString(value)) return { ok: true, value: { json: [value] } };
    if (key === "json" && Array.isArray(value) && value.length > 0 && value.every(nonEmptyString)) {
      return { ok: true, value: { json: value } };
    }
  }
  return {
    ok: false,
    message: `must be "body", { header: NAME } or { json: [PATH, ...] }, got ${describe(input)}`,
  };
});

const eventType = field<EventTypeSpec>((input) => {
  const entry = isRecord(input) ? onlyKey(input) : null;
  if (entry !== null) {
    const [key, value] = entry;
    if (key === "header" && nonEmptyString(value)) return { ok: true, value: { header: value } };
    if (key === "json" && nonEmptyString(value)) return { ok: true, value: { json: value } };
  }
  return { ok: false, message: `must be { header: NAME } or { json: PATH }, got ${describe(input)}` };
});

/** Gateway processes: a count, or `auto` for one per core. */
const workerCount = field<number | "auto">((input) => {
  if (input === "auto") return { ok: true, value: "auto" };
  const value = asNumber(input);
  if (value !== undefined && Number.isInteger(value) && value >= 1 && value <= 256)
    return { ok: true, value };
  return { ok: false, message: `must be "auto" or an integer from 1 to 256, got ${describe(input)}` };
});

export const serverSchema = z.strictObject({
  port: integer(0, 65535).optional(),
  host: text.optional(),
  admin_port: integer(0, 65535).optional(),
  admin_host: text.optional(),
  body_limit: byteSize.optional(),
  workers: workerCount.optional(),
  queue_linger: duration().optional(),
  ingest_thread: z.boolean().optional(),
  enqueue_timeout: duration(1).optional(),
  body_idle_timeout: duration(1).optional(),
  headers_timeout: duration(1).optional(),
  request_timeout: duration(1).optional(),
  retry_after: duration(1000).optional(),
  trusted_proxies: z.array(z.string()).optional(),
  require_https_targets: z.boolean().optional(),
});

export const verifySchema = z.strictObject({
  scheme: text,
  secrets: z.array(z.string()).optional(),
  tolerance: duration().optional(),
  public_key: text.optional(),
  header: text.optional(),
  algorithm: z.enum(["sha1", "sha256", "sha512"]).optional(),
  encoding: z.enum(["hex", "base64"]).optional(),
  prefix: z.string().optional(),
  signed_content: text.optional(),
  timestamp_header: text.optional(),
  timestamp_unit: z.enum(["s", "ms"]).optional(),
  id_header: text.optional(),
});

export const sourceSchema = z.strictObject({
  id,
  verify: verifySchema,
  dedupe: z.strictObject({ window: duration(1).optional(), key: dedupeKey.optional() }).optional(),
  event_type: eventType.optional(),
  allow_ips: z.array(z.string()).optional(),
});

const headerValue = z.union([z.string(), z.number()]).transform(String);

export const targetSchema = z.strictObject({
  id,
  type: z.enum(["http", "amqp", "nats"]).optional(),
  url: text,
  exchange: z.string().optional(),
  routing_key: text.optional(),
  subject: text.optional(),
  timeout: duration(1).optional(),
  connect_timeout: duration(1).optional(),
  retry: z.strictObject({ schedule: z.array(duration()).optional() }).optional(),
  rate_limit: rateLimit.optional(),
  concurrency: integer(1, 1000).optional(),
  signing_secret: z.string().optional(),
  signing_secrets: z.array(z.string()).optional(),
  headers: z.record(z.string(), headerValue).optional(),
  circuit_breaker: z
    .strictObject({ failure_threshold: integer(1, 1_000_000).optional(), cooldown: duration(1).optional() })
    .optional(),
  tls: z
    .strictObject({ ca_file: text.optional(), cert_file: text.optional(), key_file: text.optional() })
    .optional(),
});

export const routeSchema = z.strictObject({
  source: text,
  events: z.array(text).min(1).optional(),
  targets: z.array(text).min(1),
  ordering_key: z.union([z.string(), z.strictObject({ header: text })]).optional(),
  filter: z.strictObject({ body: z.unknown().optional(), headers: z.unknown().optional() }).optional(),
  transform: text.optional(),
  transform_timeout: duration(1).optional(),
});

export const retentionSchema = z.strictObject({
  events: retentionDuration.optional(),
  attempts: retentionDuration.optional(),
  interval: duration(1).optional(),
  partitioning: z.enum(["none", "daily", "weekly"]).optional(),
});

export const ingestSchema = z.strictObject({
  shards: integer(1, 256).optional(),
});

export const workerSchema = z.strictObject({
  lock_duration: duration(1).optional(),
  stalled_interval: duration(1).optional(),
  ingest_concurrency: integer(1, 1000).optional(),
  reconcile_interval: duration(1).optional(),
  reconcile_batch: integer(1, 100_000).optional(),
  reconcile_grace: duration(1).optional(),
  removed_target_grace: duration(1).optional(),
});

/** What Hookline tells an alert destination about (contract: "Alerts"). */
export const ALERT_TYPES = [
  "circuit.opened",
  "circuit.closed",
  "delivery.failed",
  "target.paused",
  "target.resumed",
  "backlog.high",
] as const;

export const alertSchema = z.strictObject({
  url: text,
  format: z.enum(["standard-webhooks", "slack"]).optional(),
  signing_secret: z.string().optional(),
  events: z.array(z.enum(ALERT_TYPES)).min(1).optional(),
  backlog_threshold: integer(1, 1_000_000_000).optional(),
});

/** One admin token; the secret is never echoed in an error (it may be half-typed). */
export const adminTokenSchema = z.strictObject({
  name: id,
  token: z.string(),
  role: z.enum(["read", "operate"]),
});

export const adminSchema = z.strictObject({ tokens: z.array(z.unknown()).optional() });

/** The top level only: each section is validated on its own so one bad item hides nothing else. */
export const rootSchema = z.strictObject({
  server: z.unknown().optional(),
  sources: z.unknown().optional(),
  targets: z.unknown().optional(),
  routes: z.unknown().optional(),
  retention: z.unknown().optional(),
  ingest: z.unknown().optional(),
  worker: z.unknown().optional(),
  alerts: z.unknown().optional(),
  admin: z.unknown().optional(),
});

export type RawSource = z.infer<typeof sourceSchema>;
export type RawTarget = z.infer<typeof targetSchema>;
