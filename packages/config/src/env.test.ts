import { describe, expect, it } from "vitest";
import { applyEnvOverrides, loadConfigText, parseEnv } from "./index.js";

function parsed(env: Record<string, string | undefined>) {
  const result = parseEnv(env);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.env;
}

function problems(env: Record<string, string | undefined>): string[] {
  const result = parseEnv(env);
  return result.ok ? [] : result.issues.map((issue) => issue.path);
}

describe("parseEnv", () => {
  it("applies the documented defaults", () => {
    expect(parsed({})).toEqual({
      databaseUrl: "postgres://postgres@127.0.0.1:5432/hookline",
      redisUrl: "redis://127.0.0.1:6379",
      redisClusterNodes: null,
      configPath: "./hookline.yaml",
      adminToken: null,
      port: null,
      queuePrefix: "hookline",
      logLevel: "info",
    });
  });

  it("treats empty values as unset", () => {
    expect(parsed({ HOOKLINE_ADMIN_TOKEN: "", PORT: "", DATABASE_URL: "", LOG_LEVEL: "" })).toEqual(
      parsed({}),
    );
  });

  it("reads every variable", () => {
    expect(
      parsed({
        DATABASE_URL: "postgresql://u:p@db:5432/x",
        REDIS_URL: "rediss://cache:6380/2",
        HOOKLINE_CONFIG: "/etc/hookline.yaml",
        HOOKLINE_ADMIN_TOKEN: "0123456789abcdef",
        PORT: "3000",
        HOOKLINE_QUEUE_PREFIX: "hl_test-1",
        LOG_LEVEL: "debug",
      }),
    ).toEqual({
      databaseUrl: "postgresql://u:p@db:5432/x",
      redisUrl: "rediss://cache:6380/2",
      redisClusterNodes: null,
      configPath: "/etc/hookline.yaml",
      adminToken: "0123456789abcdef",
      port: 3000,
      queuePrefix: "hl_test-1",
      logLevel: "debug",
    });
  });

  it("reads a cluster's nodes from REDIS_CLUSTER_NODES", () => {
    expect(
      parsed({ REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-b:7001,[::1]:7002" }).redisClusterNodes,
    ).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "redis-b", port: 7001 },
      { host: "::1", port: 7002 },
    ]);
    for (const bad of ["10.0.0.1", "a:0", "a:70000", "a:1,,b:2", "redis://a:1"])
      expect(problems({ REDIS_CLUSTER_NODES: bad })).toEqual(["REDIS_CLUSTER_NODES"]);
  });

  it("reports every bad variable", () => {
    expect(
      problems({
        DATABASE_URL: "mysql://x",
        REDIS_URL: "not a url",
        HOOKLINE_ADMIN_TOKEN: "short",
        PORT: "70000",
        HOOKLINE_QUEUE_PREFIX: "{hookline}:x",
        LOG_LEVEL: "verbose",
      }),
    ).toEqual([
      "DATABASE_URL",
      "REDIS_URL",
      "HOOKLINE_ADMIN_TOKEN",
      "PORT",
      "HOOKLINE_QUEUE_PREFIX",
      "LOG_LEVEL",
    ]);
    expect(problems({ PORT: "0" })).toEqual(["PORT"]);
    expect(problems({ PORT: "80a" })).toEqual(["PORT"]);
    expect(problems({ HOOKLINE_QUEUE_PREFIX: "a:b" })).toEqual(["HOOKLINE_QUEUE_PREFIX"]);
  });

  it("never echoes the admin token", () => {
    const result = parseEnv({ HOOKLINE_ADMIN_TOKEN: "tooshort" });
    expect(JSON.stringify(result)).not.toContain("tooshort");
  });
});

describe("applyEnvOverrides", () => {
  const loaded = loadConfigText("server: { port: 8080 }\n", {});
  if (!loaded.ok) throw new Error("fixture must load");

  it("PORT overrides server.port", () => {
    const config = applyEnvOverrides(loaded.config, parsed({ PORT: "9999" }));
    expect(config.server.port).toBe(9999);
    expect(config.server.adminPort).toBe(8081);
    expect(loaded.config.server.port).toBe(8080);
  });

  it("leaves the config alone without PORT", () => {
    expect(applyEnvOverrides(loaded.config, parsed({}))).toBe(loaded.config);
  });
});
