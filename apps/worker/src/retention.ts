import type { RetentionConfig } from "@hookline/config";
import {
  type Database,
  type MaintainReport,
  maintainPartitions,
  type PurgeCounts,
  purgeOlderThan,
} from "@hookline/db";
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

/**
 * One purge with the configured cutoffs; null cutoffs keep their rows. On a partitioned install
 * the partitions come first (made ahead, expired ones dropped whole); the batched delete then
 * takes what a partition drop left (partitions kept for a delivery in progress, stray rows).
 */
async function purgeNow(
  pool: Database["pool"],
  retention: RetentionConfig,
  nowMs: number,
  logger: Logger,
  batchSize = 5_000,
): Promise<PurgeCounts & { partitions: MaintainReport | null }> {
  const eventsBefore = retention.eventsMs === null ? null : new Date(nowMs - retention.eventsMs);
  const attemptsBefore = retention.attemptsMs === null ? null : new Date(nowMs - retention.attemptsMs);
  const partitions = await maintainPartitions(pool, {
    // Tables partitioned while the config says none: keep them working (daily) and say so.
    period: retention.partitioning === "none" ? "daily" : retention.partitioning,
    now: new Date(nowMs),
    eventsBefore,
    attemptsBefore,
  });
  if (partitions === null && retention.partitioning !== "none")
    logger.warn(
      `retention.partitioning is ${retention.partitioning} but the tables are not partitioned: run \`hookline partition\``,
    );
  if (partitions !== null && retention.partitioning === "none")
    logger.warn("the tables are partitioned but retention.partitioning is none: managing daily partitions");
  const counts = await purgeOlderThan(pool, {
    eventsBefore,
    attemptsBefore,
    batchSize,
    pauseMs: 10,
    now: new Date(nowMs),
  });
  return { ...counts, partitions };
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
  // Partitions are made ahead by this job, so it runs even when nothing is ever deleted.
  if (retention.eventsMs === null && retention.attemptsMs === null && retention.partitioning === "none") {
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
      const { partitions, ...counts } = await purgeNow(
        options.pool,
        retention,
        started,
        logger,
        options.batchSize,
      );
      logger.info(
        {
          ...counts,
          ...(partitions === null
            ? {}
            : {
                partitions_created: partitions.created,
                partitions_dropped: partitions.dropped,
                partitions_kept: partitions.kept,
                deliveries_with_partitions: partitions.deliveries,
              }),
          ms: now() - started,
        },
        "retention purge done",
      );
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
