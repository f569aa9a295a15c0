import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { HooklineConfig } from "@hookline/config";
import { connectDatabase, targetBacklogs } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import type { CircuitState } from "@hookline/metrics";
import { createMetrics, type HooklineMetrics } from "@hookline/metrics";
import {
  type AdminApp,
  type AdminContext,
  AdminTokens,
  AuthLimiter,
  DeliveryQueues,
} from "@hookline/operations";
import type { RedisEndpoint } from "@hookline/queue";
import { Redactor } from "@hookline/redact";
import { createAdminApp } from "./app";

export interface AdminServerOptions {
  readonly config: HooklineConfig;
  readonly databaseUrl: string;
  readonly redis: RedisEndpoint;
  readonly queuePrefix: string;
  readonly logger: Logger;
  /**
   * HOOKLINE_ADMIN_TOKEN: an operate token named `default`, beside `config.admin.tokens`. With
   * neither: /metrics and /healthz only; /api answers admin_api_disabled.
   */
  readonly adminToken: string | null;
  /** The process's metrics (shared with gateway and worker when they run here). */
  readonly metrics?: HooklineMetrics;
  /** Override config.server.adminPort (0 = any free port, for tests) and adminHost. */
  readonly port?: number;
  readonly host?: string;
  /**
   * Adds routes (the dashboard) before the server starts listening. Gets the server's own
   * context, so what it adds reads and retries through the same pool and queues as /api.
   */
  readonly extend?: (app: AdminApp, context: AdminContext) => void;
  /** A target's circuit, when a worker runs in this process. */
  readonly circuitState?: (targetId: string) => CircuitState | undefined;
}

export interface RunningAdminServer {
  readonly port: number;
  readonly url: string;
  readonly app: AdminApp;
  readonly metrics: HooklineMetrics;
  close(): Promise<void>;
}

/** Where a local client reaches a server bound to `host`. */
function reachableHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

async function listen(app: AdminApp, port: number, host: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s as Server)) as Server;
    s.once("error", reject);
  });
}

/** The admin port: admin API (with a token), /metrics and /healthz, on admin_host:admin_port. */
export async function startAdminServer(options: AdminServerOptions): Promise<RunningAdminServer> {
  const { config, logger } = options;
  // Before any connection is opened: a token given twice (env and config) stops the start.
  const tokens = new AdminTokens(config.admin.tokens, options.adminToken);
  const metrics =
    options.metrics ??
    createMetrics({ sources: config.sources.map((s) => s.id), targets: config.targets.map((t) => t.id) });
  const database = connectDatabase(options.databaseUrl, { max: 4, applicationName: "hookline-admin" });
  const queues = new DeliveryQueues(
    options.redis,
    options.queuePrefix,
    config.targets.map((t) => t.id),
    config.ingest.shards,
  );
  const alerts = queues.alertRaiser(config.alerts, (error) =>
    logger.warn({ err: error }, "an alert could not be queued (Redis)"),
  );
  metrics.watchQueues(() => queues.watched());
  metrics.watchBacklogs(() => targetBacklogs(database.pool));
  const context: AdminContext = {
    database,
    queues,
    config,
    redactor: Redactor.fromConfig(config, options.adminToken),
    authLimiter: new AuthLimiter(),
    ...(options.circuitState ? { circuitState: options.circuitState } : {}),
    ...(alerts ? { alerts } : {}),
  };
  const app = createAdminApp({ logger, registry: metrics.registry, tokens, context });
  options.extend?.(app, context);

  const host = options.host ?? config.server.adminHost;
  let server: Server;
  try {
    server = await listen(app, options.port ?? config.server.adminPort, host);
  } catch (error) {
    await alerts?.close();
    await queues.close();
    await database.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  if (tokens.empty) {
    logger.warn(
      { port, host },
      "admin API disabled: no admin token (neither HOOKLINE_ADMIN_TOKEN nor admin.tokens), so /api answers 503; /metrics and /healthz are served",
    );
  } else {
    logger.info({ port, host, tokens: tokens.names() }, "admin API listening");
  }

  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${reachableHost(host)}:${port}`,
    app,
    metrics,
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await alerts?.close();
        await queues.close();
        await database.close().catch(() => {});
      })();
      return closing;
    },
  };
}

export interface MetricsServerOptions {
  readonly metrics: HooklineMetrics;
  readonly logger: Logger;
  readonly port: number;
  readonly host: string;
}

/** `/metrics` and `/healthz` alone: what `hookline worker` serves when no gateway runs beside it. */
export async function startMetricsServer(
  options: MetricsServerOptions,
): Promise<{ readonly port: number; close(): Promise<void> }> {
  const app = createAdminApp({
    logger: options.logger,
    registry: options.metrics.registry,
    tokens: new AdminTokens([]),
    context: null,
  });
  const server = await listen(app, options.port, options.host);
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port, host: options.host }, "worker metrics listening");
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
