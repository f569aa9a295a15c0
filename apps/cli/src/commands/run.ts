import { readFileSync } from "node:fs";
import type { HooklineConfig, HooklineEnv } from "@hookline/config";
import { migrateDatabase } from "@hookline/db";
import type { RunningGateway } from "@hookline/gateway";
import type { Logger } from "@hookline/logger";
import { createMetrics } from "@hookline/metrics";
import { bullPrefix, configFingerprint, redisEndpointOf, swapConfigFingerprint } from "@hookline/queue";
import { withoutPassword } from "@hookline/redact";
import type { RunningWorker } from "@hookline/worker";
import { preflight } from "../preflight";
import { startTracingFromEnv } from "../tracing";
import { forkGateways, gatewayProcessCount, isGatewayChild, runGatewayChild } from "./gateway-cluster";

export interface RunParts {
  readonly gateway: boolean;
  readonly worker: boolean;
  readonly migrate: boolean;
}

export interface Running {
  close(): Promise<void>;
}

/**
 * Warns when the previous process to start (a gateway or worker of this installation, sharing
 * the queue prefix) ran another config file: they would route events differently.
 */
async function compareConfig(env: HooklineEnv, logger: Logger): Promise<void> {
  let text: Buffer;
  try {
    text = readFileSync(env.configPath);
  } catch {
    return; // loaded already, so only a race with an edit gets here: nothing to compare
  }
  const mine = configFingerprint(text);
  try {
    const previous = await swapConfigFingerprint(redisEndpointOf(env), bullPrefix(env.queuePrefix), mine);
    if (previous !== null && previous !== mine)
      logger.warn(
        { config: mine.slice(0, 12), previous: previous.slice(0, 12) },
        "this config file differs from the one the last process of this installation started with: every gateway and worker must run the same config (expected once during a rolling deploy)",
      );
  } catch (error) {
    logger.warn({ err: error }, "config fingerprint not compared (Redis)");
  }
}

/** Starts the requested parts in this process and stops them in order on SIGTERM/SIGINT. */
export async function run(
  config: HooklineConfig,
  env: HooklineEnv,
  logger: Logger,
  parts: RunParts,
  extras: Array<() => Promise<Running>> = [],
): Promise<void> {
  // A process forked for `server.workers` > 1 runs only the gateway; its primary runs the rest.
  if (isGatewayChild()) return runGatewayChild(config, env, logger);
  await preflight(env.databaseUrl, redisEndpointOf(env));
  const tracing = startTracingFromEnv(logger);
  await compareConfig(env, logger);
  if (parts.migrate) {
    const { createdDatabase } = await migrateDatabase(env.databaseUrl);
    logger.info({ database: withoutPassword(env.databaseUrl), createdDatabase }, "migrations applied");
  }
  const common = {
    config,
    databaseUrl: env.databaseUrl,
    redis: redisEndpointOf(env),
    queuePrefix: env.queuePrefix,
    logger,
  };
  // One registry for everything this process runs; served on the admin port's /metrics.
  const metrics = createMetrics({
    sources: config.sources.map((s) => s.id),
    targets: config.targets.map((t) => t.id),
  });
  let worker: RunningWorker | undefined;
  let gateway: RunningGateway | undefined;
  const others: Running[] = [];
  try {
    // Each part's code is imported only when this process runs it (a worker has no dashboard).
    if (parts.worker) {
      const { startWorker } = await import("@hookline/worker");
      worker = await startWorker({
        ...common,
        observer: metrics.worker,
      });
    }
    const gatewayProcesses = gatewayProcessCount(config.server.workers);
    if (parts.gateway && gatewayProcesses > 1) others.push(await forkGateways(gatewayProcesses, env, logger));
    else if (parts.gateway) {
      const { startGateway } = await import("@hookline/gateway");
      gateway = await startGateway({ ...common, observer: metrics.ingest });
    }
    // The admin port (API, /metrics, dashboard) goes with the gateway. A worker run alone serves
    // its own /metrics on admin_port + 2, so it can share a host with a separate gateway.
    if (parts.gateway) {
      const { startAdminServer } = await import("@hookline/admin");
      const { mountDashboard } = await import("@hookline/dashboard");
      others.push(
        await startAdminServer({
          ...common,
          adminToken: env.adminToken,
          metrics,
          circuitState: (targetId) => worker?.circuits.get(targetId)?.state,
          // The dashboard at `/`. Circuit states come from the worker when it runs in this process.
          extend: (app, context) =>
            mountDashboard(app, {
              context,
              config,
              adminToken: env.adminToken,
              logger,
              circuitState: (targetId) => worker?.circuits.get(targetId)?.state,
            }),
        }),
      );
    } else if (parts.worker) {
      // Metrics are an aid, not the job: a worker whose metrics port is taken keeps delivering.
      const port = config.server.adminPort + 2;
      const { startMetricsServer } = await import("@hookline/admin");
      try {
        others.push(await startMetricsServer({ metrics, logger, host: config.server.adminHost, port }));
      } catch (error) {
        logger.error(
          { port, err: error },
          "worker metrics not served: the port could not be bound; delivery continues",
        );
      }
    }
    for (const start of extras) others.push(await start());
  } catch (error) {
    // A part that cannot start (a port in use, say) must not leave the others running: a worker
    // with no gateway beside it would keep the process alive, half-started, and exit never.
    await gateway?.close().catch(() => {});
    for (const o of others) await o.close().catch(() => {});
    await worker?.close().catch(() => {});
    await tracing?.shutdown().catch(() => {});
    throw error;
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "shutting down: no new requests; finishing what is in hand");
      // Stop taking requests first, then let the worker finish or hand back its jobs.
      await gateway?.close();
      for (const o of others) await o.close();
      await worker?.close();
      await tracing?.shutdown().catch(() => {});
      logger.info("stopped");
      resolve();
    };
    process.once("SIGTERM", () => void stop("SIGTERM"));
    process.once("SIGINT", () => void stop("SIGINT"));
  });
}
