// hookline.yaml → HooklineConfig. Parse YAML, expand ${VAR} inside string values, validate each
// section with zod, compile every source's verifier, check cross-references, and report every
// problem at once with its path. Never throws.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { SourceSpec, VerifySpec } from "@hookline/verify";
import { createVerifier, validateStandardWebhooksSecret } from "@hookline/verify";
import type { Document } from "yaml";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { type Env, expandEnv } from "./expand.js";
import { formatPath, type PathSegment, parsePath } from "./paths.js";
import {
  describe,
  type RawSource,
  type RawTarget,
  retentionSchema,
  rootSchema,
  routeSchema,
  serverSchema,
  sourceSchema,
  targetSchema,
  workerSchema,
} from "./schema.js";
import type {
  ConfigIssue,
  HooklineConfig,
  LoadConfigResult,
  RetentionConfig,
  RouteConfig,
  ServerConfig,
  SourceConfig,
  TargetConfig,
  WorkerConfig,
} from "./types.js";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Every default in one place; docs/config.md and hookline.example.yaml document the same values. */
export const DEFAULTS = {
  server: {
    host: "0.0.0.0",
    port: 8080,
    adminHost: "127.0.0.1",
    adminPort: 8081,
    bodyLimitBytes: 1024 * 1024,
    workers: 1,
    queueLingerMs: 2,
    enqueueTimeoutMs: 5 * SECOND,
    bodyIdleTimeoutMs: 10 * SECOND,
    headersTimeoutMs: 15 * SECOND,
    requestTimeoutMs: 60 * SECOND,
    retryAfterSeconds: 5,
  },
  source: { dedupeWindowMs: 72 * HOUR },
  target: {
    timeoutMs: 10 * SECOND,
    connectTimeoutMs: 5 * SECOND,
    retryScheduleMs: [MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 8 * HOUR],
    concurrency: 10,
    circuitBreaker: { failureThreshold: 5, cooldownMs: 30 * SECOND },
  },
  route: { events: ["*"] },
  retention: { eventsMs: 30 * DAY, attemptsMs: 30 * DAY, intervalMs: HOUR },
  worker: {
    lockDurationMs: 15 * SECOND,
    stalledIntervalMs: 5 * SECOND,
    ingestConcurrency: 16,
    reconcileIntervalMs: 5 * SECOND,
    reconcileBatch: 1_000,
    reconcileGraceMs: 10 * SECOND,
    removedTargetGraceMs: 10 * 60 * SECOND,
  },
} as const;

/** Headers Hookline sets itself on forwarded requests; a target may not override them. */
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

