import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "./schema/index";

export type Db = NodePgDatabase<typeof schema>;

export interface Database {
  readonly db: Db;
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

export interface ConnectOptions {
  readonly max?: number;
  readonly applicationName?: string;
}

export function connectDatabase(url: string, options: ConnectOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "hookline",
    connectionTimeoutMillis: 5_000,
    // Plan each execution of a prepared statement with its actual arguments and the tables'
    // current size. A generic plan made while a table was nearly empty (a fresh install) is a
    // sequential scan, and a connection keeps it until autovacuum next analyzes the table:
    // measured in the bench as most of Postgres's CPU in the first minutes.
    options: "-c plan_cache_mode=force_custom_plan",
  });
  // An idle client's error (Postgres restarted) must not crash the process; the pool
  // drops the client and the next query reconnects.
  pool.on("error", () => {});
  // A checked-out client has no listener of the pool's: a connection lost while it is held
  // (between the statements of a transaction, say) would be an unhandled 'error' event and
  // take the process down. Its queries fail instead, and the pool discards it on release.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  const db = drizzle(pool, { schema });
  return {
    db,
    pool,
    close: () => pool.end(),
  };
}

/** The database name in a URL, and the URL of the maintenance database on the same server. */
export function splitDatabaseUrl(url: string): { name: string; adminUrl: string } {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres";
  parsed.pathname = "/postgres";
  return { name, adminUrl: parsed.toString() };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Creates the database named in `url` when it does not exist. Returns true when it created it. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const { name, adminUrl } = splitDatabaseUrl(url);
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`create database ${quoteIdent(name)}`);
    } catch (error) {
      // Another process created it between our check and our create.
      if ((error as { code?: string }).code !== "42P04") throw error;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const { name, adminUrl } = splitDatabaseUrl(url);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
  } finally {
    await client.end();
  }
}

export async function createDatabaseFromTemplate(url: string, template: string): Promise<void> {
  const { name, adminUrl } = splitDatabaseUrl(url);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (let tries = 0; ; tries++) {
      try {
        await client.query(`create database ${quoteIdent(name)} template ${quoteIdent(template)}`);
        return;
      } catch (error) {
        // 55006: the template is briefly in use by a concurrent clone.
        if ((error as { code?: string }).code !== "55006" || tries > 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await client.end();
  }
}

/** A pool, or one client inside a transaction: what a query that may join a transaction takes. */
export type Queryable = pg.Pool | pg.PoolClient;

/**
 * Runs `fn` in one transaction on one client: committed when it returns, rolled back when it
 * throws (the error is rethrown).
 */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
