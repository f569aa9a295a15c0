import { Batcher } from "@hookline/batch";
import {
  BytesQueue,
  closeQueue,
  encodeIngestData,
  INGEST_BATCH_JOB_NAME,
  INGEST_BATCH_MAX_BODY_BYTES,
  INGEST_BATCH_MAX_EVENTS,
  INGEST_JOB_NAME,
  INGEST_JOB_OPTIONS,
  ingestQueueNames,
  type OutgoingIngestData,
  type OutgoingIngestJob,
  queueKeysFor,
  type RedisConnection,
  type RedisEndpoint,
  raiseIngestShards,
} from "@hookline/queue";
import { withTimeout } from "./with-timeout";

export type IngestQueue = BytesQueue<OutgoingIngestData>;

/** The length of `bytes` bytes in base64, as the batch limit counts a body. */
const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

/** How long a starting gateway (and its ingest thread) waits for Redis before taking requests. */
export const REDIS_START_WAIT_MS = 3_000;

/** A batch of at least this many events is written at once, without lingering for more. */
export const INGEST_BATCH_ENOUGH_EVENTS = 8;

/**
 * The gateway's path into Redis: one `ingest` job for an event alone, one `ingest-batch` job
 * for events that arrived together. Jobs take BullMQ's own numbers, which are acceptance order
 * for per-key ordering (see packages/queue/src/ingest-floor.ts). A job that reached Redis twice
 * (a command re-sent after a reconnect) is harmless: the worker records each event id once.
 */
export function createIngestBatcher(
  queue: IngestQueue,
  lingerMs = 0,
  maxInFlight = 1,
): Batcher<OutgoingIngestJob, undefined> {
  return new Batcher<OutgoingIngestJob, undefined>({
    write: async (events) => {
      const first = events[0] as OutgoingIngestJob;
      if (events.length === 1) await queue.add(INGEST_JOB_NAME, first, INGEST_JOB_OPTIONS);
      else await queue.add(INGEST_BATCH_JOB_NAME, { events: [...events] }, INGEST_JOB_OPTIONS);
      return events.map(() => undefined);
    },
    maxItems: INGEST_BATCH_MAX_EVENTS,
    maxBytes: INGEST_BATCH_MAX_BODY_BYTES,
    sizeOf: (job) => base64Length(job.body.length),
    maxInFlight,
    lingerMs,
    enoughItems: INGEST_BATCH_ENOUGH_EVENTS,
  });
}

/** Where and how accepted events are queued: plain data, so the ingest thread can be given it. */
export interface IngestQueueSettings {
  readonly redis: RedisEndpoint;
  readonly queuePrefix: string;
  readonly shards: number;
  readonly lingerMs: number;
  readonly enqueueTimeoutMs: number;
}

export interface IngestProducer {
  /** Resolves only once the job is in Redis; rejects at once while Redis is not connected. */
  enqueue(job: OutgoingIngestJob): Promise<void>;
  close(): Promise<void>;
}

/**
 * The ingest queues on the caller's connection (it closes the queues, not the connection), one
 * batcher per shard. Requests take the shards in turn, not by source: one busy source would
 * otherwise load one master, and ordering (which would want a key's events in one shard) is
 * refused with more than one shard anyway.
 */
export function createIngestProducer(settings: IngestQueueSettings, redis: RedisConnection): IngestProducer {
  const keys = queueKeysFor(settings.queuePrefix, settings.redis);
  // One queue per ingest shard, each with its own hash tag on a cluster (so on its own master).
  const queues: IngestQueue[] = ingestQueueNames(settings.shards).map((name) => {
    const queue: IngestQueue = new BytesQueue(
      name,
      { connection: redis, prefix: keys.prefix(name) },
      encodeIngestData,
    );
    queue.on("error", () => {}); // surfaced as 503s and /readyz
    return queue;
  });
  // Workers consume every shard any process has used (see @hookline/queue's ingest-shards.ts),
  // so the count is recorded before the first job goes to a shard: no job is ever queued where
  // no worker will look. Recorded once; a failure (Redis down) fails that enqueue, and the next
  // one tries again.
  let shardsRecorded: Promise<void> | null = settings.shards > 1 ? null : Promise.resolve();
  const recordShards = () => {
    shardsRecorded ??= raiseIngestShards(redis, keys, settings.shards).then(
      () => {},
      (error: unknown) => {
        shardsRecorded = null;
        throw error;
      },
    );
    return shardsRecorded;
  };
  const batchers = queues.map((queue) => createIngestBatcher(queue, settings.lingerMs));
  let turn = 0;
  const toQueue: (job: OutgoingIngestJob) => Promise<undefined> =
    batchers.length === 1
      ? (job) => (batchers[0] as (typeof batchers)[number]).call(job)
      : async (job) => {
          await recordShards();
          const batcher = batchers[turn] as (typeof batchers)[number];
          turn = (turn + 1) % batchers.length;
          return batcher.call(job);
        };
  return {
    enqueue: async (job) => {
      // Fail at once while disconnected: BullMQ would otherwise wait for the connection.
      if (redis.status !== "ready") throw new Error(`redis is ${redis.status}`);
      await withTimeout(toQueue(job), settings.enqueueTimeoutMs, "enqueue");
    },
    close: async () => {
      await Promise.all(queues.map((queue) => closeQueue(queue).catch(() => {})));
    },
  };
}
