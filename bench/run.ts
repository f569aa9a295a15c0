// `pnpm bench`: ingest against a bare node:http ceiling and a hand-written naive handler, then
// end to end (gateway, worker, sink) on empty tables and again with 1,000,000 events in them.
// Prints a markdown table and writes bench/results.json. Knobs: bench/README.md.
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { bullPrefix, INGEST_QUEUE } from "@hookline/queue";
import { Redis } from "ioredis";
import pg from "pg";
import { measureDrain } from "./lib/drain";
import {
  DISTURBED_CORES,
  describeE2e,
  type E2eContext,
  type E2eResult,
  keptUp,
  measureE2e,
  measureE2eUndisturbed,
  SinkControl,
  searchRate,
  sustainedRun,
} from "./lib/e2e";
import { BENCH_FILTER, benchConfig, ensureBuilt, startHookline } from "./lib/hookline";
import { autovacuumOn, type BenchInfra, createInfra } from "./lib/infra";
import { type IngestLoadResult, runIngestLoad } from "./lib/ingest-load";
import { measureOverview } from "./lib/overview";
import { measureDayDrop } from "./lib/partition-drop";
import { CLAUSUM_SECRET, fixedRequest, ORDERING_KEYS, ORDERING_POINTER, PAYLOAD_BYTES } from "./lib/payload";
import {
  type Child,
  cpuMeter,
  cpuSeconds,
  cpuSecondsByName,
  firstMessage,
  freePort,
  peakRssMb,
  postgresFor,
  ROOT,
  spawnNode,
  waitForQuiet,
} from "./lib/proc";
import { profileMarkdown, summariseProfiles } from "./lib/profile";
import { emptyGrowth, seedGrowth } from "./lib/seed";
import { type GatewayWorkers, type Phase, readSettings } from "./lib/settings";

const TARGETS = {
  ratioVsNaive: 1.5,
  ratioVsBare: 0.4,
  ingestP99Ms: 25,
  e2eEventsPerS: 2000,
  drainRatioVsNaive: 2.5,
  drainCpuMsPerEvent: 0.6,
  e2eP99Ms: 250,
  growthRatio: 0.9,
  orderedRatio: 0.8,
  filteredRatio: 0.95,
  gatewayRssMb: 200,
  partitionDropRatio: 5,
  overviewMs: 50,
} as const;

interface IngestEntry extends IngestLoadResult {
  /** CPU seconds the server's processes used per 1,000 answered requests. */
  readonly cpuMsPerKReq: number;
  /** Cores the in-process load generator used (autocannon only). */
  readonly loadCpuShare: number | null;
  readonly cores: Record<string, number>;
  /** Busy cores on the machine in the second before the run (other programs). */
  readonly machineBusyBefore: number;
}

const settings = readSettings();
const log = (line: string) => process.stdout.write(`${line}\n`);
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const BENCH_DIR = join(ROOT, "bench");
const PROFILE_DIR = join(BENCH_DIR, "profiles");

