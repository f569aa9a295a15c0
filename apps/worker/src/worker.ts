import type { HooklineConfig } from "@hookline/config";
import { connectDatabase, TARGET_REMOVED } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import {
  ALERTS_QUEUE,
  closeQueue,
  createWorkerConnection,
  type DeliveryJob,
  deliveryQueueName,
  INGEST_QUEUE,
  type IngestBatchJob,
  type IngestJob,
  infraBackoffMs,
  ingestQueueName,
  MAINTENANCE_QUEUE,
  queueKeysFor,
  type RedisEndpoint,
  raiseIngestShards,
} from "@hookline/queue";
import { Queue, Worker, type WorkerOptions } from "bullmq";
import { type FailedDelivery, startAlerting } from "./alerting";
import type { DeliveryObserver } from "./attempt";
import { createAttemptWriter } from "./attempt-batch";
import { CircuitBreaker, type CircuitState } from "./circuit";
import { createDeliveryProcessor } from "./delivery-job";
import { createFirstAttempts } from "./first-attempt";
import { createIngestProcessor } from "./ingest-job";
import { createIngestRecorder } from "./ingest-recorder";
import { createInlineAttempts, type TargetRuntime } from "./inline-attempt";
import { createOrdering, type Ordering } from "./ordering";
import { createOutageRecovery } from "./outage-recovery";
import { runEvery } from "./periodic";
import type { SetAsideReason } from "./permanent-error";
import { createReconciler } from "./reconciler";
import { startRetention } from "./retention";
import { startStatsFold } from "./stats-fold";
import { createTargetControl } from "./target-control";
import { TargetSlots } from "./target-slots";
import { createTransport } from "./transport";

/** How often each worker reads the targets' pause state: a pause holds everywhere within a second. */
const TARGET_STATE_INTERVAL_MS = 500;
/**
 * How often the overview's statistics are folded: the deltas not yet folded, which every
 * overview read adds up, stay a few seconds of writes.
 */
const STATS_FOLD_INTERVAL_MS = 2_000;
/** How often the ingest floor is read when no ingest job of this process nudges (ordering.ts). */
const ORDERING_INTERVAL_MS = 50;
/** How often a worker looks whether some process has started using more ingest shards. */
const INGEST_SHARDS_INTERVAL_MS = 10_000;

export interface WorkerObserver {
  attempt(targetId: string, outcome: "succeeded" | "retrying" | "failed", seconds: number): void;
  firstSuccess(targetId: string, lagSeconds: number): void;
  circuit(targetId: string, state: CircuitState): void;
  ingestSetAside(reason: SetAsideReason): void;
  deliveriesReconciled(targetId: string, count: number): void;
  deliveriesTargetRemoved(count: number): void;
  /** A target's pause state, as this worker applies it. */
  targetPaused(targetId: string, paused: boolean): void;
  /** New deliveries: first attempt inline (no queue job), queued, or held for their turn (ordered). */
  firstAttempts(targetId: string, path: "inline" | "queued" | "held", count: number): void;
  /** New events that no route delivers (no route matched, or every filter rejected them). */
  eventsUnrouted(sourceId: string, count: number): void;
  /** An alert sent to a destination, or given up on after every retry. */
  alert(type: string, outcome: "sent" | "failed"): void;
}

export interface WorkerRunOptions {
  readonly config: HooklineConfig;
  readonly databaseUrl: string;
  readonly redis: RedisEndpoint;
  readonly queuePrefix: string;
  readonly logger: Logger;
  readonly observer?: WorkerObserver;
  readonly now?: () => number;
  /** Shorter alert windows and backlog checks than a minute and 15 s (tests). */
  readonly alertTiming?: { readonly windowMs?: number; readonly backlogCheckMs?: number };
}

export interface RunningWorker {
  readonly circuits: ReadonlyMap<string, CircuitBreaker>;
  /** Finishes the jobs in hand (or hands them back), then closes connections. */
  close(): Promise<void>;
}

