// The process environment, parsed once at the edge. Packages receive HooklineEnv, never process.env.
import type { Env } from "./expand.js";
import type { ConfigIssue, HooklineConfig, HooklineEnv } from "./types.js";

export const ENV_DEFAULTS = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/hookline",
  REDIS_URL: "redis://127.0.0.1:6379",
  HOOKLINE_CONFIG: "./hookline.yaml",
  HOOKLINE_QUEUE_PREFIX: "hookline",
  LOG_LEVEL: "info",
} as const;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const MIN_ADMIN_TOKEN_LENGTH = 16;

export type ParseEnvResult =
  | { readonly ok: true; readonly env: HooklineEnv }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** Empty strings count as unset, as they do for most twelve-factor tools. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function checkUrl(issues: ConfigIssue[], name: string, value: string, protocols: readonly string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    issues.push({ path: name, message: `not a valid URL (expected ${protocols.join(" or ")}//...)` });
    return;
  }
  if (!protocols.includes(url.protocol)) {
    issues.push({ path: name, message: `expected a ${protocols.join(" or ")}// URL, got "${url.protocol}"` });
  }
}

/** `host:port,host:port,...`: the cluster nodes to start from, or the problem with the text. */
function parseClusterNodes(text: string): { host: string; port: number }[] | string {
  const nodes: { host: string; port: number }[] = [];
  for (const item of text.split(",")) {
    const entry = item.trim();
    // host:port, or [ipv6]:port
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[3]);
    const host = match?.[1] ?? match?.[2];
    if (!host || !(port >= 1 && port <= 65535))
      return `expected host:port[,host:port...], got ${JSON.stringify(entry)}`;
    nodes.push({ host, port });
  }
  return nodes;
}

/**
 * Reads DATABASE_URL, REDIS_URL, REDIS_CLUSTER_NODES, HOOKLINE_CONFIG, HOOKLINE_ADMIN_TOKEN, PORT,
 * HOOKLINE_QUEUE_PREFIX and LOG_LEVEL, applying the documented defaults. Never throws.
 */
export function parseEnv(env: Env): ParseEnvResult {
  const issues: ConfigIssue[] = [];

  const databaseUrl = read(env, "DATABASE_URL") ?? ENV_DEFAULTS.DATABASE_URL;
  checkUrl(issues, "DATABASE_URL", databaseUrl, ["postgres:", "postgresql:"]);

  const redisUrl = read(env, "REDIS_URL") ?? ENV_DEFAULTS.REDIS_URL;
  checkUrl(issues, "REDIS_URL", redisUrl, ["redis:", "rediss:"]);

  // A cluster replaces REDIS_URL (which is then not used).
  let redisClusterNodes: { host: string; port: number }[] | null = null;
  const clusterText = read(env, "REDIS_CLUSTER_NODES");
  if (clusterText !== undefined) {
    const nodes = parseClusterNodes(clusterText);
    if (typeof nodes === "string") issues.push({ path: "REDIS_CLUSTER_NODES", message: nodes });
    else redisClusterNodes = nodes;
  }

  const configPath = read(env, "HOOKLINE_CONFIG") ?? ENV_DEFAULTS.HOOKLINE_CONFIG;

  const adminToken = read(env, "HOOKLINE_ADMIN_TOKEN") ?? null;
  if (adminToken !== null && adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    issues.push({
      path: "HOOKLINE_ADMIN_TOKEN",
      message: `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (got ${adminToken.length}); try: openssl rand -hex 32`,
    });
  }

  let port: number | null = null;
  const portText = read(env, "PORT");
  if (portText !== undefined) {
    const value = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
    if (Number.isInteger(value) && value >= 1 && value <= 65535) port = value;
    else issues.push({ path: "PORT", message: `must be an integer from 1 to 65535, got "${portText}"` });
  }

  const queuePrefix = read(env, "HOOKLINE_QUEUE_PREFIX") ?? ENV_DEFAULTS.HOOKLINE_QUEUE_PREFIX;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(queuePrefix)) {
    issues.push({
      path: "HOOKLINE_QUEUE_PREFIX",
      message: `may contain only letters, digits, "-" and "_" (at most 64), got "${queuePrefix}"`,
    });
  }

  const logLevel = (read(env, "LOG_LEVEL") ?? ENV_DEFAULTS.LOG_LEVEL).toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    issues.push({ path: "LOG_LEVEL", message: `must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"` });
  }

  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    env: { databaseUrl, redisUrl, redisClusterNodes, configPath, adminToken, port, queuePrefix, logLevel },
  };
}

/** Applies the settings the environment overrides: PORT replaces server.port. */
export function applyEnvOverrides(config: HooklineConfig, env: HooklineEnv): HooklineConfig {
  if (env.port === null) return config;
  return { ...config, server: { ...config.server, port: env.port } };
}
