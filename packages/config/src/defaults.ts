// Every default of the config, in one place: docs/config.md and hookline.example.yaml document
// the same values, and no other module restates them.
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULTS = {
  server: {
    host: "0.0.0.0",
    port: 8080,
    adminHost: "127.0.0.1",
    adminPort: 8081,
    bodyLimitBytes: 1024 * 1024,
    workers: 1,
    queueLingerMs: 2,
    ingestThread: true,
    enqueueTimeoutMs: 5 * SECOND,
    bodyIdleTimeoutMs: 10 * SECOND,
    headersTimeoutMs: 15 * SECOND,
    requestTimeoutMs: 60 * SECOND,
    retryAfterSeconds: 5,
    trustedProxies: null,
    requireHttpsTargets: false,
  },
  source: { dedupeWindowMs: 72 * HOUR, allowIps: null },
  target: {
    timeoutMs: 10 * SECOND,
    connectTimeoutMs: 5 * SECOND,
    retryScheduleMs: [MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 8 * HOUR],
    concurrency: 10,
    circuitBreaker: { failureThreshold: 5, cooldownMs: 30 * SECOND },
  },
  route: { events: ["*"], transformTimeoutMs: 100 },
  alert: { format: "standard-webhooks", backlogThreshold: 1_000 },
  retention: { eventsMs: 30 * DAY, attemptsMs: 30 * DAY, intervalMs: HOUR, partitioning: "none" },
  ingest: { shards: 1 },
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
