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
  type IngestJob,
  ingestQueueNames,
  queueKeysFor,
  type RedisEndpoint,
  raiseIngestShards,
} from "@hookline/queue";
import { Queue } from "bullmq";
import { createGatewayApp, type GatewayAppDeps, type IngestObserver } from "./app";
import { handleClientErrors } from "./client-error";
import { withFastPath } from "./fast-path";
import { createIngestBatcher, type IngestQueue } from "./ingest-queue";

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
  /** Stops accepting, lets in-flight requests finish, then closes connections. */
  close(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger } = options;
  const redis = createProducerConnection(options.redis);
  const keys = queueKeysFor(options.queuePrefix, options.redis);
  // One queue per ingest shard, each with its own hash tag on a cluster (so on its own master).
  const queues: IngestQueue[] = ingestQueueNames(config.ingest.shards).map((name) => {
    const queue: IngestQueue = new Queue(name, { connection: redis, prefix: keys.prefix(name) });
    queue.on("error", () => {}); // surfaced as 503s and /readyz
    return queue;
  });
  const database = connectDatabase(options.databaseUrl, { max: 2, applicationName: "hookline-gateway" });
  // Give Redis a moment to connect before taking traffic; if it is down we still start and answer 503.
  if (redis.status !== "ready") {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3_000);
      redis.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  // Workers consume every shard any process has used (see @hookline/queue's ingest-shards.ts),
  // so the count is recorded before the first job goes to a shard: no job is ever queued where
  // no worker will look. Recorded once; a failure (Redis down) fails that enqueue, and the next
  // one tries again.
  let shardsRecorded: Promise<void> | null = config.ingest.shards > 1 ? null : Promise.resolve();
  const recordShards = () => {
    shardsRecorded ??= raiseIngestShards(redis, keys, config.ingest.shards).then(
      () => {},
      (error: unknown) => {
        shardsRecorded = null;
        throw error;
      },
    );
    return shardsRecorded;
  };
  await recordShards().catch((error: unknown) =>
    logger.warn({ err: error }, "ingest shards not recorded in Redis yet; the first request tries again"),
  );
  const enqueueTimeoutMs = options.enqueueTimeoutMs ?? config.server.enqueueTimeoutMs;
  // Events that finish arriving together are written as one job (see @hookline/batch), one
  // batcher per shard. Requests take the shards in turn, not by source: one busy source would
  // otherwise load one master, and ordering (which would want a key's events in one shard)
  // is refused with more than one shard anyway.
  const batchers = queues.map((queue) => createIngestBatcher(queue, config.server.queueLingerMs));
  let turn = 0;
  const toQueue: (job: IngestJob) => Promise<undefined> =
    batchers.length === 1
      ? (job) => (batchers[0] as (typeof batchers)[number]).call(job)
      : async (job) => {
          await recordShards();
          const batcher = batchers[turn] as (typeof batchers)[number];
          turn = (turn + 1) % batchers.length;
          return batcher.call(job);
        };

  const appDeps: GatewayAppDeps = {
    sources: new Map(config.sources.map((s) => [s.id, s])),
    enqueue: async (job) => {
      // Fail at once while disconnected: BullMQ would otherwise wait for the connection.
      if (redis.status !== "ready") throw new Error(`redis is ${redis.status}`);
      await withTimeout(toQueue(job), enqueueTimeoutMs, "enqueue");
    },
    now: options.now ?? Date.now,
    newEventId: () => newId("evt"),
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
      return { redis: r.status === "fulfilled", postgres: p.status === "fulfilled" };
    },
    ...(options.observer ? { observer: options.observer } : {}),
  };
  const app = createGatewayApp(appDeps);

  const host = options.host ?? config.server.host;
  const release = async () => {
    await Promise.all(queues.map((queue) => queue.close().catch(() => {})));
    redis.disconnect();
    await database.close().catch(() => {});
  };
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
    await release();
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
        await release();
      })();
      return closing;
    },
  };
}
