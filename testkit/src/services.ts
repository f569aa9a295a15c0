// Private Redis and Postgres servers for fault tests: the shared ones on 6379/5432 serve every
// other test file in parallel, so a test that crashes or stops its services needs its own.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { eventually } from "./wait";

/** Cleanups that must run even when a test process exits without its afterAll (synchronous only). */
const atExit = new Set<() => void>();
process.once("exit", () => {
  for (const cleanup of atExit) {
    try {
      cleanup();
    } catch {
      // best effort
    }
  }
});

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port nothing listens on, for a server a child process binds later; `alsoFree` offsets
 * must be free too (the worker's metrics listen on admin_port + 2). Chosen below the kernel's
 * ephemeral range (32768 and up), so no outgoing connection takes it in the meantime.
 */
export async function freePort(alsoFree: readonly number[] = []): Promise<number> {
  for (let tries = 0; tries < 500; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!(await canBind(port))) continue;
    if ((await Promise.all(alsoFree.map((offset) => canBind(port + offset)))).every(Boolean)) return port;
  }
  throw new Error("no free port between 20000 and 32000");
}

/** Where a private server listens besides loopback, and who may connect (another host's view). */
export interface ServerAddress {
  /** An address of this machine (default 127.0.0.1); the server listens there and on loopback. */
  readonly host?: string;
  /** Postgres: the network (CIDR) allowed to connect, trusted like loopback. */
  readonly allow?: string;
}

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: a crash. Acknowledged writes survive in the append-only file. */
  crash(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of our own in the foreground, quiet, its files in `dir`; `args` add the rest. */
function spawnRedisServer(port: number, dir: string, args: readonly string[]): ChildProcess {
  return spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--dir",
      dir,
      "--save",
      "",
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
      ...args,
    ],
    { stdio: "ignore" },
  );
}

/** One connection that fails at once instead of retrying; the caller disconnects it. */
async function connectOnce(port: number, host = "127.0.0.1"): Promise<Redis> {
  const probe = new Redis(port, host, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return probe;
  } catch (error) {
    probe.disconnect();
    throw error;
  }
}

/** Waits until the redis-server on `port` answers PING. */
async function waitForPong(port: number, host: string, what: string): Promise<void> {
  await eventually(
    async () => {
      const probe = await connectOnce(port, host);
      try {
        return (await probe.ping()) === "PONG";
      } finally {
        probe.disconnect();
      }
    },
    { timeoutMs: 20_000, intervalMs: 50, what },
  );
}

/**
 * A redis-server of our own with the append-only file fsynced on every write, as production
 * should run it (`--appendonly yes --appendfsync always`).
 */
