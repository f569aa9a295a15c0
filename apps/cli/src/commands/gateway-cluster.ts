// `server.workers`: several gateway processes share the public port through node:cluster
// (the primary accepts connections and hands them round-robin to the workers). The primary
// runs everything else (delivery worker, admin port); each forked process runs only the gateway.
import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { HooklineConfig, HooklineEnv } from "@hookline/config";
import type { Logger } from "@hookline/logger";
import { redisEndpointOf } from "@hookline/queue";
import { gatewayProcessEntry } from "../entry-points";
import { startTracingFromEnv } from "../tracing";
import type { Running } from "./run";

export function gatewayProcessCount(workers: number | "auto"): number {
  return workers === "auto" ? availableParallelism() : workers;
}

/** True in a process forked by `forkGateways`. */
export function isGatewayChild(): boolean {
  return cluster.isWorker;
}

/** The whole life of a forked gateway process: serve until SIGTERM/SIGINT, then drain and exit. */
export async function runGatewayChild(
  config: HooklineConfig,
  env: HooklineEnv,
  logger: Logger,
): Promise<void> {
  const log = logger.child({ gatewayProcess: cluster.worker?.id });
  const tracing = startTracingFromEnv(log);
  const { startGateway } = await import("@hookline/gateway");
  const gateway = await startGateway({
    config,
    databaseUrl: env.databaseUrl,
    redis: redisEndpointOf(env),
    queuePrefix: env.queuePrefix,
    logger: log,
  });
  await new Promise<void>((resolve) => {
    const stop = () => void gateway.close().then(resolve, resolve);
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await tracing?.shutdown().catch(() => {});
  // The IPC channel to the primary would keep this process alive.
  cluster.worker?.disconnect();
}

/**
 * Forks `count` gateway processes and resolves once all of them listen. A process that dies
 * is replaced; `close()` stops them all (each finishes the requests in hand) and waits.
 */
export async function forkGateways(count: number, env: HooklineEnv, logger: Logger): Promise<Running> {
  let closing = false;
  // The forked processes run a lean entry point, with the config this process resolved.
  cluster.setupPrimary({ exec: gatewayProcessEntry(), args: [] });
  const live = new Set<Worker>();
  const fork = () => {
    const worker = cluster.fork({ HOOKLINE_CONFIG: env.configPath, LOG_LEVEL: env.logLevel });
    live.add(worker);
    worker.once("exit", (code, signal) => {
      live.delete(worker);
      if (closing) return;
      logger.error({ pid: worker.process.pid, code, signal }, "gateway process died; starting another");
      setTimeout(fork, 500).unref();
    });
    return worker;
  };
  await Promise.all(
    Array.from({ length: count }, () => {
      const worker = fork();
      return new Promise<void>((resolve, reject) => {
        worker.once("listening", () => resolve());
        worker.once("exit", (code) =>
          reject(new Error(`a gateway process exited with ${code} while starting`)),
        );
      });
    }),
  );
  logger.info({ processes: count }, "gateway processes listening");
  return {
    close: async () => {
      closing = true;
      await Promise.all(
        [...live].map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) return resolve();
              const kill = setTimeout(() => worker.process.kill("SIGKILL"), 30_000);
              worker.once("exit", () => {
                clearTimeout(kill);
                resolve();
              });
              worker.process.kill("SIGTERM");
            }),
        ),
      );
    },
  };
}
