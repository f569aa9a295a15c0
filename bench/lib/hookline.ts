// Hookline's own processes, started the way a user starts them: the CLI (`hookline gateway`,
// `hookline worker`) with HOOKLINE_CONFIG, DATABASE_URL, REDIS_URL and HOOKLINE_QUEUE_PREFIX.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchInfra } from "./infra";
import { CLAUSUM_SECRET } from "./payload";
import { type Child, ROOT, spawnNode, waitHealthy } from "./proc";

export interface BenchConfigOptions {
  readonly port: number;
  readonly adminPort: number;
  readonly sinkUrl: string;
  /** `server.workers`. */
  readonly gatewayWorkers: number | "auto";
  /** `server.ingest_thread`; the config's default when absent. */
  readonly ingestThread?: boolean;
  /** A JSON pointer: the route keeps each key's events in order (routes[].ordering_key). */
  readonly orderingKey?: string;
  /** The route's `filter`, as YAML flow text. */
  readonly filter?: string;
}

/** A filter every bench event passes (so the same events are delivered), of a typical shape. */
export const BENCH_FILTER =
  '{ body: { event: { $startsWith: "fraud." }, data: { amount: { value: { $gte: 100 }, currency: { $in: [EUR, USD] } } } } }';

/**
 * The bench's hookline.yaml. The signature tolerance is 24h because the ingest phase sends
 * one pre-signed request for the whole run; everything else is a default except the target's
 * concurrency, which a user sizes for a fast internal service.
 */
export function benchConfig(o: BenchConfigOptions): string {
  return `server:
  port: ${o.port}
  admin_port: ${o.adminPort}
  body_limit: 1mb
  workers: ${o.gatewayWorkers}${o.ingestThread === undefined ? "" : `\n  ingest_thread: ${o.ingestThread}`}
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"], tolerance: 24h }
targets:
  - id: bench-sink
    url: ${o.sinkUrl}
    timeout: 10s
    concurrency: 64
routes:
  - { source: clausum, targets: [bench-sink]${o.orderingKey ? `, ordering_key: "${o.orderingKey}"` : ""}${o.filter ? `, filter: ${o.filter}` : ""} }
`;
}

export interface HooklineProcesses {
  readonly gateway: Child | null;
  readonly worker: Child | null;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly infra: BenchInfra;
  readonly config: string;
  readonly port: number;
  readonly gateway: boolean;
  readonly worker: boolean;
  /** Directory for `--cpu-prof` output, or null for no profiling. */
  readonly profileDir: string | null;
}

export async function startHookline(o: StartOptions): Promise<HooklineProcesses> {
  const dir = mkdtempSync(join(tmpdir(), "hookline-bench-"));
  const configPath = join(dir, "hookline.yaml");
  writeFileSync(configPath, o.config);
  const env = {
    HOOKLINE_CONFIG: configPath,
    DATABASE_URL: o.infra.databaseUrl,
    REDIS_URL: o.infra.redisUrl,
    HOOKLINE_QUEUE_PREFIX: o.infra.queuePrefix,
    LOG_LEVEL: "info",
  };
  const flags = (name: string) => {
    const preload = ["--import", join(ROOT, "bench/lib/preload-exit.mjs")];
    if (!o.profileDir) return preload;
    const out = join(o.profileDir, name);
    mkdirSync(out, { recursive: true });
    return ["--cpu-prof", `--cpu-prof-dir=${out}`, ...preload];
  };
  // The compiled CLI, as `pnpm start` runs it (ensureBuilt() made it current). A profiled run
  // takes the sources under tsx instead: the same code once transformed, but its CPU profile
  // names each package and file, where the bundle's would name chunk-XXXX.mjs.
  const typescript = o.profileDir !== null;
  const cli = join(ROOT, typescript ? "apps/cli/src/main.ts" : "dist/hookline.mjs");
  const worker = o.worker
    ? spawnNode("worker", { args: [cli, "worker"], env, nodeFlags: flags("worker"), typescript })
    : null;
  const gateway = o.gateway
    ? spawnNode("gateway", { args: [cli, "gateway"], env, nodeFlags: flags("gateway"), typescript })
    : null;
  const stop = async () => {
    await Promise.all([gateway?.stop(60_000), worker?.stop(60_000)]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (gateway) await waitHealthy(gateway, `http://127.0.0.1:${o.port}/healthz`);
    if (worker) await waitForLine(worker, "worker running");
  } catch (error) {
    await stop();
    throw error;
  }
  return { gateway, worker, stop };
}

async function waitForLine(child: Child, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!child.output().includes(text)) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited:\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`${child.name} did not start:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Brings dist/ up to date (`node scripts/build.mjs --if-stale`): the measured processes run
 * the compiled build, as `pnpm start` and the image do.
 */
export async function ensureBuilt(): Promise<void> {
  const child = spawnNode("build", {
    args: [join(ROOT, "scripts/build.mjs"), "--if-stale"],
    typescript: false,
  });
  const code = await new Promise<number | null>((done) => child.proc.once("exit", (c) => done(c)));
  if (code !== 0) throw new Error(`scripts/build.mjs failed:\n${child.output()}`);
}
