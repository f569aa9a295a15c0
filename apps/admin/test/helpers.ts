import type { RunningAdminServer } from "@hookline/admin";
import type { Database } from "@hookline/db";
import { clausumConfig, type Sink } from "@hookline/testkit";

export { CLAUSUM_SECRET, clausumBody } from "@hookline/testkit";
export const ADMIN_TOKEN = "admin-test-token-9f8e7d6c5b4a39281706";

/** One Clausum source routed by event-type globs to the given loopback targets. */
export function adminConfig(
  targets: Record<string, { sink: Sink; schedule?: string; extra?: string }>,
  routes: string,
  extra = "",
): string {
  const targetYaml = Object.entries(targets)
    .map(
      ([id, t]) => `  - id: ${id}
    url: ${t.sink.url}/${id}
    timeout: 2s
    retry: { schedule: [${t.schedule ?? "100ms"}] }
${t.extra ?? ""}`,
    )
    .join("\n");
  return clausumConfig(targetYaml, routes, extra);
}

/** Rows in `table` (that match `where`). */
export async function countRows(database: Database, table: string, where = "true"): Promise<number> {
  return Number(
    (await database.pool.query<{ n: string }>(`select count(*) as n from ${table} where ${where}`)).rows[0]
      ?.n,
  );
}

/** A request to the admin server over its real socket, with the admin token unless told otherwise. */
export function api(
  admin: RunningAdminServer,
  path: string,
  init: { method?: string; body?: unknown; token?: string | null } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = init.token === undefined ? ADMIN_TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${admin.url}${path}`, {
    method: init.method ?? "GET",
    headers,
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }),
  });
}

export async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** ioredis connection options for a redis:// URL (BullMQ takes options, not a URL). */
export function redisOptions(url: string): { host: string; port: number; maxRetriesPerRequest: null } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
}
