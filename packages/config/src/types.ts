// The typed configuration every app receives. Parsed once at the edge (YAML + zod), never
// re-read from process.env inside packages.
import type { Matcher } from "@hookline/filter";
import type { CompiledTransform } from "@hookline/transform";
import type { SourceSpec, Verifier } from "@hookline/verify";
import type { PrivateKeyPem } from "./tls.js";

export interface ServerConfig {
  readonly host: string; // default "0.0.0.0"
  readonly port: number; // default 8080; PORT env overrides
  readonly adminHost: string; // default "127.0.0.1"
  readonly adminPort: number; // default 8081
  readonly bodyLimitBytes: number; // default 1 MiB ("1mb")
  /** Gateway processes sharing the port (node:cluster); "auto" = one per core. Default 1. */
  readonly workers: number | "auto";
  /**
   * How long an accepted event may wait for others to share its write to Redis (and its ingest
   * job). Longer: fewer, larger jobs and less CPU per event; each 202 later by at most this.
   * Default 2 ms.
   */
  readonly queueLingerMs: number;
  /**
   * Verify and queue on a worker thread of each gateway process, so the HTTP thread only parses
   * requests and writes answers: more requests per second per process, about 50 MB more memory.
   * Default true.
   */
  readonly ingestThread: boolean;
  /** How long the gateway waits for Redis to take an event before answering 503. Default 5 s. */
  readonly enqueueTimeoutMs: number;
  /** A body that stops arriving for this long gets 408 body_timeout. Default 10 s. */
  readonly bodyIdleTimeoutMs: number;
  /** Node's limits per request: all headers within `headersTimeoutMs` (15 s), the whole request within `requestTimeoutMs` (60 s). */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** `Retry-After` (seconds) on every 503 of the gateway and the admin API. Default 5. */
  readonly retryAfterSeconds: number;
  /**
   * Peers whose `X-Forwarded-For` is believed (load balancers, reverse proxies). Null (the
   * default): the client is always the socket's peer.
   */
  readonly trustedProxies: AddressList | null;
  /** A plain `http://` target is a config error. Default false. */
  readonly requireHttpsTargets: boolean;
}

/** CIDRs compiled at load (network.ts); `cidrs` as written in the config. */
export interface AddressList {
  readonly cidrs: readonly string[];
  /** Whether an address (IPv4, IPv6, or IPv4-mapped IPv6) is in one of the ranges. */
  includes(address: string): boolean;
}

export interface SourceConfig {
  readonly id: string;
  readonly spec: SourceSpec;
  /** Compiled once at load; a config with an invalid verify block never loads. */
  readonly verifier: Verifier;
  readonly dedupeWindowMs: number; // default 72h
  /** Clients allowed to post to this source; null (the default) = any address. */
  readonly allowIps: AddressList | null;
}

export interface RateLimit {
  readonly max: number;
  readonly durationMs: number;
}

export interface CircuitBreakerConfig {
  /** Consecutive failed attempts that open the circuit; default 5. */
  readonly failureThreshold: number;
  /** How long the circuit stays open before a probe; default 30s. */
  readonly cooldownMs: number;
}

/**
 * Where a target's deliveries go: an HTTP POST to `url` (default), a RabbitMQ exchange (`url` is
 * the broker's amqp:// URL), or a NATS JetStream subject (`url` is the nats:// server). Routing
 * keys and subjects are templates of `{source}` and `{event_type}`.
 */
export type Destination =
  | { readonly kind: "http" }
  | { readonly kind: "amqp"; readonly exchange: string; readonly routingKey: string }
  | { readonly kind: "nats"; readonly subject: string };

export interface TargetConfig {
  readonly id: string;
  readonly url: string;
  readonly destination: Destination;
  readonly timeoutMs: number; // default 10s
  readonly connectTimeoutMs: number; // default 5s
  /** Delays before attempts 2..n; max attempts = 1 + length. Default [1m, 5m, 30m, 2h, 8h]. */
  readonly retryScheduleMs: readonly number[];
  readonly rateLimit: RateLimit | null;
  readonly concurrency: number; // default 10
  /** `signing_secret` (one) or `signing_secrets` (rotation); empty = forwarded unsigned. */
  readonly signingSecrets: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly circuitBreaker: CircuitBreakerConfig;
  /** HTTPS to a private CA and/or with a client certificate; null = the system's roots, no client certificate. */
  readonly tls: TargetTls | null;
}

/**
 * `targets[].tls`, read at load. `ca` replaces the default roots (an internal CA is what a
 * target that needs one trusts). Paths are absolute; contents are PEM text.
 */
export interface TargetTls {
  readonly caFile: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
  readonly ca: string | null;
  readonly cert: string | null;
  readonly key: PrivateKeyPem | null;
}

/**
 * Where an event's ordering key is read: a JSON pointer into the body (RFC 6901, kept as its
 * unescaped reference tokens) or a header (lower-cased name).
 */
export type OrderingKeySpec =
  | { readonly kind: "body"; readonly pointer: string; readonly tokens: readonly string[] }
  | { readonly kind: "header"; readonly name: string };

