// One builder per section of hookline.yaml: validate its raw value, apply the defaults, compile
// what can be compiled (verifiers), and report each problem with its path.
import { compileMatch, type Matcher } from "@hookline/filter";
import { type CompiledTransform, compileTransform } from "@hookline/transform";
import type { SourceSpec, VerifySpec } from "@hookline/verify";
import { createVerifier, validateStandardWebhooksSecret } from "@hookline/verify";
import type { z } from "zod";
import { DEFAULTS } from "./defaults.js";
import { MIN_ADMIN_TOKEN_LENGTH } from "./env.js";
import { errorText, type Issue, isRecord, startsWith, validate } from "./issues.js";
import { type Cidr, compileAddressList, parseCidr } from "./network.js";
import { type PathSegment, parsePath } from "./paths.js";
import {
  adminSchema,
  adminTokenSchema,
  describe,
  ingestSchema,
  type RawSource,
  type RawTarget,
  retentionSchema,
  routeSchema,
  serverSchema,
  sourceSchema,
  targetSchema,
  workerSchema,
} from "./schema.js";
import { readTargetTls } from "./tls.js";
import type {
  AddressList,
  AdminConfig,
  AdminTokenConfig,
  Destination,
  IngestConfig,
  OrderingKeySpec,
  RetentionConfig,
  RouteConfig,
  RouteFilter,
  ServerConfig,
  SourceConfig,
  TargetConfig,
  TargetTls,
  WorkerConfig,
} from "./types.js";

const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function asList(value: unknown, at: PathSegment, issues: Issue[]): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  issues.push({ at: [at], message: `expected a list, got ${describe(value)}` });
  return [];
}

/** Records ids (even of otherwise invalid items, so references to them are not reported twice). */
export function collectIds(
  items: readonly unknown[],
  section: "sources" | "targets",
  issues: Issue[],
): Set<string> {
  const firstIndex = new Map<string, number>();
  items.forEach((item, i) => {
    if (!isRecord(item) || typeof item.id !== "string") return;
    const first = firstIndex.get(item.id);
    if (first === undefined) firstIndex.set(item.id, i);
    else {
      const noun = section === "sources" ? "source" : "target";
      issues.push({
        at: [section, i, "id"],
        message: `duplicate ${noun} id "${item.id}" (already used by ${section}[${first}])`,
      });
    }
  });
  return new Set(firstIndex.keys());
}

/** A list of CIDRs (null when absent); undefined, with an issue per bad entry, when one is wrong. */
function buildAddressList(
  list: readonly string[] | undefined,
  at: readonly PathSegment[],
  issues: Issue[],
): AddressList | null | undefined {
  if (list === undefined) return null;
  if (list.length === 0) {
    issues.push({ at, message: "must not be empty (leave it out to mean any address)" });
    return undefined;
  }
  const cidrs: Cidr[] = [];
  list.forEach((text, j) => {
    const parsed = parseCidr(text);
    if (parsed.ok) cidrs.push(parsed.cidr);
    else issues.push({ at: [...at, j], message: parsed.message });
  });
  return cidrs.length === list.length ? compileAddressList(cidrs, list) : undefined;
}

export function buildServer(raw: unknown, issues: Issue[]): ServerConfig | undefined {
  const parsed = validate(serverSchema, raw ?? {}, ["server"], issues);
  if (parsed === undefined) return undefined;
  const d = DEFAULTS.server;
  const trustedProxies = buildAddressList(parsed.trusted_proxies, ["server", "trusted_proxies"], issues);
  if (trustedProxies === undefined) return undefined;
  const server: ServerConfig = {
    ...withDefaults(parsed, d, {
      host: "host",
      port: "port",
      adminHost: "admin_host",
      adminPort: "admin_port",
      bodyLimitBytes: "body_limit",
      workers: "workers",
      queueLingerMs: "queue_linger",
      ingestThread: "ingest_thread",
      enqueueTimeoutMs: "enqueue_timeout",
      bodyIdleTimeoutMs: "body_idle_timeout",
      headersTimeoutMs: "headers_timeout",
      requestTimeoutMs: "request_timeout",
      requireHttpsTargets: "require_https_targets",
    }),
    retryAfterSeconds:
      parsed.retry_after === undefined ? d.retryAfterSeconds : Math.ceil(parsed.retry_after / 1000),
    trustedProxies: trustedProxies ?? d.trustedProxies,
  };
  if (server.port !== 0 && server.port === server.adminPort) {
    issues.push({ at: ["server", "admin_port"], message: `must differ from server.port (${server.port})` });
  }
  return server;
}

