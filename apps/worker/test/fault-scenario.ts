// The end-to-end fault scenario behind crash.faults.test.ts (small) and
// faults.faults.test.ts (10,000 events, `pnpm test:faults`): a provider sends signed events
// (with provider duplicates) through a real gateway and worker, run as child processes, to real
// targets, while the worker is SIGKILLed, Redis crashes and restarts from its append-only file,
// Postgres goes away, and a target goes down. Then the books are checked against what the
// targets recorded. With `hosts`, the gateways and workers run as separate hosts (network
// namespaces) against Redis, Postgres and the targets on another, and a gateway's link is cut.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectDatabase, type Database, migrateDatabase } from "@hookline/db";
import {
  type Accepted,
  createHostNetwork,
  eventually,
  freePort,
  type HooklineProcess,
  type HostNetwork,
  type LoadStats,
  loadTestConfig,
  type PrivatePostgres,
  type PrivateRedis,
  type ProviderMessage,
  type RecordingTarget,
  runLoad,
  spawnHookline,
  startPrivatePostgres,
  startPrivateRedis,
  startRecordingTarget,
} from "@hookline/testkit";
import { Redis } from "ioredis";
import { expect } from "vitest";

const SOURCE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SIGNING_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const TARGETS = ["alpha", "beta"] as const;

export interface FaultPlan {
  /** Distinct provider messages. */
  readonly events: number;
  /** Extra sends of already-sent messages (a provider retrying), as a share of `events`. */
  readonly duplicateShare: number;
  /** Messages the provider starts per second. */
  readonly ratePerSecond: number;
  readonly workerKills: number;
  readonly redisRestarts: number;
  /** How long Postgres is down (0: not at all). */
  readonly postgresOutageMs: number;
  /** How long target alpha refuses connections (0: not at all). */
  readonly targetOutageMs: number;
  readonly seed: number;
  /** How long, after the last fault, everything may take to be delivered. */
  readonly drainTimeoutMs: number;
  /** Separate hosts (network namespaces) for this many gateways and workers; absent: one of each, on loopback. */
  readonly hosts?: { readonly gateways: number; readonly workers: number };
  /** Times the first gateway's network link is cut (packets dropped), and for how long. */
  readonly linkCuts?: number;
  readonly linkCutMs?: number;
}

