import type { RetentionConfig } from "@hookline/config";
import { type Database, type PurgeCounts, purgeOlderThan } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import {
  createWorkerConnection,
  MAINTENANCE_QUEUE,
  PURGE_JOB_NAME,
  RETENTION_SCHEDULER_ID,
  type RedisEndpoint,
} from "@hookline/queue";
import { type Job, Queue, Worker } from "bullmq";

export interface RetentionOptions {
  readonly retention: RetentionConfig;
  readonly pool: Database["pool"];
  readonly redis: RedisEndpoint;
  /** The maintenance queue's BullMQ prefix (QueueKeys.prefix). */
  readonly prefix: string;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Rows per DELETE; default 5,000. */
  readonly batchSize?: number;
}

export interface RunningRetention {
  close(): Promise<void>;
}

/** One purge with the configured cutoffs; null cutoffs keep their rows. */
function purgeNow(
  pool: Database["pool"],
  retention: RetentionConfig,
  nowMs: number,
  batchSize = 5_000,
): Promise<PurgeCounts> {
  return purgeOlderThan(pool, {
    eventsBefore: retention.eventsMs === null ? null : new Date(nowMs - retention.eventsMs),
    attemptsBefore: retention.attemptsMs === null ? null : new Date(nowMs - retention.attemptsMs),
    batchSize,
    pauseMs: 10,
    now: new Date(nowMs),
  });
}

/**
 * Schedules the purge as a BullMQ repeatable job (a job scheduler with a fixed id, so every
 * worker upserts the same one) and processes it, one at a time across all workers. With both
 * retentions set to `forever` the scheduler is removed and nothing runs.
 */
export async function startRetention(options: RetentionOptions): Promise<RunningRetention> {
  const { retention, logger } = options;
  const now = options.now ?? Date.now;
  const connection = createWorkerConnection(options.redis);
  const queue = new Queue(MAINTENANCE_QUEUE, { connection, prefix: options.prefix });
  queue.on("error", () => {});
  if (retention.eventsMs === null && retention.attemptsMs === null) {
    await queue.removeJobScheduler(RETENTION_SCHEDULER_ID);
    await queue.close();
    connection.disconnect();
    return { close: async () => {} };
  }
  try {
    await queue.upsertJobScheduler(
      RETENTION_SCHEDULER_ID,
      { every: retention.intervalMs },
      { name: PURGE_JOB_NAME, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  } catch (error) {
    // Another worker may have scheduled it; if not, the next start will. Never fatal.
    logger.warn({ err: error }, "could not schedule the retention purge");
  }
  // BullMQ does not close a connection it was handed: close() does.
  const workerConnection = createWorkerConnection(options.redis);
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    async (job: Job) => {
      if (job.name !== PURGE_JOB_NAME) return;
      const started = now();
      const counts = await purgeNow(options.pool, retention, started, options.batchSize);
      logger.info({ ...counts, ms: now() - started }, "retention purge done");
    },
    { connection: workerConnection, prefix: options.prefix, concurrency: 1 },
  );
  worker.on("error", (error) => logger.error({ err: error }, "retention worker error"));
  worker.on("failed", (_job, error) =>
    logger.warn({ err: error }, "retention purge failed; it runs again next interval"),
  );
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      await queue.close();
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}