/** createVerifier reports paths on the camelCase SourceSpec; point them back at the YAML keys. */
const SPEC_KEY_TO_YAML: Readonly<Record<string, readonly string[]>> = {
  toleranceSeconds: ["tolerance"],
  dedupeKey: ["dedupe", "key"],
};

export function specPathToYaml(path: string): PathSegment[] {
  return parsePath(path).flatMap((segment): PathSegment[] => {
    if (typeof segment === "number") return [segment];
    const mapped = SPEC_KEY_TO_YAML[segment];
    return mapped !== undefined ? [...mapped] : [segment.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
  });
}

export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** What `withDefaults` returns: each listed field, as parsed or as its default. */
type Filled<P, D, K> = { readonly [F in keyof K & keyof D]: D[F] | Exclude<P[K[F] & keyof P], undefined> };

/**
 * Each field of `keys` from its YAML key in `parsed`, or from `defaults` where the key (or the
 * whole mapping) is absent; a null is kept (retention's `forever`). The YAML keys are listed
 * rather than derived: most leave out the field's unit (`body_limit` fills `bodyLimitBytes`).
 */
function withDefaults<
  P extends object,
  D extends object,
  const K extends { readonly [F in keyof D]?: keyof P },
>(parsed: P | undefined, defaults: D, keys: K): Filled<P, D, K> {
  const filled: Partial<Record<keyof D, unknown>> = {};
  for (const field of Object.keys(keys) as (keyof K & keyof D)[]) {
    const value = parsed?.[keys[field] as keyof P];
    filled[field] = value === undefined ? defaults[field] : value;
  }
  return filled as Filled<P, D, K>;
}

export function toSpec(raw: RawSource): SourceSpec {
  const v = raw.verify;
  const verify: VerifySpec = compact({
    scheme: v.scheme,
    secrets: v.secrets,
    toleranceSeconds: v.tolerance === undefined ? undefined : v.tolerance / 1000,
    publicKey: v.public_key,
    header: v.header,
    algorithm: v.algorithm,
    encoding: v.encoding,
    prefix: v.prefix,
    signedContent: v.signed_content,
    timestampHeader: v.timestamp_header,
    timestampUnit: v.timestamp_unit,
    idHeader: v.id_header,
  });
  return compact({ verify, eventType: raw.event_type, dedupeKey: raw.dedupe?.key });
}

export function buildSource(
  raw: unknown,
  i: number,
  envIssueAt: readonly Issue[],
  issues: Issue[],
): SourceConfig | undefined {
  const at: PathSegment[] = ["sources", i];
  const parsed = validate(sourceSchema, raw, at, issues);
  if (parsed === undefined) return undefined;
  // An unexpanded ${VAR} is not the secret the user meant: compiling it would only add noise.
  if (envIssueAt.some((issue) => startsWith(issue.at, at))) return undefined;

  let ok = true;
  const allowIps = buildAddressList(parsed.allow_ips, [...at, "allow_ips"], issues);
  if (allowIps === undefined) ok = false;
  parsed.verify.secrets?.forEach((secret, j) => {
    if (secret.trim() === "") {
      issues.push({
        at: [...at, "verify", "secrets", j],
        message: "must not be empty (is its environment variable set?)",
      });
      ok = false;
    }
  });
  if (!ok || allowIps === undefined) return undefined;

  const spec = toSpec(parsed);
  let compiled: ReturnType<typeof createVerifier>;
  try {
    compiled = createVerifier(spec);
  } catch (error) {
    issues.push({ at: [...at, "verify"], message: `could not create the verifier: ${errorText(error)}` });
    return undefined;
  }
  if (!compiled.ok) {
    for (const error of compiled.errors)
      issues.push({ at: [...at, ...specPathToYaml(error.path)], message: error.message });
    return undefined;
  }
  return {
    id: parsed.id,
    spec,
    verifier: compiled.verifier,
    dedupeWindowMs: parsed.dedupe?.window ?? DEFAULTS.source.dedupeWindowMs,
    allowIps: allowIps ?? DEFAULTS.source.allowIps,
  };
}

export function checkSigningSecrets(
  parsed: Pick<RawTarget, "signing_secret" | "signing_secrets">,
  at: readonly PathSegment[],
  issues: Issue[],
): string[] | undefined {
  if (parsed.signing_secret !== undefined && parsed.signing_secrets !== undefined) {
    issues.push({
      at: [...at, "signing_secrets"],
      message: "set either signing_secret or signing_secrets, not both",
    });
    return undefined;
  }
  const entries: [readonly PathSegment[], string][] =
    parsed.signing_secret !== undefined
      ? [[[...at, "signing_secret"], parsed.signing_secret]]
      : (parsed.signing_secrets ?? []).map((secret, j) => [[...at, "signing_secrets", j], secret]);
  let ok = true;
  for (const [path, secret] of entries) {
    let problem: string | null;
    if (secret.trim() === "") problem = "must not be empty (is its environment variable set?)";
    else {
      try {
        problem = validateStandardWebhooksSecret(secret);
      } catch (error) {
        problem = `invalid secret: ${errorText(error)}`;
      }
    }
    if (problem !== null) {
      issues.push({ at: path, message: problem });
      ok = false;
    }
  }
  return ok ? entries.map(([, secret]) => secret) : undefined;
}

export function checkHeaders(
  headers: Readonly<Record<string, string>>,
  at: readonly PathSegment[],
  issues: Issue[],
): boolean {
  let ok = true;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    let problem: string | undefined;
    if (!HEADER_NAME.test(name)) problem = `invalid header name "${name}"`;
    else if (RESERVED_HEADERS.has(lower) || lower.startsWith("hookline-")) {
      problem = `"${name}" is set by Hookline on every forwarded request and cannot be configured`;
    } else if (/[\r\n\0]/.test(value)) problem = "header values may not contain line breaks or NUL";
    if (problem !== undefined) {
      issues.push({ at: [...at, "headers", name], message: problem });
      ok = false;
    }
  }
  return ok;
}

