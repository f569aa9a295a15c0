import type { HooklineConfig, TargetConfig } from "@hookline/config";
import { connectDatabase, type DeliveryRef, fanoutDeliveryId, newId, postponeDelivery } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import {
  bullPrefix,
  createWorkerConnection,
  DEFAULT_STALL_SETTINGS,
  DELIVERY_JOB_OPTIONS,
  type DeliveryJob,
  deliveryJobId,
  deliveryJobSchema,
  deliveryQueueName,
  INFRA_BACKOFF,
  INGEST_BATCH_JOB_NAME,
  INGEST_QUEUE,
  type IngestBatchJob,
  type IngestJob,
  infraBackoffMs,
  ingestBatchJobSchema,
  ingestJobSchema,
  type StallSettings,
} from "@hookline/queue";
import { DelayedError, type Job, Queue, Worker, type WorkerOptions } from "bullmq";
import type { Agent } from "undici";
import { createAttemptWriter } from "./attempt-batch";
import { CircuitBreaker, type CircuitState } from "./circuit";
import { createTargetAgent, forward } from "./forward";
import { createIngestRecorder, recordBatch } from "./ingest-batch";
import { outboundHeaders } from "./outbound";
import { startRetention } from "./retention";
import { decide } from "./retry-policy";
import { routeTargets } from "./routing";

const DEFAULT_DEDUPE_WINDOW_MS = 72 * 3600 * 1000;

export interface WorkerObserver {
  attempt(targetId: string, outcome: "succeeded" | "retrying" | "failed", seconds: number): void;
  firstSuccess(targetId: string, lagSeconds: number): void;
  circuit(targetId: string, state: CircuitState): void;
}

export interface WorkerRunOptions {
  readonly config: HooklineConfig;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly queuePrefix: string;
  readonly logger: Logger;
  readonly ingestConcurrency?: number;
  readonly stall?: StallSettings;
  readonly observer?: WorkerObserver;
  readonly now?: () => number;
}

export interface RunningWorker {
  readonly circuits: ReadonlyMap<string, CircuitBreaker>;
  /** Finishes the jobs in hand (or hands them back), then closes connections. */
  close(): Promise<void>;
}

interface TargetRuntime {
  readonly target: TargetConfig;
  readonly queue: Queue<DeliveryJob>;
  readonly agent: Agent;
  readonly circuit: CircuitBreaker;
}

