import {
  createServer,
  type RequestListener,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { HooklineConfig } from "@hookline/config";
import { connectDatabase, newId } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import {
  createProducerConnection,
  queueKeysFor,
  type RedisEndpoint,
  raiseIngestShards,
  readyOrLater,
} from "@hookline/queue";
import { createGatewayApp, type GatewayAppDeps, type IngestObserver } from "./app";
import { handleClientErrors } from "./client-error";
import { withFastPath } from "./fast-path";
import { verifyAndQueue } from "./ingest";
import {
  createIngestProducer,
  type IngestProducer,
  type IngestQueueSettings,
  REDIS_START_WAIT_MS,
} from "./ingest-queue";
import { type IngestThread, startIngestThread } from "./ingest-thread";
import { withTimeout } from "./with-timeout";

export interface GatewayOptions {
  readonly config: HooklineConfig;
  readonly databaseUrl: string;
  readonly redis: RedisEndpoint;
  readonly queuePrefix: string;
  readonly logger: Logger;
  /** Override the configured port (0 = any free port, for tests). */
  readonly port?: number;
  readonly host?: string;
  readonly enqueueTimeoutMs?: number;
  readonly bodyIdleTimeoutMs?: number;
  readonly observer?: IngestObserver;
  readonly now?: () => number;
}

export interface RunningGateway {
  readonly port: number;
  readonly url: string;
  readonly server: Server;
  /** The ingest thread, with `server.ingest_thread` (tests stop it to see a crash handled). */
  readonly ingestThread: IngestThread | null;
  /** Stops accepting, lets in-flight requests finish, then closes connections. */
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger } = options;
  // This connection answers /readyz, records the shard count, and queues events when they are
  // verified on this thread; with the ingest thread, that thread has a connection of its own.
  const redis = createProducerConnection(options.redis);
  const database = connectDatabase(options.databaseUrl, { max: 2, applicationName: "hookline-gateway" });
  // Give Redis a moment to connect before taking traffic; if it is down we still start and answer 503.
  await readyOrLater(redis, REDIS_START_WAIT_MS);
  const queueSettings: IngestQueueSettings = {
    redis: options.redis,
    queuePrefix: options.queuePrefix,
    shards: config.ingest.shards,
    lingerMs: config.server.queueLingerMs,
    enqueueTimeoutMs: options.enqueueTimeoutMs ?? config.server.enqueueTimeoutMs,
  };
  const sources = new Map(config.sources.map((s) => [s.id, s]));
  let local: IngestProducer | null = null;
  let thread: IngestThread | null = null;
  const letGo = async () => {
    await thread?.close();
    await local?.close();
    redis.disconnect();
    await database.close().catch(() => {});
  };
  try {
    if (config.server.ingestThread) {
      thread = await startIngestThread(
        { sources: config.sources.map(({ id, spec }) => ({ id, spec })), queue: queueSettings },
        logger,
      );
    } else local = createIngestProducer(queueSettings, redis);
  } catch (error) {
    await letGo();
    throw error;
  }
  // Workers consume every shard any process has used (see @hookline/queue's ingest-shards.ts):
  // the count is recorded before the first job goes to a shard, here for the log, and again by
  // the first enqueue while it is not.
  if (config.ingest.shards > 1)
    await raiseIngestShards(
      redis,
      queueKeysFor(options.queuePrefix, options.redis),
      config.ingest.shards,
    ).catch((error: unknown) =>
      logger.warn({ err: error }, "ingest shards not recorded in Redis yet; the first request tries again"),
    );

  const appDeps: GatewayAppDeps = {
    sources,
    now: options.now ?? Date.now,
    verifyAndQueue:
      thread?.verifyAndQueue ??
      verifyAndQueue({
        sources,
        enqueue: (job) => (local as IngestProducer).enqueue(job),
        newEventId: () => newId("evt"),
      }),
    newRequestId: () => newId("req"),
    logger,
    bodyLimitBytes: config.server.bodyLimitBytes,
    bodyIdleTimeoutMs: options.bodyIdleTimeoutMs ?? config.server.bodyIdleTimeoutMs,
    retryAfterSeconds: config.server.retryAfterSeconds,
    trustedProxies: config.server.trustedProxies,
    checkReady: async () => {
      const [r, p] = await Promise.allSettled([
        withTimeout(redis.ping(), 1_000, "redis ping"),
        withTimeout(database.pool.query("select 1"), 1_000, "postgres ping"),
      ]);
      return {
        redis: r.status === "fulfilled",
        postgres: p.status === "fulfilled",
        ...(thread ? { ingestThread: thread.current() !== null } : {}),
      };
    },
    ...(options.observer ? { observer: options.observer } : {}),
  };
  const app = createGatewayApp(appDeps);

  const host = options.host ?? config.server.host;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        // Accepted ingest requests are answered on node:http directly (fast-path.ts).
        createServer: ((serverOptions: ServerOptions, listener: RequestListener) =>
          createServer(serverOptions, withFastPath(appDeps, listener))) as typeof createServer,
        port: options.port ?? config.server.port,
        hostname: host,
        // The app answers a missing Host itself, with a reason code (see app.ts).
        serverOptions: { requireHostHeader: false },
      },
      () => resolve(s as Server),
    ) as Server;
    s.once("error", reject);
  }).catch(async (error: unknown) => {
    // The port is taken (say): let go of Redis and Postgres, or they keep the process alive.
    await letGo();
    throw error;
  });
  // Slow-loris guard for headers; bodies have their own idle timeout.
  server.headersTimeout = config.server.headersTimeoutMs;
  server.requestTimeout = config.server.requestTimeoutMs;
  handleClientErrors(server, {
    logger,
    now: options.now ?? Date.now,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, host }, "gateway listening");

  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    server,
    ingestThread: thread,
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          // server.close() only refuses new connections; a provider's keep-alive connection
          // would keep bringing requests. From now on every answer closes its connection, and
          // connections that fall idle (their request answered) are closed at once.
          server.on("request", (_req, res: ServerResponse) => res.setHeader("Connection", "close"));
          const sweep = setInterval(() => server.closeIdleConnections(), 100);
          server.close(() => {
            clearInterval(sweep);
            resolve();
          });
          server.closeIdleConnections();
        });
        await letGo();
      })();
      return closing;
    },
  };
}