const URL_SCHEMES = {
  http: ["http:", "https:"],
  amqp: ["amqp:", "amqps:"],
  nats: ["nats:", "tls:"],
} as const;

function checkTargetUrl(text: string, type: keyof typeof URL_SCHEMES): string | null {
  const schemes: readonly string[] = URL_SCHEMES[type];
  const expected = schemes.map((s) => `${s}//`).join(" or ");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `is not a valid URL (expected ${expected}...)`;
  }
  if (!schemes.includes(url.protocol))
    return `${type} targets take ${expected} URLs, got a ${url.protocol} URL`;
  return null;
}

const TEMPLATE_FIELD = /\{([^{}]*)\}/g;

/** A routing key or subject template: only `{source}` and `{event_type}` are filled in. */
function checkTemplate(template: string): string | null {
  for (const [, name] of template.matchAll(TEMPLATE_FIELD))
    if (name !== "source" && name !== "event_type")
      return `unknown field {${name}} (a template may use {source} and {event_type})`;
  return null;
}

const an = (type: "http" | "amqp" | "nats") => (type === "nats" ? "a nats" : `an ${type}`);

function buildDestination(
  parsed: RawTarget,
  type: "http" | "amqp" | "nats",
  at: PathSegment[],
  issues: Issue[],
): Destination | undefined {
  const problems: Issue[] = [];
  const extra = (key: "exchange" | "routing_key" | "subject", allowed: boolean) => {
    if (parsed[key] !== undefined && !allowed)
      problems.push({
        at: [...at, key],
        message: `is not a setting of ${an(type)} target`,
      });
  };
  const template = (key: "routing_key" | "subject") => {
    const value = parsed[key];
    if (value === undefined) {
      problems.push({
        at: [...at, key],
        message: `is required for ${an(type)} target`,
      });
      return "";
    }
    const problem = checkTemplate(value);
    if (problem) problems.push({ at: [...at, key], message: problem });
    return value;
  };
  extra("exchange", type === "amqp");
  extra("routing_key", type === "amqp");
  extra("subject", type === "nats");
  let destination: Destination;
  if (type === "amqp") {
    if (parsed.exchange === undefined)
      problems.push({
        at: [...at, "exchange"],
        message: 'is required for an amqp target ("" is the default exchange)',
      });
    destination = { kind: "amqp", exchange: parsed.exchange ?? "", routingKey: template("routing_key") };
  } else if (type === "nats") destination = { kind: "nats", subject: template("subject") };
  else destination = { kind: "http" };
  issues.push(...problems);
  return problems.length > 0 ? undefined : destination;
}

