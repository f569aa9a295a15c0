// Every Prometheus metric Hookline exposes, defined once. Gateway and worker report through the
// observer interfaces they export (IngestObserver, WorkerObserver), which the objects here
// satisfy structurally; queue depth and age are read from Redis at scrape time.
import type { Queue } from "bullmq";
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  Registry,
} from "prom-client";

export type CircuitState = "closed" | "open" | "half_open";
export const CIRCUIT_STATES: readonly CircuitState[] = ["closed", "half_open", "open"];

/** The label used for requests to a source that is not configured: URLs are attacker-chosen. */
export const UNKNOWN_SOURCE_LABEL = "_unknown";

export interface MetricsOptions {
  /** Configured source ids; requests naming any other source share one label. */
  readonly sources?: readonly string[];
  /** Configured target ids; their circuit starts out reported as closed. */
  readonly targets?: readonly string[];
  /** Node process metrics (CPU, memory, event loop lag) with the `hookline_` prefix. Default true. */
  readonly defaultMetrics?: boolean;
}

export interface IngestMetrics {
  observe(sourceId: string, outcome: string, seconds: number): void;
}

export interface WorkerMetrics {
  attempt(targetId: string, outcome: "succeeded" | "retrying" | "failed", seconds: number): void;
  firstSuccess(targetId: string, lagSeconds: number): void;
  circuit(targetId: string, state: CircuitState): void;
  ingestSetAside(reason: string): void;
  deliveriesReconciled(targetId: string, count: number): void;
  deliveriesTargetRemoved(count: number): void;
  firstAttempts(targetId: string, path: "inline" | "queued" | "held", count: number): void;
  eventsUnrouted(sourceId: string, count: number): void;
  targetPaused(targetId: string, paused: boolean): void;
  alert(type: string, outcome: "sent" | "failed"): void;
}

/** A queue to report on, under the name it has in the queue catalog. */
export interface WatchedQueue {
  readonly name: string;
  readonly queue: Pick<Queue, "getJobCounts" | "getJobs">;
}

export interface HooklineMetrics {
  readonly registry: Registry;
  readonly ingest: IngestMetrics;
  readonly worker: WorkerMetrics;
  /** Adds a source of queues to read at each scrape (the admin server adds its handles). */
  watchQueues(list: () => Iterable<WatchedQueue>): void;
  /** Sets where each scrape reads the targets' backlogs (deliveries not yet final) from. */
  watchBacklogs(read: () => Promise<ReadonlyMap<string, TargetBacklogSample>>): void;
}

/** What waits for one target: deliveries not yet final, and when the oldest was created. */
export interface TargetBacklogSample {
  readonly backlog: number;
  readonly oldestPendingAt: Date | null;
}

export const QUEUE_STATES = ["waiting", "active", "delayed", "failed"] as const;

const SCRAPE_CACHE_MS = 1_000;

/** One read per scrape however many gauges use it: the read's promise is shared for SCRAPE_CACHE_MS. */
function perScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let cached: { readonly at: number; readonly value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at >= SCRAPE_CACHE_MS) cached = { at: now, value: read() };
    return cached.value;
  };
}

interface QueueSample {
  readonly name: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly oldestAgeSeconds: number;
}

/**
 * The metrics reported as things happen, in the order they are listed at /metrics; the gauges
 * read at scrape time are made in createMetrics, beside their reads.
 */
