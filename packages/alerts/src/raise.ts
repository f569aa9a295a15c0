// Raising an alert: never waits on a destination and never throws into the caller's path.
// Bursts are coalesced in Redis, shared by every process: the first occurrence of a type for a
// target is sent at once; later ones within the minute are counted, and a summary with the count
// goes when the minute is up (then minute by minute while they keep coming).
import { createHash, randomUUID } from "node:crypto";
import type { AlertConfig, AlertType } from "@hookline/config";
import type { RedisConnection } from "@hookline/queue";
import { ALERTS_QUEUE, closeQueue } from "@hookline/queue";
import { type Job, Queue } from "bullmq";
import type { Alert } from "./message";

const ALERT_WINDOW_MS = 60_000;
export const SEND_JOB = "send";
export const FLUSH_JOB = "flush";

/**
 * One alert to one destination. The destination is named by its key, not its URL (a Slack
 * webhook's URL is its credential and has no business in Redis); its URL and secret are looked
 * up in the config when it is sent.
 */
export interface SendJob {
  readonly destination: string;
  readonly id: string;
  readonly alert: Alert;
}

/** The end of a coalescing window of one type, target and destination. */
export interface FlushJob {
  readonly destination: string;
  readonly type: AlertType;
  readonly targetId: string;
}

/** A destination's name in Redis keys and jobs: a digest of its URL. */
export function destinationKey(url: string): string {
  return createHash("sha256").update(url).digest("hex").slice(0, 16);
}

const JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: "exponential", delay: 5_000 },
  removeOnComplete: 1_000,
  removeOnFail: 1_000,
} as const;

// KEYS: window, count, latest details. ARGV: window ms, details JSON.
// 1: a new window (send now); 0: counted into the open one.
const OPEN_OR_COUNT = `
if redis.call('set', KEYS[1], '1', 'NX', 'PX', tonumber(ARGV[1]) * 10) then return 1 end
redis.call('incr', KEYS[2])
redis.call('pexpire', KEYS[2], tonumber(ARGV[1]) * 10)
redis.call('set', KEYS[3], ARGV[2], 'PX', tonumber(ARGV[1]) * 10)
return 0`;

// KEYS: window, count, latest details. ARGV: window ms. {count, details} to send, or {0}: the
// window closes (the next occurrence is sent at once).
const FLUSH = `
local n = tonumber(redis.call('getdel', KEYS[2]) or '0')
local details = redis.call('getdel', KEYS[3])
if n > 0 then
  redis.call('set', KEYS[1], '1', 'PX', tonumber(ARGV[1]) * 10)
  return {n, details or '{}'}
end
redis.call('del', KEYS[1])
return {0}`;

export interface AlertRaiser {
  /** Fire and forget: failures are reported through `onError`, never thrown. */
  raise(type: AlertType, targetId: string, details?: Alert["details"], only?: readonly AlertConfig[]): void;
  /** Ends a coalescing window (the alert worker runs this for FLUSH_JOB). */
  flush(job: FlushJob): Promise<void>;
  /** Resolves once every raise in flight has reached Redis, then closes the queue. */
  close(): Promise<void>;
}

export interface AlertRaiserOptions {
  readonly connection: RedisConnection;
  /** The alerts queue's BullMQ prefix (QueueKeys.prefix); the coalescing keys share its slot. */
  readonly prefix: string;
  readonly destinations: readonly AlertConfig[];
  readonly windowMs?: number;
  readonly onError: (error: unknown) => void;
}

export function createAlertRaiser(options: AlertRaiserOptions): AlertRaiser {
  const { connection, prefix, destinations, onError } = options;
  const windowMs = options.windowMs ?? ALERT_WINDOW_MS;
  const queue = new Queue(ALERTS_QUEUE, { connection, prefix });
  queue.on("error", () => {});
  const inFlight = new Set<Promise<void>>();
  const keys = (destination: string, type: AlertType, targetId: string) => {
    const base = `${prefix}:alerts:${type}:${targetId}:${destination}`;
    return [`${base}:window`, `${base}:count`, `${base}:details`];
  };
  const send = (destination: string, alert: Alert): Promise<Job> => {
    const id = `alrt_${randomUUID().replaceAll("-", "")}`;
    return queue.add(SEND_JOB, { destination, id, alert } satisfies SendJob, { ...JOB_OPTIONS, jobId: id });
  };
  const scheduleFlush = (destination: string, type: AlertType, targetId: string): Promise<Job> =>
    queue.add(FLUSH_JOB, { destination, type, targetId } satisfies FlushJob, {
      ...JOB_OPTIONS,
      delay: windowMs,
    });

  const raiseOne = async (destination: AlertConfig, alert: Alert): Promise<void> => {
    const key = destinationKey(destination.url);
    const opened = await connection.eval(
      OPEN_OR_COUNT,
      3,
      ...keys(key, alert.type, alert.targetId),
      windowMs,
      JSON.stringify(alert.details),
    );
    if (opened !== 1) return;
    await send(key, alert);
    await scheduleFlush(key, alert.type, alert.targetId);
  };

  return {
    raise(type, targetId, details = {}, only) {
      const alert: Alert = { type, targetId, count: 1, details };
      for (const destination of only ?? destinations) {
        if (!destination.events.has(type)) continue;
        const p = raiseOne(destination, alert).catch(onError);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
    },
    async flush(job) {
      const result = (await connection.eval(
        FLUSH,
        3,
        ...keys(job.destination, job.type, job.targetId),
        windowMs,
      )) as [number, string?];
      const count = Number(result[0]);
      if (count === 0) return;
      let details: Alert["details"] = {};
      try {
        details = JSON.parse(result[1] ?? "{}") as Alert["details"];
      } catch {
        // keep the count without details
      }
      await send(job.destination, { type: job.type, targetId: job.targetId, count, details });
      await scheduleFlush(job.destination, job.type, job.targetId);
    },
    close: async () => {
      await Promise.all([...inFlight]);
      await closeQueue(queue);
    },
  };
}
