// Retry and replay, in one place: the admin API and the CLI both call these. The database
// change is committed first, then the job is queued, because a job the worker picks up before
// the row it points at is visible would find nothing to do and the delivery would be stranded.

import { type AlertRaiser, createAlertRaiser } from "@hookline/alerts";
import type { AlertConfig, HooklineConfig } from "@hookline/config";
import {
  type AuditActor,
  BatchAuditRow,
  countDeliveries,
  createReplayDeliveries,
  type Database,
  type DeliveryFilters,
  type DeliveryStatus,
  getEventRouting,
  insertAudit,
  newId,
  type QueuedRun,
  retryDeliveries,
  retryDelivery,
} from "@hookline/db";
import type { CircuitState, WatchedQueue } from "@hookline/metrics";
import {
  ALERTS_QUEUE,
  closeQueue,
  createProducerConnection,
  type DeliveryJob,
  deliveryJobsByQueue,
  deliveryQueueName,
  ingestQueueNames,
  MAINTENANCE_QUEUE,
  type QueueKeys,
  queueKeysFor,
  type RedisConnection,
  type RedisEndpoint,
  readyOrLater,
} from "@hookline/queue";
import type { Redactor } from "@hookline/redact";
import { routableEvent, routeEvent } from "@hookline/routing";
import { Queue } from "bullmq";
import type { AuthLimiter } from "./auth-limiter";

/** Redis could not take the jobs; what was already committed is said in the message. */
export class QueueUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueueUnavailableError";
  }
}

/** Producer-side handles on the delivery queues (and, for metrics, every other queue). */
export class DeliveryQueues {
  readonly #redis: RedisConnection;
  readonly #keys: QueueKeys;
  readonly #queues = new Map<string, Queue>();

  constructor(
    redis: RedisEndpoint,
    queuePrefix: string,
    private readonly targetIds: readonly string[] = [],
    /** `ingest.shards`: the ingest queues the metrics report on. */
    private readonly ingestShards = 1,
  ) {
    this.#redis = createProducerConnection(redis);
    this.#keys = queueKeysFor(queuePrefix, redis);
  }

  /**
   * `alerts:` raised from here (pause, resume), queued over the queues' connection; undefined
   * when no destination is configured. close() it before the queues, so raises in flight land.
   */
  alertRaiser(
    destinations: readonly AlertConfig[],
    onError: (error: unknown) => void,
  ): AlertRaiser | undefined {
    if (destinations.length === 0) return undefined;
    return createAlertRaiser({
      connection: this.#redis,
      prefix: this.#keys.prefix(ALERTS_QUEUE),
      destinations,
      onError,
    });
  }

  queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#redis, prefix: this.#keys.prefix(name) });
      queue.on("error", () => {}); // reported as queue_unavailable to the caller
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Waits up to `timeoutMs` for Redis; throws QueueUnavailableError when it does not answer. */
  async ready(timeoutMs = 3_000): Promise<void> {
    await readyOrLater(this.#redis, timeoutMs);
    if (this.#redis.status !== "ready")
      throw new QueueUnavailableError(`Redis is not reachable (${this.#redis.status})`);
  }

  /** Queues one job per run on its target's queue, with the run's fixed job id. */
  async enqueue(runs: readonly QueuedRun[]): Promise<void> {
    if (runs.length === 0) return;
    if (this.#redis.status !== "ready") throw new QueueUnavailableError(`Redis is ${this.#redis.status}`);
    await Promise.all(
      [...deliveryJobsByQueue(runs)].map(([name, jobs]) =>
        (this.queue(name) as Queue<DeliveryJob>).addBulk(jobs),
      ),
    );
  }

  /** The queues the metrics report on: each ingest shard, maintenance and one per configured target. */
  watched(): WatchedQueue[] {
    return [
      ...ingestQueueNames(this.ingestShards),
      MAINTENANCE_QUEUE,
      ...this.targetIds.map(deliveryQueueName),
    ].map((name) => ({
      name,
      queue: this.queue(name),
    }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => closeQueue(q).catch(() => {})));
    this.#redis.disconnect();
  }
}

/** What the operations need: the database, the queues, and the config's targets and routes. */
export interface AdminContext {
  readonly database: Database;
  readonly queues: DeliveryQueues;
  readonly config: Pick<HooklineConfig, "targets" | "routes" | "server">;
  /** What the API and the dashboard may show of stored data: one redaction for both. */
  readonly redactor: Redactor;
  /** Failed authentication per client address, shared by the API and the dashboard's login. */
  readonly authLimiter: AuthLimiter;
  /** A target's circuit, when a worker runs in this process (each worker has its own). */
  readonly circuitState?: (targetId: string) => CircuitState | undefined;
  /** `alerts:` (target.paused, target.resumed); absent when none is configured. */
  readonly alerts?: Pick<AlertRaiser, "raise">;
}

const RETRYABLE: readonly DeliveryStatus[] = ["pending", "retrying", "failed"];
const ANY_STATUS: readonly DeliveryStatus[] = ["pending", "retrying", "failed", "succeeded"];

const configuredTargets = (ctx: AdminContext) => ctx.config.targets.map((t) => t.id);

/** Queues runs whose rows are committed; when Redis fails, says what is left pending and what to do. */
async function enqueueCommitted(
  ctx: AdminContext,
  runs: readonly QueuedRun[],
  explain: (reason: string) => string,
): Promise<void> {
  try {
    await ctx.queues.enqueue(runs);
  } catch (error) {
    throw new QueueUnavailableError(explain((error as Error).message));
  }
}

export type RetryOneResult =
  | { readonly kind: "retried"; readonly run: QueuedRun }
  | { readonly kind: "not_found" }
  | { readonly kind: "succeeded" }
  | { readonly kind: "target_not_configured"; readonly targetId: string }
  | { readonly kind: "transform_failed" };

/**
 * Starts a new run of one delivery. Failed, pending and retrying deliveries may be retried (a
 * retrying one is pulled forward: its waiting job becomes a no-op); a succeeded one only with
 * `force`. History is kept: the new run's attempts continue the numbering.
 */
export async function retryOne(
  ctx: AdminContext,
  actor: AuditActor,
  deliveryId: string,
  options: { readonly force?: boolean } = {},
): Promise<RetryOneResult> {
  await ctx.queues.ready();
  const outcome = await retryDelivery(
    ctx.database.pool,
    deliveryId,
    options.force ? ANY_STATUS : RETRYABLE,
    configuredTargets(ctx),
    async (tx, run) => {
      await insertAudit(tx, {
        ...actor,
        action: "delivery.retry",
        subject: deliveryId,
        details: { target: run.targetId, run: run.runNumber, force: options.force === true },
      });
    },
  );
  switch (outcome.kind) {
    case "retried":
      await enqueueCommitted(
        ctx,
        [outcome.run],
        (reason) =>
          `delivery ${deliveryId} is pending again but could not be queued (${reason}); the worker's reconciler queues it once Redis is back`,
      );
      return outcome;
    case "not_found":
    case "transform_failed":
      return outcome;
    case "not_allowed":
      return configuredTargets(ctx).includes(outcome.targetId)
        ? { kind: "succeeded" }
        : { kind: "target_not_configured", targetId: outcome.targetId };
    default: {
      const exhaustive: never = outcome;
      return exhaustive;
    }
  }
}

export type RetryManyResult =
  | { readonly kind: "retried"; readonly retried: number }
  | { readonly kind: "dry_run"; readonly matched: number }
  | { readonly kind: "succeeded_needs_force" };

export interface RetryManyOptions {
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly batchSize?: number;
}

/**
 * Retries every delivery the filters select (status defaults to `failed`) to a configured
 * target, 1,000 at a time: each batch is one UPDATE ... RETURNING and one addBulk per target.
 */
export async function retryMany(
  ctx: AdminContext,
  actor: AuditActor,
  filters: DeliveryFilters,
  options: RetryManyOptions = {},
): Promise<RetryManyResult> {
  const status = filters.status ?? ["failed"];
  if (status.includes("succeeded") && !options.force) return { kind: "succeeded_needs_force" };
  const selected: DeliveryFilters = { ...filters, status };
  if (options.dryRun) {
    return { kind: "dry_run", matched: await countDeliveries(ctx.database.pool, selected) };
  }
  await ctx.queues.ready();
  let queued = 0;
  const audit = new BatchAuditRow({
    ...actor,
    action: "deliveries.retry",
    subject: filterSummary(selected),
    details: { filters: filtersJson(selected), force: options.force === true },
  });
  const retried = await retryDeliveries(ctx.database.pool, selected, {
    targets: configuredTargets(ctx),
    audit: (tx, total) => audit.record(tx, { retried: total }),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    onBatch: async (runs) => {
      await enqueueCommitted(
        ctx,
        runs,
        (reason) =>
          `${queued} deliveries were retried and queued; ${runs.length} more are pending but could not be ` +
          `queued (${reason}); run the bulk retry again with status=pending once Redis is back`,
      );
      queued += runs.length;
    },
  });
  return { kind: "retried", retried };
}

export type ReplayResult =
  | { readonly kind: "replayed"; readonly eventId: string; readonly runs: readonly QueuedRun[] }
  | { readonly kind: "not_found" }
  | { readonly kind: "unknown_targets"; readonly targets: readonly string[] };

/**
 * Fans an event out again as new deliveries (fresh ids, run 1): to the targets its routes
 * select today, or to the named targets. The original deliveries are left as they are.
 */
export async function replayEvent(
  ctx: AdminContext,
  actor: AuditActor,
  eventId: string,
  targets?: readonly string[],
): Promise<ReplayResult> {
  const configured = configuredTargets(ctx);
  if (targets !== undefined) {
    const unknown = targets.filter((t) => !configured.includes(t));
    if (unknown.length > 0) return { kind: "unknown_targets", targets: unknown };
  }
  const event = await getEventRouting(ctx.database.pool, eventId);
  if (!event) return { kind: "not_found" };
  const view = routableEvent(event);
  const routed = routeEvent(ctx.config.routes, view);
  const chosen = targets
    ? [...new Set(targets)]
    : routed.map((r) => r.targetId).filter((t) => configured.includes(t));
  if (chosen.length === 0) return { kind: "replayed", eventId, runs: [] };
  await ctx.queues.ready();
  // A routed target gets what its route's transform makes of the event now (a target named by
  // hand that no route takes gets the event as received).
  const planned = await Promise.all(
    chosen.map(async (targetId) => {
      const transform = routed.find((r) => r.targetId === targetId)?.transform ?? null;
      if (transform === null) return { id: newId("dlv"), targetId };
      const body = await transform.apply(view.json()).then(
        (sent) => ({ sent }),
        (error: unknown) => ({ failed: error instanceof Error ? error.message : String(error) }),
      );
      return { id: newId("dlv"), targetId, body };
    }),
  );
  const runs = await createReplayDeliveries(ctx.database.pool, eventId, planned, async (tx, queued) => {
    await insertAudit(tx, {
      ...actor,
      action: "event.replay",
      subject: eventId,
      details: {
        targets: chosen,
        deliveries: planned.map((p) => p.id),
        queued: queued.length,
        chosen_by: targets ? "caller" : "routes",
      },
    });
  });
  if (runs === null) return { kind: "not_found" };
  await enqueueCommitted(
    ctx,
    runs,
    (reason) =>
      `replay of ${eventId} created ${runs.map((r) => r.id).join(", ")} but could not queue them (${reason}); ` +
      "retry those deliveries once Redis is back",
  );
  return { kind: "replayed", eventId, runs };
}

/** A bulk change's filters as the audit log's subject: `status=failed target=fraud`. */
export function filterSummary(filters: DeliveryFilters): string {
  const json = filtersJson(filters);
  const parts = Object.entries(json).map(([key, value]) => `${key}=${value}`);
  return parts.length > 0 ? parts.join(" ") : "all";
}

function filtersJson(filters: DeliveryFilters): Record<string, string> {
  const out: Record<string, string> = {};
  if (filters.status) out.status = filters.status.join(",");
  if (filters.target !== undefined) out.target = filters.target;
  if (filters.source !== undefined) out.source = filters.source;
  if (filters.eventId !== undefined) out.event = filters.eventId;
  if (filters.since) out.since = filters.since.toISOString();
  if (filters.until) out.until = filters.until.toISOString();
  return out;
}
