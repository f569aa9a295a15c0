import { ensureDatabase, splitDatabaseUrl } from "@hookline/db";
import { connectRedis, describeEndpoint, isCluster, type RedisEndpoint } from "@hookline/queue";
import { withoutPassword } from "@hookline/redact";
import pg from "pg";

/** A failure a person can act on: what is wrong, where, and how to fix it. No stack trace. */
export class PreflightError extends Error {
  constructor(
    readonly service: "postgres" | "redis",
    message: string,
  ) {
    super(message);
    this.name = "PreflightError";
  }
}

function reason(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e.code ?? e.message ?? String(error);
}

/** What each service is called, how to start it, and the variable that names where it is. */
const SERVICES = {
  postgres: {
    name: "PostgreSQL",
    start: [
      "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   # Debian/Ubuntu",
      "docker compose up -d postgres                                              # with Docker",
    ],
    urlVariable: "DATABASE_URL",
  },
  redis: {
    name: "Redis",
    start: [
      "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --appendonly yes   # local",
      "docker compose up -d redis                                                   # with Docker",
    ],
    urlVariable: "REDIS_URL",
  },
} as const satisfies Record<PreflightError["service"], unknown>;

/** `at`: where the service was looked for, without secrets; `urlVariable`: the variable that said so. */
function notAnswering(
  service: PreflightError["service"],
  at: string,
  error: unknown,
  urlVariable: string = SERVICES[service].urlVariable,
): PreflightError {
  const { name, start } = SERVICES[service];
  return new PreflightError(
    service,
    [
      `${name} is not answering at ${at} (${reason(error)}).`,
      "  Start it, for example:",
      ...start.map((command) => `    ${command}`),
      `  or point ${urlVariable} at a running server.`,
    ].join("\n"),
  );
}

export async function checkPostgres(url: string): Promise<void> {
  const { adminUrl } = splitDatabaseUrl(url);
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
  } catch (error) {
    throw notAnswering("postgres", withoutPassword(url), error);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function checkRedis(endpoint: RedisEndpoint): Promise<void> {
  const redis = connectRedis(endpoint, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3_000,
    retryStrategy: () => null,
  });
  let firstError: unknown;
  redis.on("error", (error) => {
    firstError ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (caught) {
    throw notAnswering(
      "redis",
      describeEndpoint(endpoint),
      firstError ?? caught,
      isCluster(endpoint) ? "REDIS_CLUSTER_NODES" : "REDIS_URL",
    );
  } finally {
    redis.disconnect();
  }
}

/** Both services, checked together so one run names every missing one. */
export async function preflight(databaseUrl: string, redis: RedisEndpoint): Promise<void> {
  const results = await Promise.allSettled([checkPostgres(databaseUrl), checkRedis(redis)]);
  const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new PreflightError("postgres", failures.map((f) => f.message).join("\n\n"));
}

export { ensureDatabase };