export async function startPrivateRedis(options: ServerAddress = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hookline-redis-"));
  const host = options.host ?? "127.0.0.1";
  const url = `redis://${host}:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return; // already running
    const proc = spawnRedisServer(port, dir, [
      "--bind",
      ...new Set(["127.0.0.1", host]),
      // Reached from other hosts (network namespaces) without a password: a test network.
      "--protected-mode",
      "no",
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
    ]);
    child = proc;
    await waitForPong(port, host, `redis on ${port}`);
  };
  const kill = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGKILL");
    await exited;
  };
  const onExit = () => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  atExit.add(onExit);
  await start();
  return {
    url,
    port,
    crash: kill,
    start,
    stop: async () => {
      atExit.delete(onExit);
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivatePostgres {
  readonly port: number;
  /** A URL for `database` on this server. */
  urlFor(database: string): string;
  /** `pg_ctl stop -m immediate`: connections drop at once, as in a crash. */
  crash(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function postgresBin(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) return fromEnv;
  try {
    return execFileSync("pg_config", ["--bindir"]).toString().trim();
  } catch {
    const root = "/usr/lib/postgresql";
    const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
    const [newest] = versions;
    if (!newest) throw new Error("no PostgreSQL binaries found (set PG_BIN)");
    return join(root, newest, "bin");
  }
}

/**
 * A throwaway PostgreSQL cluster (initdb in a temporary directory) on its own port. As root the
 * server runs as the `postgres` user, which PostgreSQL insists on.
 */
export async function startPrivatePostgres(options: ServerAddress = {}): Promise<PrivatePostgres> {
  const host = options.host ?? "127.0.0.1";
  const bin = postgresBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hookline-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: readonly string[]) => {
    const [cmd, argv] = asRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, tool), ...args]]
      : [join(bin, tool), [...args]];
    execFileSync(cmd, argv, { stdio: "pipe" });
  };
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8", "--locale=C"]);
  if (options.allow) appendFileSync(join(data, "pg_hba.conf"), `host all all ${options.allow} trust\n`);
  const listen = [...new Set(["127.0.0.1", host])].join(",");
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=${listen} -c max_connections=200`;
  const start = async () => {
    run("pg_ctl", ["-D", data, "-o", serverOptions, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
  };
  const stopWith = async (mode: "immediate" | "fast") => {
    try {
      run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
    } catch {
      // already stopped
    }
  };
  const onExit = () => {
    run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "60", "stop"]);
    rmSync(dir, { recursive: true, force: true });
  };
  atExit.add(onExit);
  await start();
  const urlFor = (database: string) => `postgres://postgres@${host}:${port}/${database}`;
  const admin = new pg.Client({ connectionString: urlFor("postgres") });
  await admin.connect();
  await admin.end();
  return {
    port,
    urlFor,
    crash: () => stopWith("immediate"),
    start,
    stop: async () => {
      atExit.delete(onExit);
      await stopWith("immediate");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedisCluster {
  /** The masters, as REDIS_CLUSTER_NODES lists them. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** `host:port,host:port,...` for REDIS_CLUSTER_NODES. */
  readonly env: string;
  /** Each master's port and its number of keys (DBSIZE). */
  keysPerMaster(): Promise<Map<number, number>>;
  /** Each master's keys that match `pattern` (SCAN on that master alone). */
  scanMaster(port: number, pattern: string): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `masters` masters and no replicas, each a `redis-server --cluster-enabled
 * yes` of our own on a free port (its cluster bus on port + 10000), slots spread by
 * `redis-cli --cluster create`. Stopped and removed at stop() or, failing that, at exit.
 */
export async function startPrivateRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "hookline-redis-cluster-"));
  const children: ChildProcess[] = [];
  const onExit = () => {
    for (const child of children) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  atExit.add(onExit);
  const ports: number[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      let port = await freePort([10_000]);
      while (ports.includes(port)) port = await freePort([10_000]);
      ports.push(port);
      children.push(
        spawnRedisServer(port, dir, [
          "--bind",
          "127.0.0.1",
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
          "--cluster-node-timeout",
          "5000",
          "--appendonly",
          "no",
        ]),
      );
    }
    const onNode = async <T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> => {
      const redis = await connectOnce(port);
      try {
        return await fn(redis);
      } finally {
        redis.disconnect();
      }
    };
    for (const port of ports) await waitForPong(port, "127.0.0.1", `redis (cluster node) on ${port}`);
    execFileSync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { stdio: "pipe", timeout: 60_000 },
    );
    // Every node must agree the cluster is up, with every slot served, before a client starts.
    await eventually(
      async () => {
        for (const port of ports) {
          const info = await onNode(port, (r) => r.call("CLUSTER", "INFO"));
          if (typeof info !== "string" || !info.includes("cluster_state:ok")) return false;
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "cluster_state:ok on every node" },
    );
    const nodes = ports.map((port) => ({ host: "127.0.0.1", port }));
    return {
      nodes,
      env: nodes.map((n) => `${n.host}:${n.port}`).join(","),
      keysPerMaster: async () =>
        new Map(await Promise.all(ports.map(async (p) => [p, await onNode(p, (r) => r.dbsize())] as const))),
      scanMaster: (port, pattern) =>
        onNode(port, async (r) => {
          const found: string[] = [];
          let cursor = "0";
          do {
            const [next, keys] = await r.scan(cursor, "MATCH", pattern, "COUNT", 1000);
            cursor = next;
            found.push(...keys);
          } while (cursor !== "0");
          return found;
        }),
      stop: async () => {
        atExit.delete(onExit);
        await Promise.all(
          children.map(
            (child) =>
              new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGKILL");
              }),
          ),
        );
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    atExit.delete(onExit);
    onExit();
    throw error;
  }
}