const REPORTED = {
  ingestRequests: {
    kind: "counter",
    name: "hookline_ingest_requests_total",
    help: "Ingest requests by source and outcome: accepted, or the rejection's reason code.",
    labelNames: ["source", "outcome"],
  },
  ingestDuration: {
    kind: "histogram",
    name: "hookline_ingest_duration_seconds",
    help: "Time from request to answer on the ingest path, by source.",
    labelNames: ["source"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  },
  attempts: {
    kind: "counter",
    name: "hookline_delivery_attempts_total",
    help: "Delivery attempts by target and outcome (the delivery's state after the attempt).",
    labelNames: ["target", "outcome"],
  },
  attemptDuration: {
    kind: "histogram",
    name: "hookline_delivery_duration_seconds",
    help: "Duration of one delivery attempt (request to target answer or error), by target.",
    labelNames: ["target"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  lag: {
    kind: "histogram",
    name: "hookline_delivery_lag_seconds",
    help: "End-to-end lag from receipt at the gateway to the first successful delivery, by target.",
    labelNames: ["target"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400],
  },
  circuitState: {
    kind: "gauge",
    name: "hookline_circuit_state",
    help: "Circuit breaker state per target: 1 for the current state (closed, half_open, open), 0 otherwise.",
    labelNames: ["target", "state"],
  },
  ingestFailures: {
    kind: "counter",
    name: "hookline_ingest_failures_total",
    help: "Ingest jobs set aside because they can never be recorded (see GET /api/ingest-failures), by reason.",
    labelNames: ["reason"],
  },
  reconciled: {
    kind: "counter",
    name: "hookline_deliveries_reconciled_total",
    help: "Live deliveries the reconciler found without a queue job and queued again, by target.",
    labelNames: ["target"],
  },
  targetRemoved: {
    kind: "counter",
    name: "hookline_deliveries_target_removed_total",
    help: "Deliveries ended as failed (target_removed) because their target is no longer configured.",
    labelNames: [],
  },
  firstAttempts: {
    kind: "counter",
    name: "hookline_first_attempts_total",
    help: "New deliveries by where their first attempt went: inline (sent by the ingest worker, no queue job), queued (rate limit, circuit, busy target) or held (ordered, waiting for its turn).",
    labelNames: ["target", "path"],
  },
  unrouted: {
    kind: "counter",
    name: "hookline_events_unrouted_total",
    help: "New events that no route delivers (no route matched, or every route's filter rejected them): kept, with no deliveries.",
    labelNames: ["source"],
  },
  alerts: {
    kind: "counter",
    name: "hookline_alerts_total",
    help: "Alerts (alerts:) by type: sent (a destination answered 2xx) or failed (given up after every retry).",
    labelNames: ["type", "outcome"],
  },
  paused: {
    kind: "gauge",
    name: "hookline_target_paused",
    help: "1 while the target is paused (its deliveries are created and wait), 0 otherwise.",
    labelNames: ["target"],
  },
} as const satisfies Record<string, MetricDefinition>;

interface MetricDefinition {
  readonly kind: "counter" | "gauge" | "histogram";
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
}

type MetricOf<D extends MetricDefinition> = D extends { readonly kind: "counter" }
  ? Counter<D["labelNames"][number]>
  : D extends { readonly kind: "gauge" }
    ? Gauge<D["labelNames"][number]>
    : Histogram<D["labelNames"][number]>;

type ReportedMetrics = { readonly [K in keyof typeof REPORTED]: MetricOf<(typeof REPORTED)[K]> };

/** Makes each metric of REPORTED in `registry` alone (not prom-client's global one), in its order. */
function registerReported(registry: Registry): ReportedMetrics {
  const made = Object.entries(REPORTED).map(([key, d]: [string, MetricDefinition]) => {
    const configuration = { name: d.name, help: d.help, labelNames: d.labelNames, registers: [registry] };
    if (d.kind === "counter") return [key, new Counter(configuration)];
    if (d.kind === "gauge") return [key, new Gauge(configuration)];
    return [key, new Histogram({ ...configuration, ...(d.buckets ? { buckets: [...d.buckets] } : {}) })];
  });
  return Object.fromEntries(made) as ReportedMetrics;
}

export function createMetrics(options: MetricsOptions = {}): HooklineMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "hookline_" });
  const knownSources = options.sources ? new Set(options.sources) : null;
  // The scrape-time gauges also go into this registry alone, after the REPORTED metrics.
  const gauge = <L extends string>(c: Omit<GaugeConfiguration<L>, "registers">) =>
    new Gauge({ ...c, registers: [registry] });

  const reported = registerReported(registry);
  const setCircuit = (target: string, state: CircuitState) => {
    for (const s of CIRCUIT_STATES) reported.circuitState.set({ target, state: s }, s === state ? 1 : 0);
  };
  for (const t of options.targets ?? []) setCircuit(t, "closed");
  for (const t of options.targets ?? []) reported.paused.set({ target: t }, 0);

  const watched: Array<() => Iterable<WatchedQueue>> = [];
  const sampleQueues = perScrape((): Promise<QueueSample[]> => {
    const now = Date.now();
    const queues = watched.flatMap((list) => [...list()]);
    return Promise.all(
      queues.map(async ({ name, queue }): Promise<QueueSample | null> => {
        try {
          const [counts, oldest] = await Promise.all([
            queue.getJobCounts(...QUEUE_STATES),
            queue.getJobs(["wait"], 0, 0, true),
          ]);
          const job = oldest[0];
          // A job is ready once added (plus its delay); a retried job once its delay ran out.
          const readyAt = job ? Math.max(job.timestamp, job.processedOn ?? 0) + (job.delay ?? 0) : now;
          return { name, counts, oldestAgeSeconds: Math.max(0, (now - readyAt) / 1000) };
        } catch {
          return null; // Redis unreachable: report nothing for the queue rather than fail the scrape
        }
      }),
    ).then((list) => list.filter((s): s is QueueSample => s !== null));
  });

  let backlogs: (() => Promise<ReadonlyMap<string, TargetBacklogSample>>) | null = null;
  // null: nothing to read them from (no admin server in this process); an empty map: Postgres
  // unreachable, so nothing is reported rather than the scrape failing.
  const sampleBacklogs = perScrape(
    async (): Promise<ReadonlyMap<string, TargetBacklogSample> | null> =>
      backlogs ? backlogs().catch(() => new Map<string, TargetBacklogSample>()) : null,
  );
  const configuredTargets = options.targets ?? [];
  /** A gauge per target (each configured one, and any other the backlog read names) from that read. */
  const backlogGauge = (
    name: string,
    help: string,
    value: (sample: TargetBacklogSample | undefined, now: number) => number,
  ) =>
    gauge({
      name,
      help,
      labelNames: ["target"] as const,
      async collect() {
        this.reset();
        const samples = await sampleBacklogs();
        if (!samples) return;
        const now = Date.now();
        for (const target of new Set([...configuredTargets, ...samples.keys()]))
          this.set({ target }, value(samples.get(target), now));
      },
    });
  backlogGauge(
    "hookline_target_backlog",
    "Deliveries per target not yet final (pending or retrying; a paused target's wait here), read from Postgres at scrape time.",
    (sample) => sample?.backlog ?? 0,
  );
  backlogGauge(
    "hookline_target_oldest_pending_seconds",
    "Age of each target's oldest delivery not yet final (0 when none waits).",
    (sample, now) => {
      const oldest = sample?.oldestPendingAt;
      return oldest ? Math.max(0, (now - oldest.getTime()) / 1000) : 0;
    },
  );

  gauge({
    name: "hookline_queue_depth",
    help: "Jobs per queue and state (waiting, active, delayed, failed), read from Redis at scrape time.",
    labelNames: ["queue", "state"] as const,
    async collect() {
      this.reset();
      for (const s of await sampleQueues()) {
        for (const state of QUEUE_STATES) this.set({ queue: s.name, state }, s.counts[state] ?? 0);
      }
    },
  });
  gauge({
    name: "hookline_queue_oldest_job_age_seconds",
    help: "Seconds the oldest waiting job of each queue has been ready to run (0 when none waits).",
    labelNames: ["queue"] as const,
    async collect() {
      this.reset();
      for (const s of await sampleQueues()) this.set({ queue: s.name }, s.oldestAgeSeconds);
    },
  });

  return {
    registry,
    ingest: {
      observe(sourceId, outcome, seconds) {
        const known = outcome !== "unknown_source" && (knownSources === null || knownSources.has(sourceId));
        const source = known ? sourceId : UNKNOWN_SOURCE_LABEL;
        reported.ingestRequests.inc({ source, outcome });
        reported.ingestDuration.observe({ source }, seconds);
      },
    },
    worker: {
      attempt(target, outcome, seconds) {
        reported.attempts.inc({ target, outcome });
        reported.attemptDuration.observe({ target }, seconds);
      },
      firstSuccess(target, lagSeconds) {
        reported.lag.observe({ target }, lagSeconds);
      },
      circuit: setCircuit,
      ingestSetAside(reason) {
        reported.ingestFailures.inc({ reason });
      },
      deliveriesReconciled(target, count) {
        reported.reconciled.inc({ target }, count);
      },
      deliveriesTargetRemoved(count) {
        reported.targetRemoved.inc(count);
      },
      targetPaused(target, isPaused) {
        reported.paused.set({ target }, isPaused ? 1 : 0);
      },
      eventsUnrouted(source, count) {
        reported.unrouted.inc({ source }, count);
      },
      alert(type, outcome) {
        reported.alerts.inc({ type, outcome });
      },
      firstAttempts(target, path, count) {
        reported.firstAttempts.inc({ target, path }, count);
      },
    },
    watchQueues(list) {
      watched.push(list);
    },
    watchBacklogs(read) {
      backlogs = read;
    },
  };
}
