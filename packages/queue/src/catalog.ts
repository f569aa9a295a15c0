// The queue contract, defined once and imported by gateway and worker alike: queue names,
// payload schemas and job options. Delivery jobs have fixed ids; ingest jobs take BullMQ's numbers.
import type { JobsOptions } from "bullmq";
import { z } from "zod";

/**
 * The BullMQ prefix every queue shares on a single Redis: `{prefix}`. Its braces make it a hash
 * tag, so these keys were already in one slot; they stay as they are, so an upgrade finds the
 * jobs it left queued.
 */
export function bullPrefix(queuePrefix: string): string {
  return `{${queuePrefix}}`;
}

/** Where the keys of each queue live. */
export interface QueueKeys {
  /** BullMQ's `prefix` option for `queue`. */
  prefix(queue: string): string;
  /** A key of Hookline's own that belongs to no queue (config fingerprint, ingest shards). */
  own(name: string): string;
}

/**
 * On a single Redis every queue shares `{prefix}`. On a cluster each queue has its own hash tag,
 * `{prefix:queue}`: BullMQ's scripts touch many keys of one queue (so they must share a slot),
 * never two queues, so queues can be spread over the masters.
 */
export function queueKeys(queuePrefix: string, layout: "one-slot" | "slot-per-queue"): QueueKeys {
  const shared = bullPrefix(queuePrefix);
  return {
    prefix: layout === "one-slot" ? () => shared : (queue) => `{${queuePrefix}:${queue}}`,
    own: (name) => `${shared}:${name}`,
  };
}

export const INGEST_QUEUE = "ingest";

/**
 * Ingest shard `shard`'s queue: shard 0 keeps the name `ingest` (one shard is what every
 * install had before shards), the others are `ingest-1`, `ingest-2`, ...
 */
export function ingestQueueName(shard: number): string {
  return shard === 0 ? INGEST_QUEUE : `${INGEST_QUEUE}-${shard}`;
}

/** The queues of `shards` ingest shards, shard 0 first. */
export function ingestQueueNames(shards: number): string[] {
  return Array.from({ length: Math.max(1, shards) }, (_, i) => ingestQueueName(i));
}
export const MAINTENANCE_QUEUE = "maintenance";
/** Hookline's own events (alerts:), sent to their destinations with retries, apart from deliveries. */
export const ALERTS_QUEUE = "alerts";

/** One queue per target, so a slow or dead target never holds up another. */
export function deliveryQueueName(targetId: string): string {
  return `deliver-${targetId}`;
}

/** A de-duplication source that reads the body alone (@hookline/verify's `bodyDedupe`). */
const bodyDedupeSourceSchema = z.union([
  z.literal("body"),
  z.object({ paths: z.array(z.array(z.string()).readonly()).min(1).readonly() }).readonly(),
]);

export const ingestJobSchema = z
  .object({
    eventId: z.string().min(1),
    sourceId: z.string().min(1),
    eventType: z.string().nullable(),
    /** The de-duplication key, when the gateway had it (a header)... */
    dedupeKey: z.string().min(1).optional(),
    /**
     * ...or how the worker computes it from the body (`dedupeKeyOfBody`): the gateway does not
     * parse and hash the body on the ingest path when the key depends on the body alone.
     */
    dedupeFrom: z.array(bodyDedupeSourceSchema).min(1).readonly().optional(),
    providerId: z.string().nullable(),
    /** ms since epoch when the gateway finished reading the request. */
    receivedAt: z.number().int(),
    headers: z.record(z.string(), z.string()),
    contentType: z.string().nullable(),
    /** The raw body, base64: JSON cannot carry arbitrary bytes. */
    body: z.string(),
    /** W3C trace context of the ingest request, when tracing is on (packages/tracing). */
    traceparent: z.string().optional(),
  })
  .refine((job) => (job.dedupeKey === undefined) !== (job.dedupeFrom === undefined), {
    message: "an ingest job carries dedupeKey or dedupeFrom, exactly one",
  });
export type IngestJob = z.infer<typeof ingestJobSchema>;

export const deliveryJobSchema = z.object({
  deliveryId: z.string().min(1),
  /** Which run of the delivery this job drives; a manual retry starts run n+1. */
  runNumber: z.number().int().min(1),
});
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** BullMQ custom ids may not contain ':'; run 1 keeps the bare delivery id. */
export function deliveryJobId(deliveryId: string, runNumber: number): string {
  return runNumber === 1 ? deliveryId : `${deliveryId}-r${runNumber}`;
}

export const DELIVERY_JOB_NAME = "deliver";

/** One run of one delivery, as it is queued. */
export interface DeliveryRun {
  readonly id: string;
  readonly targetId: string;
  readonly runNumber: number;
  /** Not to run before this instant (a retry's schedule); absent or null: now. */
  readonly notBefore?: Date | null;
}

export interface DeliveryJobEntry {
  readonly name: typeof DELIVERY_JOB_NAME;
  readonly data: DeliveryJob;
  readonly opts: JobsOptions;
}

/**
 * The jobs for `runs`, grouped by their target's queue name, ready for one `addBulk` each. Every
 * run has its fixed job id, so queueing the same run twice (a re-run, the reconciler, two
 * processes racing) leaves one job.
 */
export function deliveryJobsByQueue(
  runs: readonly DeliveryRun[],
  nowMs: number = Date.now(),
): Map<string, DeliveryJobEntry[]> {
  const byQueue = new Map<string, DeliveryJobEntry[]>();
  for (const r of runs) {
    const name = deliveryQueueName(r.targetId);
    const delay = r.notBefore ? Math.max(0, r.notBefore.getTime() - nowMs) : 0;
    const entry: DeliveryJobEntry = {
      name: DELIVERY_JOB_NAME,
      data: { deliveryId: r.id, runNumber: r.runNumber },
      opts: {
        ...DELIVERY_JOB_OPTIONS,
        jobId: deliveryJobId(r.id, r.runNumber),
        ...(delay > 0 ? { delay } : {}),
      },
    };
    const list = byQueue.get(name);
    if (list) list.push(entry);
    else byQueue.set(name, [entry]);
  }
  return byQueue;
}

/**
 * Infrastructure failures (Postgres down) are retried with a capped backoff for as long as it
 * takes: an accepted event is never dropped from the queue. Delivery retries against targets
 * are not BullMQ attempts; the worker reschedules those itself (see apps/worker).
 */
export const INFRA_BACKOFF = "infra";
const FOREVER = 1_000_000;

export const INGEST_JOB_OPTIONS: JobsOptions = {
  attempts: FOREVER,
  backoff: { type: INFRA_BACKOFF },
  removeOnComplete: true,
  removeOnFail: false,
};

export const DELIVERY_JOB_OPTIONS: JobsOptions = {
  attempts: FOREVER,
  backoff: { type: INFRA_BACKOFF },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** 200 ms doubling to 30 s, with ±20% jitter so a recovered Postgres is not stampeded. */
export function infraBackoffMs(attemptsMade: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 200 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The retention purge on MAINTENANCE_QUEUE: one fixed scheduler id, so several workers never multiply it. */
export const RETENTION_SCHEDULER_ID = "retention-purge";
export const PURGE_JOB_NAME = "purge";
