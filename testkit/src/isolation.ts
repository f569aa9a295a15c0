import { randomBytes } from "node:crypto";
import { createDatabaseFromTemplate, dropDatabase } from "@hookline/db";
import { bullPrefix } from "@hookline/queue";
import { Redis } from "ioredis";
import { ADMIN_URL, REDIS_URL, TEMPLATE_ENV } from "./env";

export interface Isolated {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly queuePrefix: string;
  /** Drops the database and deletes every key under the queue prefix. */
  cleanup(): Promise<void>;
}

/** A fresh database (cloned from the migrated template) and a fresh queue prefix, for one test file. */
export async function isolate(label = "t"): Promise<Isolated> {
  const template = process.env[TEMPLATE_ENV];
  if (!template) throw new Error("the integration global setup did not run (no template database)");
  const suffix = randomBytes(5).toString("hex");
  const name = `hookline_${label
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()
    .slice(0, 20)}_${suffix}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  await createDatabaseFromTemplate(databaseUrl, template);
  const queuePrefix = `test-${suffix}`;
  return {
    databaseUrl,
    redisUrl: REDIS_URL,
    queuePrefix,
    cleanup: async () => {
      await dropDatabase(databaseUrl).catch(() => {});
      const redis = new Redis(REDIS_URL);
      try {
        const pattern = `${bullPrefix(queuePrefix)}:*`;
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
          cursor = next;
          if (keys.length) await redis.del(...keys);
        } while (cursor !== "0");
      } finally {
        redis.disconnect();
      }
    },
  };
}