interface Issue {
  readonly at: readonly PathSegment[];
  readonly message: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function startsWith(path: readonly PathSegment[], prefix: readonly PathSegment[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// zod issues → our issues

const EXPECTED: Readonly<Record<string, string>> = {
  array: "a list",
  object: "a mapping",
  record: "a mapping",
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
};

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? Math.max(a.length, b.length);
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const normalised = key.toLowerCase().replace(/-/g, "_");
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = levenshtein(normalised, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const hint =
    best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3))
      ? ` (did you mean "${best}"?)`
      : "";
  const list = known.length > 0 ? `; expected one of: ${known.join(", ")}` : "";
  return `unknown key "${key}"${hint}${list}`;
}

/** Keys whose values may be secrets: their text never appears in a message. */
const SECRET_KEYS = new Set(["secrets", "public_key", "signing_secret", "signing_secrets", "headers"]);

function isSecretPath(path: readonly PropertyKey[] | undefined): boolean {
  return path?.some((segment) => typeof segment === "string" && SECRET_KEYS.has(segment)) ?? false;
}

/** Runs a zod schema and converts its issues; unknown keys become one issue per key, at the key. */
function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  at: readonly PathSegment[],
  issues: Issue[],
): z.output<S> | undefined {
  const knownKeys = new WeakMap<object, readonly string[]>();
  const result = schema.safeParse(input, {
    reportInput: true,
    error: (issue) => {
      switch (issue.code) {
        case "unrecognized_keys": {
          const def: unknown = issue.inst?._zod.def;
          const shape = isRecord(def) && isRecord(def.shape) ? Object.keys(def.shape) : [];
          if (isRecord(issue.input)) knownKeys.set(issue.input, shape);
          return "unknown key";
        }
        case "invalid_type":
          if (issue.input === undefined) return "is required";
          return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(issue.input, isSecretPath(issue.path))}`;
        case "invalid_value":
          return `must be one of ${issue.values.map(String).join(", ")}, got ${describe(issue.input)}`;
        case "too_small":
          if (issue.origin === "array")
            return issue.minimum === 1 ? "must not be empty" : `needs at least ${issue.minimum} items`;
          if (issue.origin === "string") return "must not be empty";
          return undefined;
        default:
          return undefined;
      }
    },
  });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = [
      ...at,
      ...issue.path.map((segment) => (typeof segment === "number" ? segment : String(segment))),
    ];
    if (issue.code === "unrecognized_keys") {
      const known = isRecord(issue.input) ? (knownKeys.get(issue.input) ?? []) : [];
      for (const key of issue.keys)
        issues.push({ at: [...path, key], message: unknownKeyMessage(key, known) });
    } else {
      issues.push({ at: path, message: issue.message });
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// environment expansion over the parsed tree

function expandTree(value: unknown, env: Env, at: PathSegment[], issues: Issue[]): unknown {
  if (typeof value === "string") {
    const result = expandEnv(value, env);
    if (result.ok) return result.value;
    for (const message of result.errors) issues.push({ at: [...at], message });
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => expandTree(item, env, [...at, i], issues));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = expandTree(item, env, [...at, key], issues);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// sections

function asList(value: unknown, at: PathSegment, issues: Issue[]): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  issues.push({ at: [at], message: `expected a list, got ${describe(value)}` });
  return [];
}

/** Records ids (even of otherwise invalid items, so references to them are not reported twice). */
function collectIds(items: readonly unknown[], section: "sources" | "targets", issues: Issue[]): Set<string> {
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

function buildServer(raw: unknown, issues: Issue[]): ServerConfig | undefined {
  const parsed = validate(serverSchema, raw ?? {}, ["server"], issues);
  if (parsed === undefined) return undefined;
  const d = DEFAULTS.server;
  const server: ServerConfig = {
    host: parsed.host ?? d.host,
    port: parsed.port ?? d.port,
    adminHost: parsed.admin_host ?? d.adminHost,
    adminPort: parsed.admin_port ?? d.adminPort,
    bodyLimitBytes: parsed.body_limit ?? d.bodyLimitBytes,
    workers: parsed.workers ?? d.workers,
    queueLingerMs: parsed.queue_linger ?? d.queueLingerMs,
    enqueueTimeoutMs: parsed.enqueue_timeout ?? d.enqueueTimeoutMs,
    bodyIdleTimeoutMs: parsed.body_idle_timeout ?? d.bodyIdleTimeoutMs,
    headersTimeoutMs: parsed.headers_timeout ?? d.headersTimeoutMs,
    requestTimeoutMs: parsed.request_timeout ?? d.requestTimeoutMs,
    retryAfterSeconds:
      parsed.retry_after === undefined ? d.retryAfterSeconds : Math.ceil(parsed.retry_after / 1000),
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

function specPathToYaml(path: string): PathSegment[] {
  return parsePath(path).flatMap((segment): PathSegment[] => {
    if (typeof segment === "number") return [segment];
    const mapped = SPEC_KEY_TO_YAML[segment];
    return mapped !== undefined ? [...mapped] : [segment.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
  });
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function toSpec(raw: RawSource): SourceSpec {
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

function buildSource(
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
  parsed.verify.secrets?.forEach((secret, j) => {
    if (secret.trim() === "") {
      issues.push({
        at: [...at, "verify", "secrets", j],
        message: "must not be empty (is its environment variable set?)",
      });
      ok = false;
    }
  });
  if (!ok) return undefined;

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
  };
}

function checkSigningSecrets(
  parsed: RawTarget,
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

function checkHeaders(
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

function checkTargetUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a valid URL (expected http://... or https://...)";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `must be an http:// or https:// URL, got a ${url.protocol} URL`;
  }
  return null;
}

function buildTarget(raw: unknown, i: number, issues: Issue[]): TargetConfig | undefined {
  const at: PathSegment[] = ["targets", i];
  const parsed = validate(targetSchema, raw, at, issues);
  if (parsed === undefined) return undefined;
  let ok = true;

  // The URL is not echoed: it may carry a token (Slack-style webhook URLs, basic auth).
  const urlProblem = checkTargetUrl(parsed.url);
  if (urlProblem !== null) {
    issues.push({ at: [...at, "url"], message: urlProblem });
    ok = false;
  }
  const signingSecrets = checkSigningSecrets(parsed, at, issues);
  const headers = parsed.headers ?? {};
  if (!checkHeaders(headers, at, issues)) ok = false;
  if (!ok || signingSecrets === undefined) return undefined;

  const d = DEFAULTS.target;
  return {
    id: parsed.id,
    url: parsed.url,
    timeoutMs: parsed.timeout ?? d.timeoutMs,
    connectTimeoutMs: parsed.connect_timeout ?? d.connectTimeoutMs,
    retryScheduleMs: parsed.retry?.schedule ?? [...d.retryScheduleMs],
    rateLimit: parsed.rate_limit ?? null,
    concurrency: parsed.concurrency ?? d.concurrency,
    signingSecrets,
    headers,
    circuitBreaker: {
      failureThreshold: parsed.circuit_breaker?.failure_threshold ?? d.circuitBreaker.failureThreshold,
      cooldownMs: parsed.circuit_breaker?.cooldown ?? d.circuitBreaker.cooldownMs,
    },
  };
}

function buildRoute(
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
  if (parsed === undefined || !ok) return undefined;
  return {
    source: parsed.source,
    events: parsed.events ?? [...DEFAULTS.route.events],
    targets: [...new Set(parsed.targets)],
  };
}

function buildRetention(raw: unknown, issues: Issue[]): RetentionConfig | undefined {
  const parsed = validate(retentionSchema, raw ?? {}, ["retention"], issues);
  if (parsed === undefined) return undefined;
  const d = DEFAULTS.retention;
  return {
    eventsMs: parsed.events === undefined ? d.eventsMs : parsed.events,
    attemptsMs: parsed.attempts === undefined ? d.attemptsMs : parsed.attempts,
    intervalMs: parsed.interval ?? d.intervalMs,
  };
}

function buildWorker(raw: unknown, issues: Issue[]): WorkerConfig | undefined {
  const parsed = validate(workerSchema, raw ?? {}, ["worker"], issues);
  if (parsed === undefined) return undefined;
  const d = DEFAULTS.worker;
  return {
    lockDurationMs: parsed.lock_duration ?? d.lockDurationMs,
    stalledIntervalMs: parsed.stalled_interval ?? d.stalledIntervalMs,
    ingestConcurrency: parsed.ingest_concurrency ?? d.ingestConcurrency,
    reconcileIntervalMs: parsed.reconcile_interval ?? d.reconcileIntervalMs,
    reconcileBatch: parsed.reconcile_batch ?? d.reconcileBatch,
    reconcileGraceMs: parsed.reconcile_grace ?? d.reconcileGraceMs,
    removedTargetGraceMs: parsed.removed_target_grace ?? d.removedTargetGraceMs,
  };
}

// ---------------------------------------------------------------------------------------------
// entry points

function present(value: unknown): unknown {
  return value === null ? undefined : value;
}

function validateDocument(root: unknown, env: Env): { config?: HooklineConfig; issues: Issue[] } {
  const issues: Issue[] = [];
  if (root === null || root === undefined) root = {};
  if (!isRecord(root)) {
    return {
      issues: [
        {
          at: [],
          message: `the config must be a mapping (key: value) at the top level, got ${describe(root)}`,
        },
      ],
    };
  }
  validate(rootSchema, root, [], issues);

  const envIssues: Issue[] = [];
  const expanded = expandTree(root, env, [], envIssues) as Record<string, unknown>;
  issues.push(...envIssues);

  const server = buildServer(present(expanded.server), issues);

  const rawSources = asList(expanded.sources, "sources", issues);
  const sourceIds = collectIds(rawSources, "sources", issues);
  const sources = rawSources.map((raw, i) => buildSource(raw, i, envIssues, issues));

  const rawTargets = asList(expanded.targets, "targets", issues);
  const targetIds = collectIds(rawTargets, "targets", issues);
  const targets = rawTargets.map((raw, i) => buildTarget(raw, i, issues));

  const rawRoutes = asList(expanded.routes, "routes", issues);
  const routes = rawRoutes.map((raw, i) => buildRoute(raw, i, sourceIds, targetIds, issues));

  const retention = buildRetention(present(expanded.retention), issues);
  const worker = buildWorker(present(expanded.worker), issues);

  // An issue below a path whose ${VAR} failed to expand is a consequence, not a second problem.
  const kept = issues.filter(
    (issue) => envIssues.includes(issue) || !envIssues.some((envIssue) => startsWith(issue.at, envIssue.at)),
  );
  if (kept.length > 0 || server === undefined || retention === undefined || worker === undefined)
    return { issues: kept };
  return {
    issues: [],
    config: {
      server,
      sources: sources.filter((s): s is SourceConfig => s !== undefined),
      targets: targets.filter((t): t is TargetConfig => t !== undefined),
      routes: routes.filter((r): r is RouteConfig => r !== undefined),
      retention,
      worker,
    },
  };
}

/** Where each issue sits in the file, so issues come out in file order with a line number. */
function locate(doc: Document, at: readonly PathSegment[]): number | undefined {
  for (let length = at.length; length > 0; length--) {
    const node: unknown = doc.getIn(at.slice(0, length), true);
    if (isRecord(node) && Array.isArray(node.range) && typeof node.range[0] === "number")
      return node.range[0];
  }
  return undefined;
}

/** Parses and validates hookline.yaml text. `env` supplies ${VAR} values; it is never process.env implicitly. */
export function loadConfigText(text: string, env: Env): LoadConfigResult {
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: true });
    if (doc.errors.length > 0) {
      return {
        ok: false,
        issues: doc.errors.map((error): ConfigIssue => {
          const firstLine = (error.message.split("\n")[0] ?? error.message).replace(/:$/, "");
          const line = error.linePos?.[0].line;
          return line === undefined
            ? { path: "", message: `YAML syntax error: ${firstLine}` }
            : { path: "", message: `YAML syntax error: ${firstLine}`, line };
        }),
      };
    }
    const { config, issues } = validateDocument(doc.toJS({ maxAliasCount: 1000 }), env);
    if (config !== undefined) return { ok: true, config };
    const located = issues.map((issue, index) => ({
      issue,
      index,
      offset: locate(doc, issue.at),
    }));
    located.sort((a, b) => (a.offset ?? -1) - (b.offset ?? -1) || a.index - b.index);
    return {
      ok: false,
      issues: located.map(({ issue, offset }): ConfigIssue => {
        const path = formatPath(issue.at);
        return offset === undefined
          ? { path, message: issue.message }
          : { path, message: issue.message, line: lineCounter.linePos(offset).line };
      }),
    };
  } catch (error) {
    return {
      ok: false,
      issues: [{ path: "", message: `internal error while loading the config: ${errorText(error)}` }],
    };
  }
}

/** Reads and loads a config file; a missing or unreadable file is one issue with path "". */
export function loadConfigFile(path: string, env: Env): LoadConfigResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = isRecord(error) && typeof error.code === "string" ? error.code : undefined;
    const shown = resolve(path);
    const message =
      code === "ENOENT"
        ? `config file not found: ${shown} (set HOOKLINE_CONFIG, or copy hookline.example.yaml)`
        : code === "EISDIR"
          ? `config path is a directory, not a file: ${shown}`
          : code === "EACCES"
            ? `cannot read config file ${shown}: permission denied`
            : `cannot read config file ${shown}: ${errorText(error)}`;
    return { ok: false, issues: [{ path: "", message }] };
  }
  return loadConfigText(text, env);
}
