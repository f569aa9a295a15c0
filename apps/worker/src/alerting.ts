// The worker's side of `alerts:`: it raises what it sees (a circuit opening or closing, a
// delivery failing for good, a backlog passing its threshold) and runs the alerts queue. Off
// when no destination is configured. Raising never waits on Redis in a delivery's path.
import { type AlertRaiser, createAlertRaiser, destinationKey } from "@hookline/alerts";
import type { AlertConfig, HooklineConfig } from "@hookline/config";
import { targetBacklogs } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import { createWorkerConnection, type RedisEndpoint } from "@hookline/queue";
import type pg from "pg";
import { startAlertWorker } from "./alert-job";
import type { CircuitState } from "./circuit";
import { runEvery } from "./periodic";
import type { WorkerObserver } from "./worker";

/** How often backlogs are compared with each destination's `backlog_threshold`. */
export const BACKLOG_CHECK_MS = 15_000;

export interface FailedDelivery {
  readonly deliveryId: string;
  readonly eventId: string;
  readonly reason: string | null;
}

export interface Alerting {
  circuitChanged(targetId: string, from: CircuitState, to: CircuitState): void;
  deliveryFailed(targetId: string, failed: FailedDelivery): void;
  close(): Promise<void>;
}

export interface AlertingOptions {
  readonly config: HooklineConfig;
  readonly redis: RedisEndpoint;
  /** The alerts queue's BullMQ prefix (QueueKeys.prefix); the backlog keys share its slot. */
  readonly prefix: string;
  readonly pool: pg.Pool;
  readonly logger: Logger;
  readonly observer?: Pick<WorkerObserver, "alert">;
  readonly backlogCheckMs?: number;
  readonly windowMs?: number;
}

export async function startAlerting(options: AlertingOptions): Promise<Alerting | null> {
  const destinations = options.config.alerts;
  if (destinations.length === 0) return null;
  const { logger, prefix } = options;
  const connection = createWorkerConnection(options.redis);
  // A Redis outage would otherwise log once per raise: once a minute is enough to be seen.
  let lastErrorLog = 0;
  const raiser: AlertRaiser = createAlertRaiser({
    connection,
    prefix,
    destinations,
    ...(options.windowMs ? { windowMs: options.windowMs } : {}),
    onError: (error) => {
      if (Date.now() - lastErrorLog < 60_000) return;
      lastErrorLog = Date.now();
      logger.warn({ err: error }, "an alert could not be queued (Redis); deliveries are not affected");
    },
  });
  const worker = await startAlertWorker({
    redis: options.redis,
    prefix,
    destinations,
    raiser,
    logger,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const settingsOf = new Map(options.config.targets.map((t) => [t.id, t.circuitBreaker]));

  // backlog.high fires when a target's backlog passes a destination's threshold, once: a key in
  // Redis, shared by every worker, remembers that it is above until it comes back under.
  const watching = destinations.filter((d) => d.events.has("backlog.high"));
  const aboveKey = (d: AlertConfig, targetId: string) =>
    `${prefix}:alerts:backlog-above:${targetId}:${destinationKey(d.url)}`;
  const checkBacklogs = async () => {
    const backlogs = await targetBacklogs(options.pool);
    for (const target of options.config.targets) {
      const found = backlogs.get(target.id);
      const backlog = found?.backlog ?? 0;
      for (const d of watching) {
        if (backlog > d.backlogThreshold) {
          const first = await connection.set(aboveKey(d, target.id), "1", "NX");
          if (first === "OK")
            raiser.raise(
              "backlog.high",
              target.id,
              {
                backlog,
                threshold: d.backlogThreshold,
                oldest_pending_at: found?.oldestPendingAt?.toISOString() ?? null,
              },
              [d],
            );
        } else await connection.del(aboveKey(d, target.id));
      }
    }
  };
  // No destination wants backlog.high: no check, no query every 15 s.
  const monitor =
    watching.length === 0
      ? null
      : runEvery(options.backlogCheckMs ?? BACKLOG_CHECK_MS, checkBacklogs, (error) =>
          logger.warn({ err: error }, "backlog check for alerts failed"),
        );

  return {
    circuitChanged(targetId, from, to) {
      const settings = settingsOf.get(targetId);
      if (to === "open" && from !== "open")
        raiser.raise("circuit.opened", targetId, {
          failure_threshold: settings?.failureThreshold ?? null,
          cooldown_ms: settings?.cooldownMs ?? null,
        });
      else if (to === "closed" && from !== "closed") raiser.raise("circuit.closed", targetId);
    },
    deliveryFailed(targetId, failed) {
      raiser.raise("delivery.failed", targetId, {
        delivery_id: failed.deliveryId,
        event_id: failed.eventId,
        reason: failed.reason,
      });
    },
    close: async () => {
      await monitor?.close();
      await worker.close();
      await raiser.close();
      connection.disconnect();
    },
  };
}
