// A fresh database and queue prefix per run, removed at the end whatever happens.
import { randomBytes } from "node:crypto";
import { dropDatabase, migrateDatabase } from "@hookline/db";
import { Redis } from "ioredis";
import pg from "pg";

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

/** How the run found the server's autovacuum, whether it turned it on, and the undo. */
export interface AutovacuumState {
  readonly found: string;
  readonly changed: boolean;
  restore(): Promise<void>;
}

/**
 * Postgres as it ships vacuums on its own; a server with `autovacuum = off` (this project's CI
 * machines have it in conf.d) lets the dead rows of every update pile up through a run. The
 * bench measures Hookline as it runs in production: when the server has autovacuum off, it is
 * turned on for the run (ALTER SYSTEM, reload) and reset after.
 */
export async function autovacuumOn(adminDatabaseUrl: string, keepAsIs: boolean): Promise<AutovacuumState> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  await client.connect();
  try {
    const found = (await client.query<{ autovacuum: string }>("show autovacuum")).rows[0]?.autovacuum ?? "?";
    if (found === "on" || keepAsIs) return { found, changed: false, restore: async () => {} };
    try {
      await client.query("alter system set autovacuum = on");
      await client.query("select pg_reload_conf()");
    } catch (error) {
      // Not a superuser: measure as the server is, and say so.
      return {
        found: `${found} (could not turn it on: ${String(error)})`,
        changed: false,
        restore: async () => {},
      };
    }
    return {
      found,
      changed: true,
      restore: async () => {
        const undo = new pg.Client({ connectionString: adminDatabaseUrl });
        await undo.connect();
        try {
          await undo.query("alter system reset autovacuum");
          await undo.query("select pg_reload_conf()");
        } finally {
          await undo.end();
        }
      },
    };
  } finally {
    await client.end();
  }
}