export async function startWorker(options: WorkerRunOptions): Promise<RunningWorker> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  // One hash tag per queue on a cluster, the one shared tag on a single Redis.
  const keys = queueKeysFor(options.queuePrefix, options.redis);
  // Every setting comes from the parsed config; its schema owns the defaults.
  const workerConfig = config.worker;
  const database = connectDatabase(options.databaseUrl, {
    max: 4 + config.targets.reduce((n, t) => n + t.concurrency, 0),
    applicationName: "hookline-worker",
  });
  // Attempt rows of concurrent deliveries are written together (see attempt-batch.ts). A close
  // that ends a key's head names its successor, which ordering (created below) releases.
  let ordering: Ordering | undefined;
  const attempts = createAttemptWriter(database.pool, { onHeads: (heads) => ordering?.offer(heads) });
  // So are the events of concurrently running ingest jobs (see ingest-recorder.ts).
  const recordIngested = createIngestRecorder(database.pool);
  const producer = createWorkerConnection(options.redis);

  // alerts: (none configured: null). Raised from what this worker sees, sent on their own queue.
  const alerting = await startAlerting({
    config,
    redis: options.redis,
    prefix: keys.prefix(ALERTS_QUEUE),
    pool: database.pool,
    logger,
    ...(options.observer ? { observer: options.observer } : {}),
    ...options.alertTiming,
  });
  // However a delivery ends failed (an attempt, a failed transform, a removed target): an alert.
  const deliveryFailed = (targetId: string, failed: FailedDelivery) =>
    alerting?.deliveryFailed(targetId, failed);
  const deliveryObserver: DeliveryObserver = {
    attempt: (targetId, outcome, seconds) => options.observer?.attempt(targetId, outcome, seconds),
    firstSuccess: (targetId, lag) => options.observer?.firstSuccess(targetId, lag),
    deliveryFailed,
  };

  const runtimes = new Map<string, TargetRuntime>();
  for (const target of config.targets) {
    const circuit = new CircuitBreaker(target.circuitBreaker, ({ from, to }) => {
      logger.warn(
        { target: target.id, from, to },
        `circuit ${to === "open" ? "opened" : to === "closed" ? "closed" : "half-open"}`,
      );
      options.observer?.circuit(target.id, to);
      alerting?.circuitChanged(target.id, from, to);
    });
    const name = deliveryQueueName(target.id);
    const queue = new Queue<DeliveryJob>(name, { connection: producer, prefix: keys.prefix(name) });
    runtimes.set(target.id, {
      target,
      queue,
      transport: createTransport(target),
      circuit,
      slots: new TargetSlots(target.concurrency),
    });
  }

  // Pause and resume: read from Postgres before any job runs, then every half second.
  const control = createTargetControl({
    pool: database.pool,
    queues: new Map([...runtimes].map(([id, rt]) => [id, rt.queue])),
    logger,
    intervalMs: TARGET_STATE_INTERVAL_MS,
    onPaused: (targetId, paused) => options.observer?.targetPaused(targetId, paused),
  });
  await control.sync().catch((error: unknown) => {
    logger.warn({ err: error }, "target state not read at start; queues keep their pause state");
  });

  // First attempts are made here, by the ingest worker, where the target can take them; so are
  // the first attempts of ordered deliveries, as they are released.
  const inline = createInlineAttempts({
    runtimes,
    isPaused: control.isPaused,
    attempts,
    now,
    logger,
    observer: deliveryObserver,
  });
  const isConfigured = (targetId: string) => runtimes.has(targetId);
  const firstAttempts = createFirstAttempts({
    inline,
    isConfigured,
    deliveryFailed,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  ordering = createOrdering({
    pool: database.pool,
    redis: producer,
    prefix: keys.prefix(INGEST_QUEUE),
    inline,
    isConfigured,
    logger,
    now,
    intervalMs: ORDERING_INTERVAL_MS,
    ordered: config.routes.some((r) => r.orderingKey !== null),
  });

  // BullMQ does not close a connection it was handed: close() must, or the process never exits.
  const workerConnections: ReturnType<typeof createWorkerConnection>[] = [];
  const track = (connection: ReturnType<typeof createWorkerConnection>) => {
    workerConnections.push(connection);
    return connection;
  };
  const workerSettings = (queue: string, concurrency: number): WorkerOptions => ({
    connection: track(createWorkerConnection(options.redis)),
    prefix: keys.prefix(queue),
    concurrency,
    lockDuration: workerConfig.lockDurationMs,
    stalledInterval: workerConfig.stalledIntervalMs,
    // A job is never dropped for having stalled: re-running it is always safe.
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    settings: { backoffStrategy: (attemptsMade: number) => infraBackoffMs(attemptsMade) },
  });

  const watch = (w: Worker) => {
    w.on("error", (error) => logger.error({ err: error }, "worker error"));
    w.on("failed", (job, error) => {
      if (job)
        logger.warn(
          { queue: w.name, job: job.id, attempt: job.attemptsMade, err: error },
          "job failed; will retry",
        );
    });
  };
  // One queue handle per ingest shard consumed, on the shared connection: for promotions.
  const ingestQueues: Queue[] = [];
  const recovery = createOutageRecovery({
    promote: async (failed) => {
      await Promise.all(ingestQueues.map((queue) => queue.promoteJobs()));
      for (const { queue } of runtimes.values())
        for (const id of failed.get(queue.name) ?? []) {
          // BullMQ promotes only a job still delayed; one run or finished since is left alone.
          await (await queue.getJob(id))?.promote().catch(() => {});
        }
    },
    logger,
  });
  const processIngest = recovery.watch(
    createIngestProcessor({
      config,
      pool: database.pool,
      logger,
      record: recordIngested,
      firstAttempts,
      onSetAside: (reason) => options.observer?.ingestSetAside(reason),
    }),
  );
  // Every ingest shard any process of this installation has used, not only the configured ones:
  // after `ingest.shards` is lowered, the shards given up may still hold jobs (ingest-shards.ts).
  const knownShards = async (): Promise<number> => {
    try {
      return await raiseIngestShards(producer, keys, config.ingest.shards);
    } catch (error) {
      logger.warn({ err: error }, "ingest shards not read from Redis; consuming the configured ones");
      return config.ingest.shards;
    }
  };
  const ingestWorkers: Worker<IngestJob | IngestBatchJob>[] = [];
  const addIngestWorkers = (shards: number): Worker[] => {
    const added: Worker[] = [];
    for (let shard = ingestWorkers.length; shard < shards; shard++) {
      const name = ingestQueueName(shard);
      const w = new Worker<IngestJob | IngestBatchJob>(
        name,
        processIngest,
        // `worker.ingest_concurrency` is per shard: each shard is a queue of its own.
        workerSettings(name, workerConfig.ingestConcurrency),
      );
      // A completed ingest job may move the floor below which ordered deliveries can be released.
      if (shard === 0) w.on("completed", () => ordering?.nudge());
      watch(w);
      ingestWorkers.push(w);
      const queue = new Queue(name, { connection: producer, prefix: keys.prefix(name) });
      queue.on("error", () => {}); // a failed promotion is logged where it is made
      ingestQueues.push(queue);
      added.push(w);
    }
    return added;
  };

  const deliveryWorkers = [...runtimes.values()].map(({ target, transport, circuit, slots }) => {
    const settings = workerSettings(deliveryQueueName(target.id), target.concurrency);
    if (target.rateLimit)
      settings.limiter = { max: target.rateLimit.max, duration: target.rateLimit.durationMs };
    return new Worker<DeliveryJob>(
      deliveryQueueName(target.id),
      recovery.watch(
        createDeliveryProcessor({
          target,
          transport,
          circuit,
          slots,
          isPaused: control.isPaused,
          attempts,
          pool: database.pool,
          logger,
          now,
          observer: deliveryObserver,
        }),
      ),
      settings,
    );
  });

  for (const w of deliveryWorkers) watch(w);
  const shards = await knownShards();
  if (shards > config.ingest.shards)
    logger.warn(
      { configured: config.ingest.shards, consumed: shards },
      "consuming more ingest shards than configured: a process of this installation used more (see docs/scaling.md)",
    );
  addIngestWorkers(shards);
  const all = () => [...ingestWorkers, ...deliveryWorkers];
  await Promise.all(all().map((w) => w.waitUntilReady()));
  // A gateway started later with more shards (a rolling deploy that raises ingest.shards) is
  // noticed within INGEST_SHARDS_INTERVAL_MS, so its shards are never left unconsumed.
  const shardWatch = runEvery(
    INGEST_SHARDS_INTERVAL_MS,
    async () => {
      const added = addIngestWorkers(await knownShards());
      if (added.length > 0) logger.info({ shards: ingestWorkers.length }, "consuming more ingest shards");
    },
    (error) => logger.warn({ err: error }, "ingest shards not checked"),
  );
  const retention = await startRetention({
    retention: config.retention,
    pool: database.pool,
    redis: options.redis,
    prefix: keys.prefix(MAINTENANCE_QUEUE),
    logger,
  });
  const reconciler = createReconciler({
    pool: database.pool,
    queues: new Map([...runtimes].map(([id, rt]) => [id, rt.queue])),
    settings: workerConfig,
    logger,
    now,
    onReconciled: (targetId, count) => options.observer?.deliveriesReconciled(targetId, count),
    onTargetRemoved: (ended) => {
      options.observer?.deliveriesTargetRemoved(ended.length);
      for (const d of ended)
        deliveryFailed(d.targetId, {
          deliveryId: d.id,
          eventId: d.eventId,
          reason: TARGET_REMOVED,
        });
    },
  });
  const statsFold = startStatsFold(database.pool, STATS_FOLD_INTERVAL_MS, logger);
  logger.info({ targets: config.targets.map((t) => t.id) }, "worker running");

  let closing: Promise<void> | undefined;
  return {
    circuits: new Map([...runtimes].map(([id, rt]) => [id, rt.circuit])),
    close: () => {
      closing ??= (async () => {
        await reconciler.close();
        await statsFold.close();
        await control.close();
        await shardWatch.close();
        await Promise.all(all().map((w) => w.close()));
        await ordering?.close();
        await inline.drain();
        await retention.close();
        await alerting?.close();
        await Promise.all([...[...runtimes.values()].map((rt) => rt.queue), ...ingestQueues].map(closeQueue));
        await Promise.all([...runtimes.values()].map((rt) => rt.transport.close()));
        producer.disconnect();
        for (const connection of workerConnections) connection.disconnect();
        await database.close();
      })();
      return closing;
    },
  };
}
