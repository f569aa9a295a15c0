// Every gateway and worker of one installation must run the same config: the same sources,
// targets and routes, or an event is routed one way by one worker and another way by the next.
// Each process leaves the fingerprint of its config file in Redis as it starts and gets back the
// one the previous process left; a difference is worth a warning (during a rolling deploy it is
// expected, once).
import { createHash } from "node:crypto";
import { connectRedis, type RedisEndpoint } from "./redis";

/** SHA-256 of the config file's bytes (values taken from the environment are not part of it). */
export function configFingerprint(fileText: string | Buffer): string {
  return createHash("sha256").update(fileText).digest("hex");
}

/**
 * Stores this process's fingerprint and returns the one stored before it, if any, over a
 * connection of its own (one that queues the command until it has connected).
 */
export async function swapConfigFingerprint(
  endpoint: RedisEndpoint,
  prefix: string,
  fingerprint: string,
): Promise<string | null> {
  const redis = connectRedis(endpoint, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on("error", () => {});
  try {
    const previous = await redis.call("SET", `${prefix}:config-fingerprint`, fingerprint, "GET");
    return typeof previous === "string" ? previous : null;
  } finally {
    redis.disconnect();
  }
}