/** What a target's checks need from the rest of the config. */
export interface TargetContext {
  /** `server.require_https_targets`. */
  readonly requireHttps: boolean;
  /** Relative `tls` file paths start here: the config file's folder. */
  readonly baseDir: string;
}

export function buildTarget(
  raw: unknown,
  i: number,
  issues: Issue[],
  context: TargetContext,
): TargetConfig | undefined {
  const at: PathSegment[] = ["targets", i];
  const parsed = validate(targetSchema, raw, at, issues);
  if (parsed === undefined) return undefined;
  let ok = true;

  const type = parsed.type ?? "http";
  // The URL is not echoed: it may carry a token (Slack-style webhook URLs, basic auth).
  const urlProblem =
    checkTargetUrl(parsed.url, type) ??
    (type === "http" && context.requireHttps && new URL(parsed.url).protocol === "http:"
      ? "is a plain http:// URL, and server.require_https_targets is set: use https://"
      : null);
  if (urlProblem !== null) {
    issues.push({ at: [...at, "url"], message: urlProblem });
    ok = false;
  }
  let tls: TargetTls | null = null;
  if (parsed.tls !== undefined) {
    if (type !== "http") {
      // Broker TLS takes its own options (amqplib's socket options, NATS's tls block): not wired yet.
      issues.push({
        at: [...at, "tls"],
        message: `is a setting of http targets only; ${an(type)} target cannot take a private CA or client certificate yet`,
      });
      ok = false;
    } else if (urlProblem === null && new URL(parsed.url).protocol === "http:") {
      issues.push({ at: [...at, "tls"], message: "is set, but the url is plain http://: use https://" });
      ok = false;
    } else {
      const read = readTargetTls(parsed.tls, [...at, "tls"], context.baseDir, issues);
      if (read === undefined) ok = false;
      else tls = read;
    }
  }
  const destination = buildDestination(parsed, type, at, issues);
  if (destination === undefined) ok = false;
  const signingSecrets = checkSigningSecrets(parsed, at, issues);
  const headers = parsed.headers ?? {};
  if (!checkHeaders(headers, at, issues)) ok = false;
  if (!ok || signingSecrets === undefined || destination === undefined) return undefined;

  const d = DEFAULTS.target;
  return {
    id: parsed.id,
    url: parsed.url,
    destination,
    ...withDefaults(parsed, d, {
      timeoutMs: "timeout",
      connectTimeoutMs: "connect_timeout",
      concurrency: "concurrency",
    }),
    retryScheduleMs: parsed.retry?.schedule ?? [...d.retryScheduleMs],
    rateLimit: parsed.rate_limit ?? null,
    signingSecrets,
    headers,
    circuitBreaker: withDefaults(parsed.circuit_breaker, d.circuitBreaker, {
      failureThreshold: "failure_threshold",
      cooldownMs: "cooldown",
    }),
    tls,
  };
}