/** The plan, with any FAULT_* environment variable overriding a default. */
export function planFromEnv(defaults: FaultPlan): FaultPlan {
  const read = (name: string, fallback: number) => {
    const raw = process.env[name];
    if (raw === undefined || raw.trim() === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
    return value;
  };
  return {
    events: read("FAULT_EVENTS", defaults.events),
    duplicateShare: read("FAULT_DUPLICATE_SHARE", defaults.duplicateShare),
    ratePerSecond: read("FAULT_RATE", defaults.ratePerSecond),
    workerKills: read("FAULT_WORKER_KILLS", defaults.workerKills),
    redisRestarts: read("FAULT_REDIS_RESTARTS", defaults.redisRestarts),
    postgresOutageMs: read("FAULT_PG_OUTAGE_MS", defaults.postgresOutageMs),
    targetOutageMs: read("FAULT_TARGET_OUTAGE_MS", defaults.targetOutageMs),
    seed: read("FAULT_SEED", defaults.seed || Date.now() % 1_000_000),
    drainTimeoutMs: read("FAULT_DRAIN_TIMEOUT_MS", defaults.drainTimeoutMs),
    ...(defaults.hosts ? { hosts: defaults.hosts } : {}),
    linkCuts: read("FAULT_LINK_CUTS", defaults.linkCuts ?? 0),
    linkCutMs: read("FAULT_LINK_CUT_MS", defaults.linkCutMs ?? 0),
  };
}

export interface FaultReport {
  readonly plan: FaultPlan;
  readonly seconds: number;
  /** Requests answered 202 (provider duplicates included). */
  readonly accepted: number;
  readonly distinctMessages: number;
  readonly duplicateSends: number;
  readonly faults: readonly string[];
  readonly refused: ReadonlyMap<string, number>;
  readonly transportErrors: ReadonlyMap<string, number>;
  /** 202'd event ids in neither `events` nor `event_duplicates`. */
  readonly lostAcceptedIds: number;
  /** What is known of the first lost ids: when each was accepted, its message's other ids, its log lines. */
  readonly lostDetails: readonly string[];
  /** Provider messages that got a 202 but have no row in `events`. */
  readonly lostMessages: number;
  /** Provider messages with more than one row in `events`. */
  readonly duplicateEvents: number;
  /** Deliveries of those events that are not `succeeded`. */
  readonly unfinishedDeliveries: number;
  /** Succeeded deliveries whose target never saw the event. */
  readonly neverReceived: number;
  /** Requests to targets carrying the id of a folded provider duplicate: must be 0. */
  readonly providerDuplicatesForwarded: number;
  /** Requests beyond the first for the same event at the same target (at-least-once re-sends). */
  readonly reSends: number;
  readonly targetRequests: number;
  readonly attemptRows: number;
  /** Requests a target received with no attempt row for them: must be 0. */
  readonly attemptsWithoutRow: number;
  /** Gateway or worker exits nobody asked for. */
  readonly unexpectedExits: number;
  readonly exitNotes: readonly string[];
  /** Log lines carrying a secret or a signature. */
  readonly leakedLogLines: number;
}

/** A small seeded PRNG (mulberry32): a failing run can be replayed with FAULT_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Keeps one `hookline <command>` running, one process at a time: restarted after a kill, and
 * after any exit nobody asked for (counted: the suite requires none).
 */
class Supervised {
  readonly logs: string[] = [];
  unexpectedExits = 0;
  /** What each unexpected exit looked like: its code and its last words. */
  readonly exitNotes: string[] = [];
  #proc: HooklineProcess | null = null;
  #starting: Promise<void> | null = null;
  #stopped = false;
  readonly #killed = new WeakSet<HooklineProcess>();

  constructor(
    readonly command: "gateway" | "worker",
    private readonly env: Record<string, string>,
    private readonly readyMsg: string,
    /** The host it runs on (a network namespace); absent: this one. */
    private readonly netns?: string,
  ) {}

  /** Starts it (or joins a start in progress), retrying while its preflight fails (Postgres or Redis down). */
  start(): Promise<void> {
    this.#starting ??= this.#startLoop().finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  async #startLoop(): Promise<void> {
    while (!this.#stopped) {
      const proc = spawnHookline(this.command, this.env, this.netns ? { netns: this.netns } : {});
      this.#proc = proc;
      try {
        await proc.waitForLine((l) => l.msg === this.readyMsg, 90_000);
      } catch {
        this.logs.push(...proc.lines, ...proc.stderr);
        proc.kill("SIGKILL");
        await proc.exited;
        await sleep(500);
        continue;
      }
      void proc.exited.then((exit) => {
        this.logs.push(...proc.lines, ...proc.stderr);
        if (this.#stopped || this.#killed.has(proc)) return;
        this.unexpectedExits++;
        this.exitNotes.push(
          `${this.command} exited (${exit.code ?? exit.signal}): ${[...proc.lines.slice(-4), ...proc.stderr.slice(-6)].join(" | ").slice(0, 2000)}`,
        );
        void sleep(500).then(() => this.start());
      });
      if (this.#stopped) proc.kill("SIGKILL");
      return;
    }
  }

  /** SIGKILL the running process (once any start in progress is done), restart after `downMs`. */
  async kill(downMs: number, onKill: () => void): Promise<void> {
    await this.#starting;
    const proc = this.#proc;
    if (!proc || this.#stopped) return;
    onKill();
    this.#killed.add(proc);
    proc.kill("SIGKILL");
    await proc.exited;
    await sleep(downMs);
    await this.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const proc = this.#proc;
    if (proc) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    await this.#starting;
  }

  allLogs(): string[] {
    return [...this.logs, ...(this.#proc?.lines ?? [])];
  }
}

export async function runFaultScenario(plan: FaultPlan, say: (line: string) => void): Promise<FaultReport> {
  const rand = random(plan.seed);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "hookline-faults-"));
  let postgres: PrivatePostgres | null = null;
  let redis: PrivateRedis | null = null;
  let network: HostNetwork | null = null;
  const targets: RecordingTarget[] = [];
  const supervised: Supervised[] = [];
  try {
    const counts = plan.hosts ?? { gateways: 1, workers: 1 };
    network = plan.hosts ? createHostNetwork(counts.gateways + counts.workers) : null;
    // With hosts, this process is the host of Redis, Postgres, the targets and the provider.
    const address = network ? { host: network.address, allow: network.cidr } : {};
    postgres = await startPrivatePostgres(address);
    redis = await startPrivateRedis(address);
    const databaseUrl = postgres.urlFor("hookline");
    await migrateDatabase(databaseUrl);
    // Targets take a moment to answer, as real ones do, so a worker killed at a random moment
    // often has requests in flight.
    for (const _ of TARGETS)
      targets.push(
        await startRecordingTarget({ delayMs: 20, ...(network ? { host: network.address } : {}) }),
      );
    const [alpha, beta] = targets as [RecordingTarget, RecordingTarget];
    const port = await freePort();
    const configPath = join(dir, "hookline.yaml");
    // Retries outlast every outage: a delivery may wait, never fail.
    const schedule =
      "[200ms, 500ms, 1s, 2s, 3s, 5s, 5s, 5s, 5s, 5s, 10s, 10s, 10s, 10s, 10s, 10s, 10s, 10s, 10s, 10s]";
    writeFileSync(
      configPath,
      `
server: { port: ${port}, host: ${network ? "0.0.0.0" : "127.0.0.1"}, admin_port: ${await freePort([2])} }
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["${SOURCE_SECRET}"] }
targets:
  - id: alpha
    url: ${alpha.url}/hooks
    connect_timeout: 1s
    timeout: 5s
    concurrency: 10
    retry: { schedule: ${schedule} }
    circuit_breaker: { failure_threshold: 5, cooldown: 1s }
    signing_secret: "${SIGNING_SECRET}"
  - id: beta
    url: ${beta.url}/hooks
    connect_timeout: 1s
    timeout: 5s
    concurrency: 10
    retry: { schedule: ${schedule} }
routes:
  - { source: klariqo, targets: [alpha, beta] }
worker: { lock_duration: 3s, stalled_interval: 1s }
`,
    );
    const env = {
      HOOKLINE_CONFIG: configPath,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      HOOKLINE_QUEUE_PREFIX: "faults",
      // FAULT_LOG_LEVEL=debug logs each event the worker records, for describeLost to find.
      LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? "info",
    };
    const hostOf = (i: number) => network?.hosts[i];
    const gateways = Array.from(
      { length: counts.gateways },
      (_, i) => new Supervised("gateway", env, "gateway listening", hostOf(i)?.netns),
    );
    const workers = Array.from(
      { length: counts.workers },
      (_, i) => new Supervised("worker", env, "worker running", hostOf(counts.gateways + i)?.netns),
    );
    supervised.push(...workers, ...gateways);
    await Promise.all(supervised.map((s) => s.start()));
    const gatewayUrls = gateways.map((_, i) => `http://${hostOf(i)?.address ?? "127.0.0.1"}:${port}`);

    // The provider's messages, plus re-sends of some of them (same id and body, new signature).
    const originals: ProviderMessage[] = Array.from({ length: plan.events }, (_, n) => ({
      id: `msg_${plan.seed}_${n}`,
      eventType: "order.created",
      body: Buffer.from(JSON.stringify({ type: "order.created", data: { n, note: "fault suite" } })),
    }));
    const duplicates = Array.from(
      { length: Math.round(plan.events * plan.duplicateShare) },
      () => originals[Math.floor(rand() * originals.length)] as ProviderMessage,
    );
    const messages = [...originals, ...duplicates];
    for (let i = messages.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [messages[i], messages[j]] = [messages[j] as ProviderMessage, messages[i] as ProviderMessage];
    }
    const source = loadTestConfig(
      `sources:\n  - id: klariqo\n    verify: { scheme: klariqo, secrets: ["${SOURCE_SECRET}"] }\n`,
    ).sources[0];
    if (!source) throw new Error("no source");

    const loadMs = (messages.length / plan.ratePerSecond) * 1000;
    say(
      `faults: ${plan.events} events + ${duplicates.length} provider duplicates at ${plan.ratePerSecond}/s (~${Math.round(loadMs / 1000)} s of load), seed ${plan.seed}` +
        (network ? `; ${counts.gateways} gateways and ${counts.workers} workers, each its own host` : ""),
    );
    // Spread over the gateways as a load balancer would; a retry may land on another one.
    let nextGateway = 0;
    const load = runLoad(messages, {
      baseUrl: () => gatewayUrls[nextGateway++ % gatewayUrls.length] as string,
      source,
      concurrency: 16,
      ratePerSecond: plan.ratePerSecond,
      retryDelayMs: 300,
    });

    // The faults, at random moments while the load runs. The two long outages never overlap
    // (a target outage inside a Postgres outage would test nothing: no delivery runs then), and
    // worker kills fall outside the Postgres outage, where the worker has work in flight.
    const faults: string[] = [];
    const log = (what: string) => {
      const line = `+${((Date.now() - started) / 1000).toFixed(1)}s ${what} [accepted ${load.stats.accepted.length}, delivered ${alpha.hits.length + beta.hits.length}]`;
      faults.push(line);
      say(`  fault ${line}`);
    };
    const within = (from: number, to: number) => loadMs * (from + (to - from) * rand());
    const targetOutageAt = within(0.05, 0.25);
    const postgresOutageAt =
      plan.postgresOutageMs > 0
        ? Math.max(
            within(0.35, 0.45),
            plan.targetOutageMs > 0 ? targetOutageAt + plan.targetOutageMs + 2_000 : 0,
          )
        : Number.POSITIVE_INFINITY;
    const duringPostgresOutage = (t: number) =>
      t >= postgresOutageAt - 2_000 && t <= postgresOutageAt + plan.postgresOutageMs + 2_000;
    const tasks: Promise<void>[] = [];
    for (let k = 0; k < plan.workerKills; k++) {
      let at = within(0.05, 0.95);
      for (let tries = 0; tries < 50 && duringPostgresOutage(at); tries++) at = within(0.05, 0.95);
      const down = 200 + Math.floor(rand() * 1500);
      const which = Math.floor(rand() * workers.length);
      const worker = workers[which] as Supervised;
      const name = workers.length > 1 ? `worker ${which + 1}` : "worker";
      tasks.push(
        sleep(at).then(async () => {
          await worker.kill(down, () => log(`${name} SIGKILL (restart after ${down} ms)`));
        }),
      );
    }
    const cutHost = hostOf(0);
    for (let k = 0; k < (plan.linkCuts ?? 0) && network && cutHost; k++) {
      const net = network;
      const cutMs = plan.linkCutMs ?? 0;
      tasks.push(
        sleep(within(0.2, 0.7)).then(async () => {
          log(`gateway 1's link cut for ${cutMs} ms (${cutHost.address}: packets dropped both ways)`);
          net.cut(cutHost);
          await sleep(cutMs);
          net.restore(cutHost);
          log("gateway 1's link back");
        }),
      );
    }
    // Redis restarts one at a time: a crash while it is already down would inject nothing.
    let redisFaults = Promise.resolve();
    for (let k = 0; k < plan.redisRestarts; k++) {
      const at = within(0.1, 0.9);
      const down = 1000 + Math.floor(rand() * 2000);
      tasks.push(
        sleep(at).then(() => {
          redisFaults = redisFaults.then(async () => {
            log(`redis SIGKILL (restart after ${down} ms, from its append-only file)`);
            await redis?.crash();
            await sleep(down);
            await redis?.start();
            log("redis back");
          });
          return redisFaults;
        }),
      );
    }
    /** When Postgres went down and came back, for the recovery figures. */
    let postgresOutage: { readonly from: number; to: number } | null = null;
    if (plan.postgresOutageMs > 0) {
      tasks.push(
        sleep(postgresOutageAt).then(async () => {
          log(`postgres stopped (immediate) for ${plan.postgresOutageMs} ms`);
          const before = load.stats.accepted.length;
          const outage = { from: Date.now(), to: Number.POSITIVE_INFINITY };
          postgresOutage = outage;
          await postgres?.crash();
          await sleep(plan.postgresOutageMs);
          const during = load.stats.accepted.length - before;
          await postgres?.start();
          outage.to = Date.now();
          log(`postgres back; the gateway accepted ${during} events while it was down`);
        }),
      );
    }
    if (plan.targetOutageMs > 0) {
      tasks.push(
        sleep(targetOutageAt).then(async () => {
          log(`target alpha down for ${plan.targetOutageMs} ms`);
          await alpha.down();
          await sleep(plan.targetOutageMs);
          await alpha.up();
          log("target alpha back");
        }),
      );
    }
    await Promise.all(tasks);
    await load.done();
    say(
      `  load done at +${((Date.now() - started) / 1000).toFixed(1)}s: ${load.stats.accepted.length} accepted`,
    );

    const database = connectDatabase(databaseUrl, { max: 2 });
    try {
      const expected = plan.events * TARGETS.length;
      const drainStarted = Date.now();
      await eventually(
        async () => {
          const r = await database.pool.query<{ n: number }>(
            "select count(*)::int as n from deliveries where status = 'succeeded'",
          );
          return (r.rows[0]?.n ?? 0) >= expected;
        },
        { what: `${expected} succeeded deliveries`, timeoutMs: plan.drainTimeoutMs, intervalMs: 500 },
      ).catch(async (error: unknown) => {
        const r = await database.pool.query<{ status: string; n: number }>(
          "select status, count(*)::int as n from deliveries group by status",
        );
        say(`  not drained: ${JSON.stringify(r.rows)}`);
        throw error;
      });
      // Every message delivered is not every accepted id recorded: a job holding only provider
      // re-sends of messages already delivered (say, one waiting out its backoff after the
      // Postgres outage) may still be on its way. So the books wait for those too, as long as the
      // drain may take; an id still missing then is reported lost below.
      const acceptedIds = load.stats.accepted.map((a) => a.eventId);
      const delivered = Date.now();
      const late = (await unrecorded(database.pool, acceptedIds)).length;
      if (late > 0) say(`  every message delivered; ${late} accepted ids not yet recorded (re-sends)`);
      await eventually(async () => (await unrecorded(database.pool, acceptedIds)).length === 0, {
        what: "every accepted id recorded",
        timeoutMs: Math.max(1_000, plan.drainTimeoutMs - (Date.now() - drainStarted)),
        intervalMs: 500,
      }).then(
        () => late > 0 && say(`  they were recorded ${((Date.now() - delivered) / 1000).toFixed(1)} s later`),
        () => say("  not every accepted id was recorded within the drain timeout"),
      );
      say(`  drained at +${((Date.now() - started) / 1000).toFixed(1)}s`);
      if (postgresOutage) say(`  ${await recoveryAfter(database.pool, postgresOutage)}`);
      const promotions = supervised
        .flatMap((s) => s.allLogs())
        .filter((l) => l.includes("their retries are due now"))
        .map((l) => `+${((((JSON.parse(l) as { time: number }).time ?? 0) - started) / 1000).toFixed(1)}s`);
      say(`  failed jobs made due at once: ${promotions.length === 0 ? "never" : promotions.join(", ")}`);
      const { lost, ...audited } = await audit(database.pool, load.stats, targets, plan);
      const logs = supervised.flatMap((s) => s.allLogs().map((line) => `${s.command}: ${line}`));
      return {
        ...audited,
        lostDetails: await describeLost(
          { pool: database.pool, redisUrl: redis.url },
          lost,
          load.stats,
          started,
          logs,
        ),
        plan,
        seconds: Math.round((Date.now() - started) / 1000),
        duplicateSends: duplicates.length,
        faults,
        refused: load.stats.refused,
        transportErrors: load.stats.errors,
        unexpectedExits: supervised.reduce((n, s) => n + s.unexpectedExits, 0),
        exitNotes: supervised.flatMap((s) => s.exitNotes),
        leakedLogLines: supervised.flatMap((s) => s.allLogs()).filter(leaks).length,
      };
    } finally {
      await database.close();
    }
  } finally {
    for (const s of supervised) await s.stop();
    for (const t of targets) await t.close();
    await redis?.stop();
    await postgres?.stop();
    network?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function leaks(line: string): boolean {
  return (
    line.includes(SOURCE_SECRET) ||
    line.includes(SIGNING_SECRET) ||
    line.includes(SOURCE_SECRET.slice(6)) ||
    line.includes(SIGNING_SECRET.slice(6)) ||
    /v1,[A-Za-z0-9+/]{43}=/.test(line)
  );
}

type Audit = Omit<
  FaultReport,
  | "plan"
  | "seconds"
  | "duplicateSends"
  | "faults"
  | "refused"
  | "transportErrors"
  | "unexpectedExits"
  | "exitNotes"
  | "leakedLogLines"
  | "lostDetails"
> & { readonly lost: readonly Accepted[] };

/**
 * For a failing run, what can be found about its first lost ids: when the gateway accepted each
 * (on the clock of the fault lines), every id its message was accepted under and whether that one
 * was recorded, whether it was set aside, and the log lines that name it.
 */
async function describeLost(
  { pool, redisUrl }: { readonly pool: Database["pool"]; readonly redisUrl: string },
  lost: readonly Accepted[],
  stats: LoadStats,
  started: number,
  logs: readonly string[],
): Promise<string[]> {
  const out: string[] = [];
  if (lost.length === 0) return out;
  // Jobs still in Redis after the drain (failed, delayed or waiting ones), to find a lost id in.
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const jobs: { key: string; fields: Record<string, string> }[] = [];
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: "faults*", count: 1000 }) as AsyncIterable<string[]>)
      for (const key of keys)
        if ((await redis.type(key)) === "hash") jobs.push({ key, fields: await redis.hgetall(key) });
  } catch (error) {
    out.push(`(Redis not read: ${error instanceof Error ? error.message : String(error)})`);
  } finally {
    redis.disconnect();
  }
  const at = (ms: number) => `+${((ms - started) / 1000).toFixed(1)}s`;
  for (const a of lost.slice(0, 5)) {
    out.push(`${a.eventId}: message ${a.messageId}, sent ${at(a.sentAt)}, answered 202 ${at(a.at)}`);
    for (const other of stats.accepted.filter((o) => o.messageId === a.messageId && o !== a)) {
      const stored = await pool.query<{ t: string }>(
        `select 'event' as t from events where id = $1
         union all select 'folded into ' || original_event_id from event_duplicates where id = $1`,
        [other.eventId],
      );
      out.push(
        `    same message also 202 as ${other.eventId} at ${at(other.at)}: ${stored.rows[0]?.t ?? "not recorded"}`,
      );
    }
    const aside = await pool.query<{ id: string; reason: string }>(
      "select id, reason from ingest_failures where $1 = any(event_ids)",
      [a.eventId],
    );
    for (const r of aside.rows) out.push(`    set aside as ${r.id}: ${r.reason}`);
    for (const job of jobs.filter((j) => j.fields.data?.includes(a.eventId))) {
      const { data: _, ...rest } = job.fields;
      out.push(`    still in Redis as ${job.key}: ${JSON.stringify(rest).slice(0, 600)}`);
    }
    const named = logs.filter((l) => l.includes(a.eventId));
    out.push(`    ${named.length} log lines name it${named.length > 0 ? ":" : ""}`);
    for (const l of named.slice(0, 8)) out.push(`      ${l.slice(0, 600)}`);
  }
  return out;
}

/**
 * How long after Postgres came back the events accepted while it was down were all recorded, and
 * the deliveries that were live then all ended: the recovery figures of the report.
 */
async function recoveryAfter(
  pool: Database["pool"],
  outage: { readonly from: number; readonly to: number },
): Promise<string> {
  const r = await pool.query<{ recorded: Date | null; delivered: Date | null }>(
    `select (select max(d.created_at) from deliveries d join events e on e.id = d.event_id
             where e.received_at >= $1 and e.received_at < $2) as recorded,
            (select max(d.updated_at) from deliveries d where d.created_at < $2) as delivered`,
    [new Date(outage.from), new Date(outage.to)],
  );
  const after = (at: Date | null) => (at ? `${((at.getTime() - outage.to) / 1000).toFixed(1)} s` : "-");
  const { recorded, delivered } = r.rows[0] ?? { recorded: null, delivered: null };
  // The delivery that ended last, with its attempts: what held the recovery up.
  const last = await pool.query<{ id: string; created: number; attempts: string | null }>(
    `select d.id, extract(epoch from d.created_at - $1::timestamptz)::float8 as created,
            (select string_agg(a.attempt_number || ' at ' ||
                               round(extract(epoch from a.started_at - $1::timestamptz)::numeric, 1) || ' s: ' ||
                               coalesce(a.status_code::text, a.error, 'open'), '; ' order by a.attempt_number)
             from delivery_attempts a where a.delivery_id = d.id) as attempts
     from deliveries d where d.created_at < $1 order by d.updated_at desc limit 1`,
    [new Date(outage.to)],
  );
  const l = last.rows[0];
  const detail = l
    ? `; the last, ${l.id}, created at ${l.created.toFixed(1)} s, attempts (s from Postgres's return): ${l.attempts ?? "none"}`
    : "";
  return `after Postgres was back: events accepted while it was down all recorded within ${after(recorded)}; deliveries created before it was back all ended within ${after(delivered)}${detail}`;
}

/** Those of these event ids that are neither in `events` nor folded into `event_duplicates`. */
async function unrecorded(pool: Database["pool"], ids: readonly string[]): Promise<string[]> {
  const r = await pool.query<{ id: string }>(
    `select a.id from unnest($1::text[]) as a(id)
     where not exists (select 1 from events e where e.id = a.id)
       and not exists (select 1 from event_duplicates d where d.id = a.id)`,
    [ids],
  );
  return r.rows.map((row) => row.id);
}

/** Checks the tables against what the provider was told and what the targets received. */
async function audit(
  pool: Database["pool"],
  stats: LoadStats,
  targets: readonly RecordingTarget[],
  plan: FaultPlan,
): Promise<Audit> {
  const events = await pool.query<{ id: string; provider_id: string }>(
    "select id, provider_id from events where source_id = 'klariqo'",
  );
  const eventIds = new Set(events.rows.map((r) => r.id));
  const rowsPerMessage = new Map<string, number>();
  for (const r of events.rows)
    rowsPerMessage.set(r.provider_id, (rowsPerMessage.get(r.provider_id) ?? 0) + 1);

  const acceptedMessages = new Set(stats.accepted.map((a) => a.messageId));
  const unrecordedIds = new Set(
    await unrecorded(
      pool,
      stats.accepted.map((a) => a.eventId),
    ),
  );
  const lost = stats.accepted.filter((a) => unrecordedIds.has(a.eventId));
  const lostMessages = [...acceptedMessages].filter((m) => !rowsPerMessage.has(m)).length;
  const duplicateEvents = [...rowsPerMessage.values()].filter((n) => n > 1).length;

  const deliveries = await pool.query<{ event_id: string; target_id: string; status: string }>(
    "select event_id, target_id, status from deliveries",
  );
  const unfinishedDeliveries = deliveries.rows.filter((d) => d.status !== "succeeded").length;
  const attempts = await pool.query<{ event_id: string; target_id: string; attempt_number: number }>(
    `select d.event_id, d.target_id, a.attempt_number
     from delivery_attempts a join deliveries d on d.id = a.delivery_id`,
  );
  const attemptKeys = new Set(attempts.rows.map((a) => `${a.target_id}|${a.event_id}|${a.attempt_number}`));

  let neverReceived = 0;
  let providerDuplicatesForwarded = 0;
  let reSends = 0;
  let targetRequests = 0;
  let attemptsWithoutRow = 0;
  targets.forEach((target, i) => {
    const targetId = TARGETS[i] as string;
    for (const d of deliveries.rows) {
      if (d.target_id === targetId && d.status === "succeeded" && !target.counts.has(d.event_id))
        neverReceived++;
    }
    for (const [webhookId, n] of target.counts) {
      if (!eventIds.has(webhookId)) providerDuplicatesForwarded += n;
      reSends += n - 1;
    }
    targetRequests += target.hits.length;
    for (const hit of target.hits) {
      if (!attemptKeys.has(`${targetId}|${hit.webhookId}|${hit.attempt}`)) attemptsWithoutRow++;
    }
  });
  return {
    accepted: stats.accepted.length,
    distinctMessages: plan.events,
    lostAcceptedIds: lost.length,
    lost,
    lostMessages: lostMessages + (plan.events - acceptedMessages.size),
    duplicateEvents,
    unfinishedDeliveries:
      unfinishedDeliveries + Math.max(0, plan.events * TARGETS.length - deliveries.rows.length),
    neverReceived,
    providerDuplicatesForwarded,
    reSends,
    targetRequests,
    attemptRows: attempts.rows.length,
    attemptsWithoutRow,
  };
}

/**
 * What both fault tests require of a run, whatever its size: no accepted event lost, no provider
 * duplicate forwarded or recorded twice, every delivery finished and received, every request a
 * target saw logged as an attempt, no unexpected exit, no secret in the logs, and every planned
 * fault injected.
 */
export function expectFullRecovery(report: FaultReport, plan: FaultPlan): void {
  expect(report.lostAcceptedIds).toBe(0);
  expect(report.lostMessages).toBe(0);
  expect(report.duplicateEvents).toBe(0);
  expect(report.providerDuplicatesForwarded).toBe(0);
  expect(report.unfinishedDeliveries).toBe(0);
  expect(report.neverReceived).toBe(0);
  expect(report.attemptsWithoutRow).toBe(0);
  expect(report.unexpectedExits).toBe(0);
  expect(report.leakedLogLines).toBe(0);
  expect(report.faults.length).toBe(
    plan.workerKills +
      2 * plan.redisRestarts +
      (plan.postgresOutageMs > 0 ? 2 : 0) +
      (plan.targetOutageMs > 0 ? 2 : 0) +
      2 * (plan.linkCuts ?? 0),
  );
}

/** The figures, one per line, for the test output. */
export function formatReport(r: FaultReport): string {
  const map = (m: ReadonlyMap<string, number>) =>
    m.size === 0
      ? "none"
      : [...m]
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ×${v}`)
          .join(", ");
  return [
    "──── fault suite figures ────",
    `events (distinct provider messages)     ${r.distinctMessages}`,
    `requests answered 202                   ${r.accepted} (incl. ${r.duplicateSends} provider duplicates sent)`,
    `faults injected                         ${r.faults.length}`,
    ...r.faults.map((f) => `    ${f}`),
    `provider saw (then retried)             refused: ${map(r.refused)}; errors: ${map(r.transportErrors)}`,
    `lost: 202'd ids not recorded            ${r.lostAcceptedIds}`,
    ...r.lostDetails.map((d) => `    ${d}`),
    `lost: messages with no event            ${r.lostMessages}`,
    `duplicated: provider dups forwarded     ${r.providerDuplicatesForwarded}`,
    `duplicated: events recorded twice       ${r.duplicateEvents}`,
    `re-sends of the same webhook-id         ${r.reSends} (at-least-once; see docs/guarantees.md)`,
    `deliveries not succeeded                ${r.unfinishedDeliveries}`,
    `succeeded but never received            ${r.neverReceived}`,
    `target requests / attempt rows          ${r.targetRequests} / ${r.attemptRows}`,
    `requests without an attempt row         ${r.attemptsWithoutRow}`,
    `unexpected process exits                ${r.unexpectedExits}`,
    ...r.exitNotes.map((n) => `    ${n}`),
    `log lines with a secret or signature    ${r.leakedLogLines}`,
    `seed ${r.plan.seed}; ${r.seconds} s`,
  ].join("\n");
}
