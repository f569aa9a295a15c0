// Every knob of `pnpm bench`, read once from the environment. Defaults are the issue's
// (50 connections, 60 s end to end, 1,000,000 events for the growth phase) and keep the
// whole default run within about twenty minutes on a 2-core machine.
import { execFileSync } from "node:child_process";

export type Phase = "ingest" | "drain" | "e2e" | "ordered" | "filtered" | "growth" | "partition";
const PHASES: readonly Phase[] = ["ingest", "drain", "e2e", "ordered", "filtered", "growth", "partition"];
export type LoadGenerator = "autocannon" | "wrk";
export type GatewayWorkers = number | "auto";

function workers(text: string, name: string): GatewayWorkers {
  const t = text.trim();
  if (t === "auto") return "auto";
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: "${t}" is not auto or a count >= 1`);
  return n;
}

export interface BenchSettings {
  readonly phases: ReadonlySet<Phase>;
  /** Measured seconds per server and round in the ingest phase (after the warm-up). */
  readonly ingestSeconds: number;
  /** Rounds of the ingest phase; each server's median round is reported. */
  readonly ingestRounds: number;
  /** BENCH_INGEST_THREAD=true|false: `server.ingest_thread` of every phase; unset, the default. */
  readonly ingestThread: boolean | undefined;
  readonly warmupSeconds: number;
  /** Measured seconds of each end-to-end run (empty tables, then grown tables). */
  readonly e2eSeconds: number;
  /** Seconds of each step of the rate search that picks the end-to-end rate. */
  readonly e2eStepSeconds: number;
  /** A fixed end-to-end rate (events/s offered); null = search for the highest sustained rate. */
  readonly e2eRate: number | null;
  readonly connections: number;
  readonly growthEvents: number;
  /** Events in the one day the partition phase deletes, batched and by partition. */
  readonly partitionEvents: number;
  /** Events queued before the consumer starts, in the drain phase. */
  readonly drainEvents: number;
  readonly loadGenerator: LoadGenerator;
  /** Run gateway and worker under `node --cpu-prof` and summarise the profiles. */
  readonly profile: boolean;
  /**
   * `server.workers` of each Hookline gateway measured in the ingest phase; the last one is
   * the headline figure. Default: 1 (the config default) and auto (one process per core).
   */
  readonly ingestGatewayWorkers: readonly GatewayWorkers[];
  /** `server.workers` in the end-to-end phases. */
  readonly e2eGatewayWorkers: GatewayWorkers;
  readonly adminDatabaseUrl: string;
  readonly redisUrl: string;
  /** Leave the server's autovacuum as it is, even off (default: on for the run, see infra.ts). */
  readonly autovacuumAsIs: boolean;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function onPath(binary: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const seconds = int(env, "BENCH_SECONDS", 0);
  const phaseList = (env.BENCH_PHASES ?? "ingest,drain,e2e,ordered,filtered,growth,partition")
    .split(",")
    .map((p) => p.trim());
  const phases = new Set<Phase>();
  for (const p of phaseList) {
    if (PHASES.includes(p as Phase)) phases.add(p as Phase);
    else if (p !== "") throw new Error(`BENCH_PHASES: unknown phase "${p}" (${PHASES.join(", ")})`);
  }
  const requested = env.BENCH_LOADGEN?.trim();
  if (requested && requested !== "autocannon" && requested !== "wrk") {
    throw new Error(`BENCH_LOADGEN must be autocannon or wrk, got "${requested}"`);
  }
  const loadGenerator: LoadGenerator =
    requested === "autocannon" || requested === "wrk" ? requested : onPath("wrk") ? "wrk" : "autocannon";
  const rate = int(env, "BENCH_E2E_RATE", 0);
  const thread = env.BENCH_INGEST_THREAD?.trim();
  if (thread && thread !== "true" && thread !== "false")
    throw new Error(`BENCH_INGEST_THREAD must be true or false, got "${thread}"`);
  return {
    phases,
    ingestSeconds: int(env, "BENCH_INGEST_SECONDS", seconds > 0 ? Math.min(seconds, 10) : 10, 1),
    ingestRounds: int(env, "BENCH_INGEST_ROUNDS", 3, 1),
    ingestThread: thread ? thread === "true" : undefined,
    warmupSeconds: int(env, "BENCH_WARMUP_SECONDS", 5),
    e2eSeconds: int(env, "BENCH_E2E_SECONDS", seconds > 0 ? seconds : 60, 1),
    e2eStepSeconds: int(env, "BENCH_E2E_STEP_SECONDS", 8, 2),
    e2eRate: rate > 0 ? rate : null,
    connections: int(env, "BENCH_CONNECTIONS", 50, 1),
    growthEvents: int(env, "BENCH_GROWTH_EVENTS", 1_000_000, 0),
    partitionEvents: int(env, "BENCH_PARTITION_EVENTS", 1_000_000, 1),
    drainEvents: int(env, "BENCH_DRAIN_EVENTS", 20_000, 1),
    loadGenerator,
    profile: env.BENCH_PROFILE === "1" || env.BENCH_PROFILE === "true",
    ingestGatewayWorkers: (env.BENCH_GATEWAY_WORKERS?.trim() || "1,auto")
      .split(",")
      .map((w) => workers(w, "BENCH_GATEWAY_WORKERS")),
    e2eGatewayWorkers: workers(env.BENCH_E2E_GATEWAY_WORKERS?.trim() || "1", "BENCH_E2E_GATEWAY_WORKERS"),
    adminDatabaseUrl: env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    redisUrl: env.REDIS_URL ?? "redis://127.0.0.1:6379",
    autovacuumAsIs: env.BENCH_AUTOVACUUM === "as-is",
  };
}