export function buildRoute(
  raw: unknown,
  i: number,
  sourceIds: ReadonlySet<string>,
  targetIds: ReadonlySet<string>,
  issues: Issue[],
): RouteConfig | undefined {
  const at: PathSegment[] = ["routes", i];
  const parsed = validate(routeSchema, raw, at, issues);
  // References are checked on the raw item, so they are reported even when another key is wrong.
  let ok = true;
  const source = isRecord(raw) ? raw.source : undefined;
  if (typeof source === "string" && source !== "" && !sourceIds.has(source)) {
    issues.push({ at: [...at, "source"], message: `unknown source "${source}"` });
    ok = false;
  }
  const targets = isRecord(raw) && Array.isArray(raw.targets) ? raw.targets : [];
  targets.forEach((target: unknown, j) => {
    if (typeof target === "string" && target !== "" && !targetIds.has(target)) {
      issues.push({ at: [...at, "targets", j], message: `unknown target "${target}"` });
      ok = false;
    }
  });
  if (parsed === undefined) return undefined;
  let orderingKey: OrderingKeySpec | null = null;
  if (parsed.ordering_key !== undefined) {
    const built = buildOrderingKey(parsed.ordering_key);
    if ("problem" in built) {
      issues.push({ at: [...at, "ordering_key", ...built.at], message: built.problem });
      ok = false;
    } else orderingKey = built;
  }
  let filter: RouteFilter | null = null;
  if (parsed.filter !== undefined) {
    const compiled = (part: "body" | "headers"): Matcher | null => {
      const spec = parsed.filter?.[part];
      if (spec === undefined) return null;
      const result = compileMatch(spec, { lowerCaseFields: part === "headers" });
      if (result.ok) return result.match;
      for (const issue of result.issues)
        issues.push({ at: [...at, "filter", part, ...issue.at], message: issue.message });
      ok = false;
      return null;
    };
    filter = { body: compiled("body"), headers: compiled("headers") };
  }
  let transform: CompiledTransform | null = null;
  if (parsed.transform !== undefined) {
    const compiled = compileTransform(
      parsed.transform,
      parsed.transform_timeout ?? DEFAULTS.route.transformTimeoutMs,
    );
    if (compiled.ok) transform = compiled.transform;
    else {
      issues.push({ at: [...at, "transform"], message: compiled.message });
      ok = false;
    }
  } else if (parsed.transform_timeout !== undefined) {
    issues.push({ at: [...at, "transform_timeout"], message: "is set but the route has no transform" });
    ok = false;
  }
  if (!ok) return undefined;
  return {
    source: parsed.source,
    events: parsed.events ?? [...DEFAULTS.route.events],
    targets: [...new Set(parsed.targets)],
    orderingKey,
    filter,
    transform,
  };
}

/** A JSON pointer (RFC 6901) into the body, or a header name. */
function buildOrderingKey(
  raw: string | { header: string },
): OrderingKeySpec | { readonly problem: string; readonly at: PathSegment[] } {
  if (typeof raw !== "string") {
    if (!HEADER_NAME.test(raw.header))
      return { problem: `"${raw.header}" is not a header name`, at: ["header"] };
    return { kind: "header", name: raw.header.toLowerCase() };
  }
  const tokens = parseJsonPointer(raw);
  if (tokens === null)
    return {
      problem: `"${raw}" is not a JSON pointer into the body (it starts with "/", as in "/data/customer_id"; "~" only as "~0" or "~1")`,
      at: [],
    };
  return { kind: "body", pointer: raw, tokens };
}

/** RFC 6901 reference tokens, unescaped; null when `pointer` is not a pointer below the root. */
export function parseJsonPointer(pointer: string): string[] | null {
  if (!pointer.startsWith("/")) return null;
  const tokens: string[] = [];
  for (const raw of pointer.slice(1).split("/")) {
    if (/~(?![01])/.test(raw)) return null;
    tokens.push(raw.replace(/~1/g, "/").replace(/~0/g, "~"));
  }
  return tokens;
}