async function serviceVersions(
  databaseUrl: string,
  redisUrl: string,
): Promise<{ postgres: string; redis: string }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const pgVersion =
    (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? "?";
  await client.end();
  const redis = new Redis(redisUrl);
  const info = await redis.info("server");
  redis.disconnect();
  return { postgres: pgVersion, redis: info.match(/redis_version:(\S+)/)?.[1] ?? "?" };
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  log(
    `# Hookline bench: ${cores} cores, ${round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load: ${settings.loadGenerator}`,
  );
  const infra = await createInfra(settings.adminDatabaseUrl, settings.redisUrl);
  const autovacuum = await autovacuumOn(settings.adminDatabaseUrl, settings.autovacuumAsIs);
  if (autovacuum.found !== "on")
    log(
      autovacuum.changed
        ? `Postgres autovacuum: ${autovacuum.found} on the server; on for this run, reset after`
        : `Postgres autovacuum: ${autovacuum.found}${settings.autovacuumAsIs ? " (BENCH_AUTOVACUUM=as-is)" : ""}`,
    );
  const children: Child[] = [];
  let stopping = false;
  const cleanup = async () => {
    await autovacuum.restore().catch((e: unknown) => log(`could not reset autovacuum: ${String(e)}`));
    await Promise.all(children.map((c) => c.stop(5_000).catch(() => {})));
    await infra.clearRedis(`{${infra.queuePrefix}}`).catch(() => 0);
    await infra.clearRedis(`${infra.queuePrefix}-naive`).catch(() => 0);
    await infra.drop().catch((e: unknown) => log(`could not drop ${infra.databaseUrl}: ${String(e)}`));
  };
  // Ctrl-C, and a SIGTERM (`timeout`, `kill`, a CI job's end): both leave the server's
  // autovacuum, the bench database and its Redis keys as they were before the run. Listened to
  // for good, not once: a second signal (tsx passes its own on) must not cut the cleanup short.
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: cleaning up`);
      // Dropping the database ends the connections the interrupted phase still holds, and their
      // clients report it as an error nobody listens to: expected now, not a crash.
      process.on("uncaughtException", (error) => log(`while cleaning up: ${error.message}`));
      void cleanup().then(() => process.exit(code));
    });

  const services = await serviceVersions(infra.databaseUrl, infra.redisUrl);
  await ensureBuilt();
  const databaseName = new URL(infra.databaseUrl).pathname.slice(1);
  const machine = {
    cores,
    cpu: cpus()[0]?.model ?? "?",
    memory_gb: round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${type()} ${release()}`,
    postgres: services.postgres,
    redis: services.redis,
    load_generator: settings.loadGenerator,
    autovacuum: autovacuum.changed ? `${autovacuum.found}; on for the run` : autovacuum.found,
  };
  const results: Record<string, unknown> = {
    machine,
    settings: { ...settings, phases: [...settings.phases] },
  };

  try {
    // ---------------------------------------------------------------- 1. ingest
    if (settings.phases.has("ingest")) {
      log(
        `\n## 1. Ingest: ${PAYLOAD_BYTES}-byte Clausum event, ${settings.connections} connections, ${settings.ingestRounds} rounds of ${settings.ingestSeconds} s per server`,
      );
      const request = fixedRequest();
      const rounds: Record<string, IngestEntry[]> = { bare: [], naive: [] };
      const measure = async (name: string, pid: number, url: string, warm: boolean) => {
        if (warm && settings.warmupSeconds > 0) {
          await runIngestLoad(settings.loadGenerator, {
            url,
            request,
            connections: settings.connections,
            seconds: settings.warmupSeconds,
          });
        }
        const idleBefore = await waitForQuiet();
        const cpuBefore = cpuSeconds(pid);
        const ownBefore = process.cpuUsage();
        const meter = cpuMeter({
          server: () => cpuSeconds(pid),
          redis: () => cpuSecondsByName("redis-server"),
          postgres: () => cpuSecondsByName("postgres"),
        });
        const r = await runIngestLoad(settings.loadGenerator, {
          url,
          request,
          connections: settings.connections,
          seconds: settings.ingestSeconds,
        });
        const cpu = cpuSeconds(pid) - cpuBefore;
        const cores = meter.stop();
        const own = process.cpuUsage(ownBefore);
        const entry = {
          ...r,
          cpuMsPerKReq: r.ok > 0 ? (cpu * 1e6) / r.ok : 0,
          loadCpuShare:
            settings.loadGenerator === "autocannon" ? (own.user + own.system) / 1e6 / r.seconds : null,
          cores,
          machineBusyBefore: idleBefore,
        };

        log(
          `  ${name.padEnd(8)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  ` +
            `non-2xx ${r.non2xx}  errors ${r.errors}  server cpu ${entry.cpuMsPerKReq.toFixed(0)} ms/1k req`,
        );
        log(
          `    cores: ${Object.entries(cores)
            .map(([k, v]) => `${k} ${v.toFixed(2)}`)
            .join(", ")}`,
        );
        if (r.non2xx > 0 || r.errors > 0)
          log(`  WARNING: ${name} answered ${r.non2xx} non-2xx and ${r.errors} errors`);
        return entry;
      };

      // All three servers stay up (idle when not measured) and are measured in turn, round after
      // round; each server's median round is reported, so a burst of load from elsewhere on the
      // machine skews one round of one server rather than a whole comparison.
      const servers: Array<{ name: string; pid: number; url: string; prefix: string | null }> = [];
      for (const name of ["bare", "naive"] as const) {
        const child = spawnNode(name, {
          args: [join(BENCH_DIR, "servers", `${name}.ts`)],
          env: {
            PORT: "0",
            CLAUSUM_SECRET,
            REDIS_URL: infra.redisUrl,
            QUEUE_PREFIX: `${infra.queuePrefix}-naive`,
          },
          ipc: true,
        });
        children.push(child);
        const { port } = await firstMessage<{ port: number }>(child);
        servers.push({
          name,
          pid: child.proc.pid ?? 0,
          url: `http://127.0.0.1:${port}/webhooks/clausum`,
          prefix: name === "naive" ? `${infra.queuePrefix}-naive` : null,
        });
      }
      const label = gatewayLabel;
      const gateways: Array<{
        name: string;
        workers: GatewayWorkers;
        stop: () => Promise<void>;
        child: Child;
      }> = [];
      for (const workers of settings.ingestGatewayWorkers) {
        const name = label(workers);
        rounds[name] = [];
        const port = await freePort();
        const hookline = await startHookline({
          infra,
          config: benchConfig({
            port,
            adminPort: await freePort(),
            sinkUrl: "http://127.0.0.1:9/unused",
            gatewayWorkers: workers,
            ...(settings.ingestThread === undefined ? {} : { ingestThread: settings.ingestThread }),
          }),
          port,
          gateway: true,
          worker: false,
          profileDir: settings.profile ? join(PROFILE_DIR, "ingest", name) : null,
        });
        const gw = hookline.gateway as Child;
        children.push(gw);
        gateways.push({ name, workers, stop: hookline.stop, child: gw });
        servers.push({
          name,
          pid: gw.proc.pid ?? 0,
          url: `http://127.0.0.1:${port}/webhooks/clausum`,
          prefix: `{${infra.queuePrefix}}`,
        });
      }
      for (let round = 1; round <= settings.ingestRounds; round++) {
        log(`  round ${round} of ${settings.ingestRounds}`);
        for (const s of servers) {
          // A run during which other programs took CPU is run again (twice at most).
          for (let attempt = 1; ; attempt++) {
            const entry = await measure(s.name, s.pid, s.url, round === 1 && attempt === 1);
            const other = entry.cores["everything else"] ?? 0;
            if (other <= DISTURBED_CORES || attempt === 3) {
              rounds[s.name]?.push(entry);
              break;
            }
            log(`    other programs took ${other.toFixed(2)} cores during the run: running it again`);
            if (s.prefix) await infra.clearRedis(s.prefix);
          }
          // Nothing consumes these queues in this phase: empty them between runs.
          if (s.prefix) await infra.clearRedis(s.prefix);
        }
      }
      const rss: Record<string, number> = {};
      for (const g of gateways) rss[g.name] = peakRssMb(g.child.proc.pid ?? 0);
      for (const s of servers.filter((x) => x.name === "bare" || x.name === "naive")) {
        const child = children.find((c) => c.proc.pid === s.pid);
        if (child) {
          await child.stop();
          children.splice(children.indexOf(child), 1);
        }
      }
      for (const g of gateways) {
        await g.stop();
        children.splice(children.indexOf(g.child), 1);
      }
      await infra.clearRedis(`{${infra.queuePrefix}}`);
      const median = (list: IngestEntry[]): IngestEntry => {
        const sorted = [...list].sort((a, b) => a.rps - b.rps);
        return sorted[Math.floor((sorted.length - 1) / 2)] as IngestEntry;
      };
      const ingest: Record<string, IngestEntry> = Object.fromEntries(
        Object.entries(rounds).map(([k, list]) => [k, median(list)]),
      );
      // The headline figure is Hookline as configured by default (server.workers: 1) when measured.
      const headline = (gateways.find((g) => g.workers === 1) ?? gateways[0]) as (typeof gateways)[number];
      const bare = ingest.bare as IngestEntry;
      const naive = ingest.naive as IngestEntry;
      const mine = ingest[headline.name] as IngestEntry;
      const per = (f: (e: IngestEntry) => number | null, digits: number) =>
        Object.fromEntries(
          Object.entries(ingest).map(([k, e]) => {
            const v = f(e);
            return [k, v === null ? null : round(v, digits)];
          }),
        );
      results.ingest = {
        rps: { ...per((e) => e.rps, 0), hookline: round(mine.rps, 0) },
        headline: { name: headline.name, server_workers: headline.workers },
        p50_ms: per((e) => e.p50Ms, 2),
        p99_ms_by_server: per((e) => e.p99Ms, 2),
        p99_ms: round(mine.p99Ms, 2),
        cpu_ms_per_1k_requests: per((e) => e.cpuMsPerKReq, 0),
        cores: Object.fromEntries(Object.entries(ingest).map(([k, e]) => [k, e.cores])),
        ratio_vs_naive: round(mine.rps / naive.rps, 2),
        ratio_vs_bare: round(mine.rps / bare.rps, 2),
        ratios_by_gateway: Object.fromEntries(
          gateways.map((g) => {
            const e = ingest[g.name] as IngestEntry;
            return [g.name, { vs_naive: round(e.rps / naive.rps, 2), vs_bare: round(e.rps / bare.rps, 2) }];
          }),
        ),
        connections: settings.connections,
        seconds: settings.ingestSeconds,
        rounds: settings.ingestRounds,
        rps_by_round: Object.fromEntries(
          Object.entries(rounds).map(([k, list]) => [k, list.map((e) => round(e.rps, 0))]),
        ),
      };
      results.gateway = {
        rss_mb: rss[headline.name],
        server_workers: headline.workers,
        rss_mb_by_gateway: rss,
      };
      log(
        `  gateway peak RSS (process tree): ${Object.entries(rss)
          .map(([k, v]) => `${k} ${v} MB`)
          .join(", ")}`,
      );
    }

    // ---------------------------------------------------------------- drain
    if (settings.phases.has("drain")) {
      log(
        `\n## Drain: ${settings.drainEvents.toLocaleString("en-US")} events queued, then the consumer started`,
      );
      results.drain = await runDrain(infra, databaseName, settings.drainEvents, children);
    }

    // ---------------------------------------------------------------- 2. and 3. end to end
    if (["e2e", "ordered", "filtered", "growth"].some((p) => settings.phases.has(p as Phase))) {
      const sink = spawnNode("sink", {
        args: [join(BENCH_DIR, "servers", "sink.ts")],
        env: { PORT: "0" },
        ipc: true,
      });
      children.push(sink);
      const { port: sinkPort } = await firstMessage<{ port: number }>(sink);
      const port = await freePort();
      const configOptions = {
        port,
        adminPort: await freePort(),
        sinkUrl: `http://127.0.0.1:${sinkPort}/hooks/bench`,
        gatewayWorkers: settings.e2eGatewayWorkers,
        ...(settings.ingestThread === undefined ? {} : { ingestThread: settings.ingestThread }),
      };
      const config = benchConfig(configOptions);
      let current: Awaited<ReturnType<typeof startHookline>> | null = null;
      const start = async (phase: string, phaseConfig = config) => {
        const h = await startHookline({
          infra,
          config: phaseConfig,
          port,
          gateway: true,
          worker: true,
          profileDir: settings.profile ? join(PROFILE_DIR, phase) : null,
        });
        children.push(h.gateway as Child, h.worker as Child);
        current = h;
        return h;
      };
      const stop = async (h: Awaited<ReturnType<typeof start>>) => {
        await h.stop();
        for (const c of [h.gateway, h.worker]) if (c) children.splice(children.indexOf(c), 1);
      };
      const ctx: E2eContext = {
        gatewayOrigin: `http://127.0.0.1:${port}`,
        connections: settings.connections,
        sink: new SinkControl(sink),
        databaseUrl: infra.databaseUrl,
        log,
        cpu: {
          gateway: () => (current ? cpuSeconds(current.gateway?.proc.pid ?? 0) : 0),
          worker: () => (current ? cpuSeconds(current.worker?.proc.pid ?? 0) : 0),
          sink: () => cpuSeconds(sink.proc.pid ?? 0),
          redis: () => cpuSecondsByName("redis-server"),
          postgres: () => cpuSecondsByName("postgres", postgresFor(databaseName)),
        },
      };

      let empty: E2eResult | null = null;
      const run = {
        fixedRate: settings.e2eRate,
        stepSeconds: settings.e2eStepSeconds,
        seconds: settings.e2eSeconds,
        p99Ms: TARGETS.e2eP99Ms,
        warmupSeconds: settings.warmupSeconds,
      };
      /** The phase's sustained run with its own config, and its ratio to the unordered, unfiltered one. */
      const variant = async (phase: "ordered" | "filtered", label: string, phaseConfig: string) => {
        const h = await start(phase, phaseConfig);
        const r = await sustainedRun(ctx, label, { ...run, ...(empty ? { ceiling: empty.rate } : {}) });
        await stop(h);
        return { ...e2eJson(r), ratio_vs_plain: empty ? round(r.eventsPerS / empty.eventsPerS, 2) : null };
      };
      if (settings.phases.has("e2e")) {
        log(`\n## 2. End to end: gateway + worker + sink, paced load, ${settings.e2eSeconds} s`);
        const h = await start("e2e");
        empty = await sustainedRun(ctx, "empty tables", run);
        await stop(h);
        results.e2e = e2eJson(empty);
      }

      if (settings.phases.has("ordered")) {
        log(
          `\n## 2b. End to end with per-key ordering: ${ORDERING_KEYS.toLocaleString("en-US")} keys, ${settings.e2eSeconds} s`,
        );
        const { ratio_vs_plain, ...ordered } = await variant(
          "ordered",
          "ordered",
          benchConfig({ ...configOptions, orderingKey: ORDERING_POINTER }),
        );
        results.ordered = { ...ordered, keys: ORDERING_KEYS, ratio_vs_unordered: ratio_vs_plain };
      }

      if (settings.phases.has("filtered")) {
        log(
          `\n## 2c. End to end with a filter on the route (every event passes it), ${settings.e2eSeconds} s`,
        );
        const { ratio_vs_plain, ...filtered } = await variant(
          "filtered",
          "filtered",
          benchConfig({ ...configOptions, filter: BENCH_FILTER }),
        );
        results.filtered = { ...filtered, filter: BENCH_FILTER, ratio_vs_unfiltered: ratio_vs_plain };
      }

      if (settings.phases.has("growth")) {
        log(`\n## 3. Growth: ${settings.growthEvents.toLocaleString("en-US")} events already in the tables`);
        // The dashboard overview at a tenth of the history first (seeded the same way, then
        // emptied), then at full size: its latency must not grow with what is stored.
        const tenth = Math.round(settings.growthEvents / 10);
        let overviewAtTenth: Awaited<ReturnType<typeof measureOverview>> | null = null;
        if (tenth >= 1_000) {
          await seedGrowth(infra.databaseUrl, tenth, log);
          overviewAtTenth = await measureOverview(infra.databaseUrl);
          log(
            `  dashboard overview, ${tenth.toLocaleString("en-US")} events stored: p50 ${overviewAtTenth.p50Ms.toFixed(1)} ms, p95 ${overviewAtTenth.p95Ms.toFixed(1)} ms`,
          );
          await emptyGrowth(infra.databaseUrl);
        }
        await seedGrowth(infra.databaseUrl, settings.growthEvents, log);
        const overview = await measureOverview(infra.databaseUrl);
        log(
          `  dashboard overview, ${settings.growthEvents.toLocaleString("en-US")} events stored: p50 ${overview.p50Ms.toFixed(1)} ms, p95 ${overview.p95Ms.toFixed(1)} ms`,
        );
        const h = await start("growth");
        await measureE2e(ctx, 500, Math.max(2, settings.warmupSeconds));
        const growthRate =
          empty?.rate ??
          settings.e2eRate ??
          (await searchRate(ctx, settings.e2eStepSeconds, TARGETS.e2eP99Ms));
        const grown = await measureE2eUndisturbed(ctx, growthRate, settings.e2eSeconds);
        log(`  grown tables: ${describeE2e(grown)}`);
        await stop(h);
        results.growth = {
          ...e2eJson(grown),
          seeded_events: settings.growthEvents,
          ratio: empty ? round(grown.eventsPerS / empty.eventsPerS, 2) : null,
          p99_ratio: empty ? round(grown.p99Ms / empty.p99Ms, 2) : null,
          // GET / of the dashboard: its six reads at once, over a warm pool (bench/lib/overview.ts).
          overview_p50_ms: round(overview.p50Ms, 1),
          overview_p95_ms: round(overview.p95Ms, 1),
          overview_at_tenth: overviewAtTenth && {
            events: tenth,
            p50_ms: round(overviewAtTenth.p50Ms, 1),
            p95_ms: round(overviewAtTenth.p95Ms, 1),
          },
        };
      }
      await sink.stop();
      children.splice(children.indexOf(sink), 1);
    }

    // ---------------------------------------------------------------- 4. retention by partition
    if (settings.phases.has("partition")) {
      log(
        `\n## 4. Retention: one day of ${settings.partitionEvents.toLocaleString("en-US")} events, batched delete vs partition drop`,
      );
      results.partition = await measureDayDrop(settings.adminDatabaseUrl, settings.partitionEvents, log);
    }
  } finally {
    await cleanup();
  }

  results.finished_at = new Date().toISOString();
  results.targets = targetRows(results).map(([name, goal, value, met]) => ({ name, goal, value, met }));
  writeFileSync(join(BENCH_DIR, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  log(`\n${markdown(results)}`);
  log("wrote bench/results.json");

  if (settings.profile) {
    const parts: string[] = [];
    const dirs = [
      ...settings.ingestGatewayWorkers.map((w) => {
        const name = gatewayLabel(w);
        return [`ingest: ${name} gateway`, join(PROFILE_DIR, "ingest", name, "gateway")] as const;
      }),
      ...["e2e", "ordered", "filtered", "growth"].flatMap((phase) =>
        ["gateway", "worker"].map((proc) => [`${phase}: ${proc}`, join(PROFILE_DIR, phase, proc)] as const),
      ),
    ];
    for (const [title, dir] of dirs) {
      const s = summariseProfiles(dir);
      if (s) parts.push(profileMarkdown(title, s));
    }
    writeFileSync(
      join(PROFILE_DIR, "summary.md"),
      `# CPU profiles (generated by BENCH_PROFILE=1 pnpm bench)\n\n${parts.join("\n")}`,
    );
    log("wrote bench/profiles/summary.md");
  }
}

async function runDrain(
  infra: BenchInfra,
  databaseName: string,
  events: number,
  children: Child[],
): Promise<Record<string, unknown>> {
  const sink = spawnNode("sink", {
    args: [join(BENCH_DIR, "servers", "sink.ts")],
    env: { PORT: "0" },
    ipc: true,
  });
  children.push(sink);
  const { port: sinkPort } = await firstMessage<{ port: number }>(sink);
  const sinkUrl = `http://127.0.0.1:${sinkPort}/hooks/bench`;
  const naivePrefix = `${infra.queuePrefix}-naive`;
  const own = (child: Child) => {
    children.push(child);
    return async () => {
      await child.stop(60_000);
      children.splice(children.indexOf(child), 1);
    };
  };
  let consumerPid = 0;
  const cpu = {
    consumer: () => cpuSeconds(consumerPid),
    sink: () => cpuSeconds(sink.proc.pid ?? 0),
    redis: () => cpuSecondsByName("redis-server"),
    postgres: () => cpuSecondsByName("postgres", postgresFor(databaseName)),
  };
  const opts = { events, databaseUrl: infra.databaseUrl, redisUrl: infra.redisUrl, log };

  const naive = await measureDrain(
    {
      name: "naive",
      queue: { name: "webhooks", prefix: naivePrefix },
      startIngress: async () => {
        const child = spawnNode("naive", {
          args: [join(BENCH_DIR, "servers", "naive.ts")],
          env: { PORT: "0", CLAUSUM_SECRET, REDIS_URL: infra.redisUrl, QUEUE_PREFIX: naivePrefix },
          ipc: true,
        });
        const stop = own(child);
        const { port } = await firstMessage<{ port: number }>(child);
        return { origin: `http://127.0.0.1:${port}`, stop };
      },
      startConsumer: async () => {
        const child = spawnNode("naive-worker", {
          args: [join(BENCH_DIR, "servers", "naive-worker.ts")],
          env: {
            DATABASE_URL: infra.databaseUrl,
            REDIS_URL: infra.redisUrl,
            QUEUE_PREFIX: naivePrefix,
            TARGET_URL: sinkUrl,
          },
          ipc: true,
        });
        const stop = own(child);
        await firstMessage<{ ready: true }>(child);
        consumerPid = child.proc.pid ?? 0;
        return { stop };
      },
      doneSql: "select count(*)::int as n from naive.deliveries where status = 'succeeded'",
      loggedSql: `select count(*)::int as n from naive.deliveries d where d.status = 'succeeded'
        and exists (select 1 from naive.attempts a where a.delivery_id = d.id and a.status_code = 200)`,
      cpu,
    },
    opts,
  );
  await infra.clearRedis(naivePrefix);

  const port = await freePort();
  const config = benchConfig({ port, adminPort: await freePort(), sinkUrl, gatewayWorkers: 1 });
  const start = async (part: "gateway" | "worker") => {
    const h = await startHookline({
      infra,
      config,
      port,
      gateway: part === "gateway",
      worker: part === "worker",
      profileDir: settings.profile ? join(PROFILE_DIR, "drain") : null,
    });
    const child = (h.gateway ?? h.worker) as Child;
    children.push(child);
    return {
      child,
      stop: async () => {
        await h.stop();
        children.splice(children.indexOf(child), 1);
      },
    };
  };
  const hookline = await measureDrain(
    {
      name: "hookline",
      queue: { name: INGEST_QUEUE, prefix: bullPrefix(infra.queuePrefix) },
      startIngress: async () => ({ origin: `http://127.0.0.1:${port}`, stop: (await start("gateway")).stop }),
      startConsumer: async () => {
        const worker = await start("worker");
        consumerPid = worker.child.proc.pid ?? 0;
        return { stop: worker.stop };
      },
      doneSql: "select count(*)::int as n from deliveries where status = 'succeeded'",
      loggedSql: `select count(*)::int as n from deliveries d where d.status = 'succeeded'
        and exists (select 1 from delivery_attempts a where a.delivery_id = d.id and a.status_code = 200)`,
      cpu,
    },
    opts,
  );
  await sink.stop();
  children.splice(children.indexOf(sink), 1);

  // The end-to-end phase measures empty tables: leave them as they were.
  const client = new pg.Client({ connectionString: infra.databaseUrl });
  await client.connect();
  await client.query(
    "drop schema naive cascade; truncate events, event_duplicates, dedupe_keys, deliveries, delivery_attempts",
  );
  await client.end();
  return {
    events,
    events_per_s: { naive: round(naive.eventsPerS, 0), hookline: round(hookline.eventsPerS, 0) },
    seconds: { naive: round(naive.seconds, 1), hookline: round(hookline.seconds, 1) },
    ratio_vs_naive: round(hookline.eventsPerS / naive.eventsPerS, 2),
    cpu_ms_per_event: round(hookline.cpuMsPerEvent, 2),
    cpu_ms_per_event_by_pipeline: {
      naive: round(naive.cpuMsPerEvent, 2),
      hookline: round(hookline.cpuMsPerEvent, 2),
    },
    logged: { naive: naive.logged, hookline: hookline.logged },
    cores: { naive: naive.cores, hookline: hookline.cores },
  };
}

function e2eJson(r: E2eResult): Record<string, unknown> {
  return {
    events_per_s: round(r.eventsPerS, 0),
    offered_per_s: r.rate,
    // The offered rate when every accepted event arrived, 97% of them inside the window, with
    // p99 under the bound (keptUp); 0 when the run fell behind. `events_per_s` counts only
    // arrivals inside the window, so events sent in its last milliseconds (in flight when it
    // closes) keep it a little under the offered rate even when nothing fell behind.
    sustained_per_s: keptUp(r, TARGETS.e2eP99Ms) ? r.rate : 0,
    p50_ms: round(r.p50Ms, 1),
    p99_ms: round(r.p99Ms, 1),
    max_ms: round(r.maxMs, 0),
    ingest_p99_ms: round(r.ingestP99Ms, 1),
    accepted: r.accepted,
    delivered: r.delivered,
    logged: r.logged,
    seconds: r.seconds,
    cores: r.cores,
  };
}

type Row = [name: string, goal: string, value: string, met: boolean | null];

function get(results: Record<string, unknown>, path: string): number | null {
  let node: unknown = results;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === "number" ? node : null;
}

function targetRows(results: Record<string, unknown>): Row[] {
  const row = (name: string, path: string, goal: string, check: (v: number) => boolean, unit = ""): Row => {
    const v = get(results, path);
    return [name, goal, v === null ? "not run" : `${v}${unit}`, v === null ? null : check(v)];
  };
  const headline =
    (results.ingest as { headline?: { name: string } } | undefined)?.headline?.name ?? "hookline";
  const rows: Row[] = [
    row(
      `ingest vs naive (${headline})`,
      "ingest.ratio_vs_naive",
      `>= ${TARGETS.ratioVsNaive}x`,
      (v) => v >= TARGETS.ratioVsNaive,
      "x",
    ),
    row(
      `ingest vs bare node:http (${headline})`,
      "ingest.ratio_vs_bare",
      `>= ${TARGETS.ratioVsBare}x`,
      (v) => v >= TARGETS.ratioVsBare,
      "x",
    ),
    row(
      `ingest p99 (${headline})`,
      "ingest.p99_ms",
      `<= ${TARGETS.ingestP99Ms} ms`,
      (v) => v <= TARGETS.ingestP99Ms,
      " ms",
    ),
    row(
      `gateway peak RSS (${headline})`,
      "gateway.rss_mb",
      `< ${TARGETS.gatewayRssMb} MB`,
      (v) => v < TARGETS.gatewayRssMb,
      " MB",
    ),
  ];
  const others = Object.keys(
    (results.ingest as { ratios_by_gateway?: Record<string, unknown> } | undefined)?.ratios_by_gateway ?? {},
  ).filter((k) => k !== headline);
  for (const k of others) {
    rows.push(
      row(
        `ingest vs naive (${k})`,
        `ingest.ratios_by_gateway.${k}.vs_naive`,
        `>= ${TARGETS.ratioVsNaive}x`,
        (v) => v >= TARGETS.ratioVsNaive,
        "x",
      ),
      row(
        `gateway peak RSS (${k})`,
        `gateway.rss_mb_by_gateway.${k}`,
        `< ${TARGETS.gatewayRssMb} MB`,
        (v) => v < TARGETS.gatewayRssMb,
        " MB",
      ),
    );
  }
  rows.push(
    row(
      "drain vs hand-written pipeline",
      "drain.ratio_vs_naive",
      `>= ${TARGETS.drainRatioVsNaive}x`,
      (v) => v >= TARGETS.drainRatioVsNaive,
      "x",
    ),
    row(
      "drain machine CPU per event",
      "drain.cpu_ms_per_event",
      `<= ${TARGETS.drainCpuMsPerEvent} ms`,
      (v) => v <= TARGETS.drainCpuMsPerEvent,
      " ms",
    ),
    row(
      "end to end, sustained",
      "e2e.sustained_per_s",
      `>= ${TARGETS.e2eEventsPerS}/s`,
      (v) => v >= TARGETS.e2eEventsPerS,
      "/s",
    ),
    row("end to end p99", "e2e.p99_ms", `< ${TARGETS.e2eP99Ms} ms`, (v) => v < TARGETS.e2eP99Ms, " ms"),
    row(
      "ordered (1,000 keys) vs unordered",
      "ordered.ratio_vs_unordered",
      `>= ${TARGETS.orderedRatio}x`,
      (v) => v >= TARGETS.orderedRatio,
      "x",
    ),
    row(
      "filter on the route vs none",
      "filtered.ratio_vs_unfiltered",
      `>= ${TARGETS.filteredRatio}x`,
      (v) => v >= TARGETS.filteredRatio,
      "x",
    ),
    row(
      "growth (1M events stored)",
      "growth.ratio",
      `>= ${TARGETS.growthRatio}x`,
      (v) => v >= TARGETS.growthRatio,
      "x",
    ),
    row(
      "retention of a day: partition drop vs batched delete",
      "partition.ratio",
      `>= ${TARGETS.partitionDropRatio}x`,
      (v) => v >= TARGETS.partitionDropRatio,
      "x",
    ),
    row(
      "dashboard overview p95 (1M events stored)",
      "growth.overview_p95_ms",
      `< ${TARGETS.overviewMs} ms`,
      (v) => v < TARGETS.overviewMs,
      " ms",
    ),
    row(
      "dashboard overview p95 (100k events stored)",
      "growth.overview_at_tenth.p95_ms",
      `< ${TARGETS.overviewMs} ms`,
      (v) => v < TARGETS.overviewMs,
      " ms",
    ),
  );
  return rows;
}

function gatewayLabel(w: GatewayWorkers): string {
  return `hookline_workers_${w}`;
}

function ingestLabel(name: string): string {
  if (name === "bare") return "(a) bare node:http, 202";
  if (name === "naive") return "(b) naive: Hono + HMAC + one queue.add";
  const workers = name.replace(/^hookline_workers_/, "");
  return `(c) Hookline gateway, \`server.workers: ${workers}\`${workers === "1" ? " (default)" : ""}`;
}

function markdown(results: Record<string, unknown>): string {
  const m = results.machine as typeof results.machine & Record<string, unknown>;
  const g = (path: string, digits = 0) => {
    const v = get(results, path);
    return v === null ? "-" : v.toFixed(digits);
  };
  const lines = [
    `Machine: ${String(m.cores)} cores (${String(m.cpu)}), ${String(m.memory_gb)} GiB, Node ${String(m.node)}, ` +
      `PostgreSQL ${String(m.postgres)} (autovacuum ${String(m.autovacuum ?? "?")}), Redis ${String(m.redis)}, ` +
      `load generator ${String(m.load_generator)}, everything on the one machine.`,
    "",
    "| ingest (1 KiB Clausum event, 50 connections) | req/s | p50 ms | p99 ms | CPU ms / 1k req |",
    "|---|---:|---:|---:|---:|",
    ...Object.keys((results.ingest as { p50_ms?: Record<string, number> } | undefined)?.p50_ms ?? {}).map(
      (s) =>
        `| ${ingestLabel(s)} | ` +
        `${g(`ingest.rps.${s}`)} | ${g(`ingest.p50_ms.${s}`, 2)} | ${g(`ingest.p99_ms_by_server.${s}`, 2)} | ${g(`ingest.cpu_ms_per_1k_requests.${s}`)} |`,
    ),
    "",
    `| drain (${g("drain.events")} events queued, then consumed) | events/s | machine CPU ms / event |`,
    "|---|---:|---:|",
    `| hand-written BullMQ worker (concurrency 64) | ${g("drain.events_per_s.naive")} | ${g("drain.cpu_ms_per_event_by_pipeline.naive", 2)} |`,
    `| Hookline worker | ${g("drain.events_per_s.hookline")} | ${g("drain.cpu_ms_per_event_by_pipeline.hookline", 2)} |`,
    "",
    "| end to end (POST -> sink, attempt logged) | events/s | p50 ms | p99 ms | offered/s |",
    "|---|---:|---:|---:|---:|",
    `| empty tables | ${g("e2e.events_per_s")} | ${g("e2e.p50_ms", 1)} | ${g("e2e.p99_ms", 1)} | ${g("e2e.offered_per_s")} |`,
    `| empty tables, ordered by ${g("ordered.keys")} keys | ${g("ordered.events_per_s")} | ${g("ordered.p50_ms", 1)} | ${g("ordered.p99_ms", 1)} | ${g("ordered.offered_per_s")} |`,
    `| empty tables, a filter on the route | ${g("filtered.events_per_s")} | ${g("filtered.p50_ms", 1)} | ${g("filtered.p99_ms", 1)} | ${g("filtered.offered_per_s")} |`,
    `| ${g("growth.seeded_events")} events already stored | ${g("growth.events_per_s")} | ${g("growth.p50_ms", 1)} | ${g("growth.p99_ms", 1)} | ${g("growth.offered_per_s")} |`,
    "",
    `| retention of one day (${g("partition.events")} events, their deliveries and attempts) | seconds | table bytes after |`,
    "|---|---:|---:|",
    `| batched delete (plain tables, \`retention.partitioning: none\`) | ${g("partition.batched_delete_s", 2)} | ${g("partition.bytes_after.batched")} |`,
    `| partition drop (\`retention.partitioning: daily\`) | ${g("partition.partition_drop_s", 2)} | ${g("partition.bytes_after.partitioned")} |`,
    "",
    "| dashboard overview (`GET /`, its six reads at once) | p50 ms | p95 ms |",
    "|---|---:|---:|",
    `| ${g("growth.overview_at_tenth.events")} events stored | ${g("growth.overview_at_tenth.p50_ms", 1)} | ${g("growth.overview_at_tenth.p95_ms", 1)} |`,
    `| ${g("growth.seeded_events")} events stored | ${g("growth.overview_p50_ms", 1)} | ${g("growth.overview_p95_ms", 1)} |`,
    "",
    "| target | goal | measured | met |",
    "|---|---|---:|:---:|",
    ...targetRows(results).map(
      ([name, goal, value, met]) =>
        `| ${name} | ${goal} | ${value} | ${met === null ? "-" : met ? "yes" : "**no**"} |`,
    ),
  ];
  return lines.join("\n");
}

main().catch((error: unknown) => {
  log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