export async function startWorker(options: WorkerRunOptions): Promise<RunningWorker> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const prefix = bullPrefix(options.queuePrefix);
  const stall = options.stall ?? DEFAULT_STALL_SETTINGS;
  const database = connectDatabase(options.databaseUrl, {
    max: 4 + config.targets.reduce((n, t) => n + t.concurrency, 0),
    applicationName: "hookline-worker",
  });
  // Attempt rows of concurrent deliveries are written together (see attempt-batch.ts).
  const attempts = createAttemptWriter(database.pool);
  // So are the events of concurrently running ingest jobs (see ingest-batch.ts).
  const recordIngested = createIngestRecorder(database.pool);
  const producer = createWorkerConnection(options.redisUrl);
  const sources = new Map(config.sources.map((s) => [s.id, s]));

  const runtimes = new Map<string, TargetRuntime>();
  for (const target of config.targets) {
    const circuit = new CircuitBreaker(target.circuitBreaker, ({ from, to }) => {
      logger.warn(
        { target: target.id, from, to },
        `circuit ${to === "open" ? "opened" : to === "closed" ? "closed" : "half-open"}`,
      );
      options.observer?.circuit(target.id, to);
    });
    runtimes.set(target.id, {
      target,
      queue: new Queue<DeliveryJob>(deliveryQueueName(target.id), { connection: producer, prefix }),
      agent: createTargetAgent(target.concurrency, target.connectTimeoutMs),
      circuit,
    });
  }

  const enqueueDeliveries = async (deliveries: readonly DeliveryRef[], log: Logger) => {
    const byTarget = new Map<string, DeliveryRef[]>();
    for (const d of deliveries) {
      if (d.status === "succeeded" || d.status === "failed") continue;
      if (!runtimes.has(d.targetId)) {
        log.warn(
          { delivery: d.id, target: d.targetId },
          "delivery's target is no longer configured; left pending",
        );
        continue;
      }
      byTarget.set(d.targetId, [...(byTarget.get(d.targetId) ?? []), d]);
    }
    await Promise.all(
      [...byTarget].map(([targetId, list]) =>
        runtimes.get(targetId)?.queue.addBulk(
          list.map((d) => ({
            name: "deliver",
            data: { deliveryId: d.id, runNumber: d.runNumber },
            opts: { ...DELIVERY_JOB_OPTIONS, jobId: deliveryJobId(d.id, d.runNumber) },
          })),
        ),
      ),
    );
  };

  // BullMQ does not close a connection it was handed: close() must, or the process never exits.
  const workerConnections: ReturnType<typeof createWorkerConnection>[] = [];
  const track = (connection: ReturnType<typeof createWorkerConnection>) => {
    workerConnections.push(connection);
    return connection;
  };
  const workerSettings = (concurrency: number): WorkerOptions => ({
    connection: track(createWorkerConnection(options.redisUrl)),
    prefix,
    concurrency,
    lockDuration: stall.lockDurationMs,
    stalledInterval: stall.stalledIntervalMs,
    // A job is never dropped for having stalled: re-running it is always safe.
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    settings: { backoffStrategy: (attemptsMade: number) => infraBackoffMs(attemptsMade) },
  });

  const ingestWorker = new Worker<IngestJob | IngestBatchJob>(
    INGEST_QUEUE,
    async (job: Job<IngestJob | IngestBatchJob>) => {
      if (job.name === INGEST_BATCH_JOB_NAME) {
        const batch = ingestBatchJobSchema.parse(job.data);
        await recordBatch({ config, pool: database.pool, logger, enqueueDeliveries }, batch.events);
        return;
      }
      const data = ingestJobSchema.parse(job.data);
      const log = logger.child({ source: data.sourceId, eventId: data.eventId });
      const outcome = await recordIngested({
        eventId: data.eventId,
        sourceId: data.sourceId,
        eventType: data.eventType,
        dedupeKey: data.dedupeKey,
        providerId: data.providerId,
        receivedAt: new Date(data.receivedAt),
        headers: data.headers,
        body: Buffer.from(data.body, "base64"),
        contentType: data.contentType,
        dedupeWindowMs: sources.get(data.sourceId)?.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS,
        targetIds: routeTargets(config.routes, data.sourceId, data.eventType),
      });
      switch (outcome.kind) {
        case "created":
        case "rerun":
          await enqueueDeliveries(outcome.deliveries, log);
          log.debug({ kind: outcome.kind, deliveries: outcome.deliveries.length }, "event recorded");
          return;
        case "duplicate":
        case "duplicate_rerun":
          log.info({ original: outcome.originalEventId }, "provider duplicate: counted, not forwarded");
          return;
        default: {
          const exhaustive: never = outcome;
          return exhaustive;
        }
      }
    },
    workerSettings(options.ingestConcurrency ?? 16),
  );

  const deliveryWorkers = [...runtimes.values()].map((rt) => {
    const { target, agent, circuit } = rt;
    const settings = workerSettings(target.concurrency);
    if (target.rateLimit)
      settings.limiter = { max: target.rateLimit.max, duration: target.rateLimit.durationMs };
    return new Worker<DeliveryJob>(
      deliveryQueueName(target.id),
      async (job: Job<DeliveryJob>, token?: string) => {
        const data = deliveryJobSchema.parse(job.data);
        const log = logger.child({ target: target.id, delivery: data.deliveryId });
        const wait = circuit.admit(now());
        if (wait !== null) {
          const at = now() + wait;
          await postponeDelivery(database.pool, data.deliveryId, new Date(at));
          await job.moveToDelayed(at, token);
          throw new DelayedError();
        }
        // An admitted job may hold the half-open circuit's only probe: give it back if Postgres
        // fails us, or every later job would wait for a probe that never reports.
        const opened = await attempts
          .open(data.deliveryId, data.runNumber, newId("att"))
          .catch((error: unknown) => {
            circuit.release();
            throw error;
          });
        if (!opened) {
          circuit.release();
          return; // already final, or superseded by a manual retry
        }
        const sentAt = now();
        const result = await forward(agent, {
          url: target.url,
          body: opened.body,
          timeoutMs: target.timeoutMs,
          headers: outboundHeaders(
            target,
            {
              eventId: opened.eventId,
              sourceId: opened.sourceId,
              eventType: opened.eventType,
              contentType: opened.contentType,
              body: opened.body,
              attemptNumber: opened.attemptNumber,
            },
            sentAt,
          ),
        });
        const verdict = decide(result, opened.attemptInRun, target.retryScheduleMs);
        const nextAttemptAt = verdict.status === "retrying" ? new Date(now() + verdict.delayMs) : null;
        // A 4xx means the target is up and answering: only retryable failures trip the circuit.
        // Recorded before the attempt is stored, so a failed write cannot strand a probe.
        circuit.record(
          verdict.status === "succeeded" ||
            (result.kind === "response" &&
              result.status < 500 &&
              result.status !== 408 &&
              result.status !== 429),
          now(),
        );
        await attempts.close({
          attemptId: opened.attemptId,
          deliveryId: data.deliveryId,
          runNumber: data.runNumber,
          durationMs: result.durationMs,
          statusCode: result.kind === "response" ? result.status : null,
          responseBody: result.kind === "response" ? result.bodyExcerpt : null,
          error: verdict.status === "succeeded" ? null : verdict.reason,
          status: verdict.status,
          nextAttemptAt,
        });
        options.observer?.attempt(target.id, verdict.status, result.durationMs / 1000);
        // Lag to the first success of the event's own fan-out, however many attempts it took;
        // manual retries (run > 1) and replays (fresh delivery ids) are not first successes.
        if (
          verdict.status === "succeeded" &&
          data.runNumber === 1 &&
          data.deliveryId === fanoutDeliveryId(opened.eventId, target.id)
        ) {
          options.observer?.firstSuccess(target.id, (now() - opened.receivedAt.getTime()) / 1000);
        }
        log.debug({ attempt: opened.attemptNumber, status: verdict.status }, "attempt done");
        if (verdict.status === "retrying" && nextAttemptAt) {
          await job.moveToDelayed(nextAttemptAt.getTime(), token);
          throw new DelayedError();
        }
      },
      settings,
    );
  });

  const all = [ingestWorker, ...deliveryWorkers];
  for (const w of all) {
    w.on("error", (error) => logger.error({ err: { message: error.message } }, "worker error"));
    w.on("failed", (job, error) => {
      if (job)
        logger.warn(
          { queue: w.name, job: job.id, attempt: job.attemptsMade, err: { message: error.message } },
          "job failed; will retry",
        );
    });
  }
  await Promise.all(all.map((w) => w.waitUntilReady()));
  const retention = await startRetention({
    retention: config.retention,
    pool: database.pool,
    redisUrl: options.redisUrl,
    prefix,
    logger,
  });
  logger.info({ targets: config.targets.map((t) => t.id) }, "worker running");

  let closing: Promise<void> | undefined;
  return {
    circuits: new Map([...runtimes].map(([id, rt]) => [id, rt.circuit])),
    close: () => {
      closing ??= (async () => {
        await Promise.all(all.map((w) => w.close()));
        await retention.close();
        await Promise.all([...runtimes.values()].map((rt) => rt.queue.close()));
        await Promise.all([...runtimes.values()].map((rt) => rt.agent.close()));
        producer.disconnect();
        for (const connection of workerConnections) connection.disconnect();
        await database.close();
      })();
      return closing;
    },
  };
}

export { INFRA_BACKOFF };
