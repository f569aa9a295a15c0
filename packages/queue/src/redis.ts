import { Redis, type RedisOptions } from "ioredis";

export type { Redis } from "ioredis";

/**
 * Producer connections fail fast: with no offline queue an add errors at once while Redis is
 * down, and the gateway answers 503 instead of holding the request.
 */
export function createProducerConnection(url: string): Redis {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    lazyConnect: false,
  };
  const redis = new Redis(url, options);
  redis.on("error", () => {}); // reported through failed commands and /readyz, not as a crash
  return redis;
}

/** Worker connections block on Redis and must retry forever (BullMQ requires null). */
export function createWorkerConnection(url: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on("error", () => {});
  return redis;
}
