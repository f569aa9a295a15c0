// A fresh database and queue prefix per run, removed at the end whatever happens.
import { randomBytes } from "node:crypto";
import { dropDatabase, migrateDatabase } from "@hookline/db";
import { Redis } from "ioredis";

export interface BenchInfra {
  readonly databaseUrl: string;
  readonly queuePrefix: string;
  readonly redisUrl: string;
  /** Deletes every Redis key under a BullMQ prefix such as `{bench-ab12}` or `bench-ab12-naive`. */
  clearRedis(prefix: string): Promise<number>;
  drop(): Promise<void>;
}

export async function createInfra(adminDatabaseUrl: string, redisUrl: string): Promise<BenchInfra> {
  const suffix = randomBytes(4).toString("hex");
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/hookline_bench_${suffix}`;
  const databaseUrl = url.toString();
  await migrateDatabase(databaseUrl);
  const queuePrefix = `bench-${suffix}`;
  const clearRedis = async (prefix: string) => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    let deleted = 0;
    try {
      // Braces are glob metacharacters for SCAN MATCH; escape them.
      const pattern = `${prefix.replaceAll("{", "\\{").replaceAll("}", "\\}")}:*`;
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 5000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.unlink(...keys);
      } while (cursor !== "0");
    } finally {
      redis.disconnect();
    }
    return deleted;
  };
  return {
    databaseUrl,
    queuePrefix,
    redisUrl,
    clearRedis,
    drop: () => dropDatabase(databaseUrl),
  };
}