/** A section of plain settings: validated whole (absent is empty), then defaults filled in. */
function buildSettings<
  P extends object,
  D extends object,
  const K extends { readonly [F in keyof D]?: keyof P },
>(
  section: string,
  schema: z.ZodType<P>,
  raw: unknown,
  issues: Issue[],
  defaults: D,
  keys: K,
): Filled<P, D, K> | undefined {
  const parsed = validate(schema, raw ?? {}, [section], issues);
  return parsed === undefined ? undefined : withDefaults(parsed, defaults, keys);
}

export function buildRetention(raw: unknown, issues: Issue[]): RetentionConfig | undefined {
  return buildSettings("retention", retentionSchema, raw, issues, DEFAULTS.retention, {
    eventsMs: "events",
    attemptsMs: "attempts",
    intervalMs: "interval",
    partitioning: "partitioning",
  });
}

export function buildIngest(raw: unknown, issues: Issue[]): IngestConfig | undefined {
  return buildSettings("ingest", ingestSchema, raw, issues, DEFAULTS.ingest, { shards: "shards" });
}

export function buildWorker(raw: unknown, issues: Issue[]): WorkerConfig | undefined {
  return buildSettings("worker", workerSchema, raw, issues, DEFAULTS.worker, {
    lockDurationMs: "lock_duration",
    stalledIntervalMs: "stalled_interval",
    ingestConcurrency: "ingest_concurrency",
    reconcileIntervalMs: "reconcile_interval",
    reconcileBatch: "reconcile_batch",
    reconcileGraceMs: "reconcile_grace",
    removedTargetGraceMs: "removed_target_grace",
  });
}

/** The name HOOKLINE_ADMIN_TOKEN goes by; a configured token may not take it. */
export const ENV_ADMIN_TOKEN_NAME = "default";

/**
 * `admin.tokens`: names unique (the audit log tells tokens apart by name), tokens distinct (one
 * token with two roles would be ambiguous) and long enough to resist guessing. No message shows
 * a token's text.
 */
export function buildAdmin(raw: unknown, issues: Issue[]): AdminConfig | undefined {
  const parsed = validate(adminSchema, raw ?? {}, ["admin"], issues);
  if (parsed === undefined) return undefined;
  const tokens: AdminTokenConfig[] = [];
  const names = new Map<string, number>();
  const secrets = new Map<string, number>();
  let ok = true;
  (parsed.tokens ?? []).forEach((item, i) => {
    const at: PathSegment[] = ["admin", "tokens", i];
    const token = validate(adminTokenSchema, item, at, issues);
    if (token === undefined) {
      ok = false;
      return;
    }
    const problem = (key: "name" | "token", message: string) => {
      issues.push({ at: [...at, key], message });
      ok = false;
    };
    const sameName = names.get(token.name);
    if (token.name === ENV_ADMIN_TOKEN_NAME)
      problem("name", `"${ENV_ADMIN_TOKEN_NAME}" is the name of HOOKLINE_ADMIN_TOKEN; choose another`);
    else if (sameName !== undefined)
      problem("name", `duplicate token name "${token.name}" (already used by admin.tokens[${sameName}])`);
    else names.set(token.name, i);
    const sameToken = secrets.get(token.token);
    if (token.token.trim() === "") problem("token", "must not be empty (is its environment variable set?)");
    else if (token.token.length < MIN_ADMIN_TOKEN_LENGTH)
      problem(
        "token",
        `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (got ${token.token.length}); try: openssl rand -hex 32`,
      );
    else if (sameToken !== undefined)
      problem("token", `is the same token as admin.tokens[${sameToken}]; each token must be distinct`);
    else secrets.set(token.token, i);
    tokens.push(token);
  });
  return ok ? { tokens } : undefined;
}
