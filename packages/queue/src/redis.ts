// Connections to Redis: one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). Both
// kinds take the same commands; BullMQ takes either as its connection.
import { withoutPassword } from "@hookline/redact";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { type QueueKeys, queueKeys } from "./catalog";

export type { Cluster, Redis } from "ioredis";

/** A connection to one Redis server or to a cluster. */
export type RedisConnection = Redis | Cluster;

/** One node of a cluster to start from; the rest are learnt from it (CLUSTER SLOTS). */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Where Redis is: a redis:// URL, or the seed nodes of a cluster. */
export type RedisEndpoint = string | { readonly clusterNodes: readonly RedisNode[] };

/** The endpoint the environment names: REDIS_CLUSTER_NODES when set, else REDIS_URL. */
export function redisEndpointOf(env: {
  readonly redisUrl: string;
  readonly redisClusterNodes: readonly RedisNode[] | null;
}): RedisEndpoint {
  return env.redisClusterNodes ? { clusterNodes: env.redisClusterNodes } : env.redisUrl;
}

/** Queue keys for `endpoint`: a slot per queue on a cluster, the shared slot on one server. */
export function queueKeysFor(queuePrefix: string, endpoint: RedisEndpoint): QueueKeys {
  return queueKeys(queuePrefix, isCluster(endpoint) ? "slot-per-queue" : "one-slot");
}

export function isCluster(
  endpoint: RedisEndpoint,
): endpoint is { readonly clusterNodes: readonly RedisNode[] } {
  return typeof endpoint !== "string";
}

/** The endpoint for messages: a URL without its password, or the node list. */
export function describeEndpoint(endpoint: RedisEndpoint): string {
  if (isCluster(endpoint))
    return `cluster ${endpoint.clusterNodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
  return withoutPassword(endpoint);
}

/**
 * One connection to `endpoint` with `options`. For a cluster, `options` apply to each node's
 * connection, and the cluster's own offline queue and retry follow them.
 */
export function connectRedis(endpoint: RedisEndpoint, options: RedisOptions): RedisConnection {
  if (!isCluster(endpoint)) return new Redis(endpoint, options);
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...nodeOptions } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions: nodeOptions,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    // Reconnecting to the whole cluster follows the same schedule as to one server.
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) } : {}),
  };
  return new Cluster(
    endpoint.clusterNodes.map((n) => ({ host: n.host, port: n.port })),
    clusterOptions,
  );
}

/**
 * Producer connections fail fast: with no offline queue an add errors at once while Redis is
 * down, and the gateway answers 503 instead of holding the request.
 */
export function createProducerConnection(endpoint: RedisEndpoint): RedisConnection {
  const redis = connectRedis(endpoint, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    lazyConnect: false,
  });
  redis.on("error", () => {}); // reported through failed commands and /readyz, not as a crash
  return redis;
}

/** Worker connections block on Redis and must retry forever (BullMQ requires null). */
export function createWorkerConnection(endpoint: RedisEndpoint): RedisConnection {
  const redis = connectRedis(endpoint, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on("error", () => {});
  return redis;
}

/** Resolves once `connection` is ready, or after `timeoutMs` whether it is or not. */
export function readyOrLater(connection: RedisConnection, timeoutMs: number): Promise<void> {
  if (connection.status === "ready") return Promise.resolve();
  return new Promise<void>((resolve) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      connection.off("ready", onReady);
      resolve();
    }, timeoutMs);
    connection.once("ready", onReady);
  });
}