export interface RouteConfig {
  readonly source: string;
  /** Globs on event type; `*` matches any run of characters. Default ["*"]. */
  readonly events: readonly string[];
  readonly targets: readonly string[];
  /** Per target and key value, deliveries go one at a time in acceptance order. Null: unordered. */
  readonly orderingKey: OrderingKeySpec | null;
  /** Compiled `filter`: the event is delivered only when both match. Null: no filter. */
  readonly filter: RouteFilter | null;
  /**
   * Compiled `transform`: the route's targets receive its result as JSON. Its `timeoutMs` is
   * `transform_timeout` (default 100 ms): an evaluation that runs longer fails the delivery.
   * Null: the body as received.
   */
  readonly transform: CompiledTransform | null;
}

/** A route's filter, compiled when the config loads (packages/filter). */
export interface RouteFilter {
  /** Matched against the body parsed as JSON (undefined when it is not JSON). */
  readonly body: Matcher | null;
  /** Matched against the stored headers (lower-cased names). */
  readonly headers: Matcher | null;
}

export interface RetentionConfig {
  readonly eventsMs: number | null; // null = keep forever
  readonly attemptsMs: number | null;
  readonly intervalMs: number; // how often the purge job runs; default 1h
  /**
   * `events` and `delivery_attempts` as time partitions (one per UTC day or ISO week) that the
   * retention job creates ahead and drops whole; `none` (default): plain tables, batched deletes.
   * An install becomes partitioned with `hookline partition` (docs/scaling.md#partitioning).
   */
  readonly partitioning: RetentionPartitioning;
}

/** How events go into Redis. */
export interface IngestConfig {
  /**
   * Ingest queues, each with its own hash tag, so a Redis Cluster shares the load. Gateways
   * take turns over them; workers consume every one. Default 1.
   */
  readonly shards: number;
}

export type RetentionPartitioning = "none" | "daily" | "weekly";

/** How the worker process runs its queues; a crashed worker's jobs come back after at most lockDurationMs + stalledIntervalMs. */
export interface WorkerConfig {
  readonly lockDurationMs: number; // default 15s
  readonly stalledIntervalMs: number; // default 5s
  readonly ingestConcurrency: number; // default 16
  /** How often the reconciler looks for live deliveries that have no queue job (crash between commit and enqueue). */
  readonly reconcileIntervalMs: number; // default 5s
  /** At most this many deliveries per sweep. */
  readonly reconcileBatch: number; // default 1000
  /** A due delivery untouched this long with no job gets one; shorter than any normal commit-to-enqueue gap. */
  readonly reconcileGraceMs: number; // default 10s
  /** A due delivery to a target no longer configured, untouched this long, fails as `target_removed`. */
  readonly removedTargetGraceMs: number; // default 10m
}

export type AlertType =
  | "circuit.opened"
  | "circuit.closed"
  | "delivery.failed"
  | "target.paused"
  | "target.resumed"
  | "backlog.high";

/** Where Hookline sends its own events (`alerts:`). */
export interface AlertConfig {
  readonly url: string;
  /** standard-webhooks: the contract's JSON body, signed when a secret is set; slack: `{"text": ...}`. */
  readonly format: "standard-webhooks" | "slack";
  /** Empty: sent unsigned. */
  readonly signingSecrets: readonly string[];
  readonly events: ReadonlySet<AlertType>;
  /** backlog.high fires when a target's backlog (deliveries not yet final) passes this. */
  readonly backlogThreshold: number; // default 1000
}

/** `read`: GET only; `operate`: everything (retry, replay, pause, resume). */
export type AdminRole = "read" | "operate";

/** A bearer token of the admin API and the dashboard, with the name the audit log records. */
export interface AdminTokenConfig {
  readonly name: string;
  readonly token: string;
  readonly role: AdminRole;
}

export interface AdminConfig {
  /** `admin.tokens`; HOOKLINE_ADMIN_TOKEN is added beside them as `default` (operate) at start. */
  readonly tokens: readonly AdminTokenConfig[];
}

export interface HooklineConfig {
  readonly server: ServerConfig;
  readonly sources: readonly SourceConfig[];
  readonly targets: readonly TargetConfig[];
  readonly routes: readonly RouteConfig[];
  readonly retention: RetentionConfig;
  readonly ingest: IngestConfig;
  readonly worker: WorkerConfig;
  readonly alerts: readonly AlertConfig[];
  readonly admin: AdminConfig;
}

/** Everything the process environment may set; parsed once by parseEnv. */
export interface HooklineEnv {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** REDIS_CLUSTER_NODES: a Redis Cluster's nodes to start from; when set, REDIS_URL is not used. */
  readonly redisClusterNodes: readonly { readonly host: string; readonly port: number }[] | null;
  readonly configPath: string;
  readonly adminToken: string | null;
  readonly port: number | null;
  readonly queuePrefix: string;
  readonly logLevel: string;
}

export interface ConfigIssue {
  /** e.g. `sources[2].verify.secrets` */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the YAML text, when the path (or its nearest ancestor) exists there. */
  readonly line?: number;
}

export type LoadConfigResult =
  | { readonly ok: true; readonly config: HooklineConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };
