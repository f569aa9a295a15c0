// Redis Cluster: a real three-master cluster of our own (`redis-server --cluster-enabled yes`,
// slots spread by `redis-cli --cluster create`), a gateway and a worker process started with
// REDIS_CLUSTER_NODES (REDIS_URL points nowhere, to prove it is not used) and `ingest.shards: 3`.
// Every event answered 202 is recorded and delivered to both targets; every shard took jobs;
// the queues' keys are spread over more than one master (each queue has its own hash tag). A
// delivery that fails for good raises an alert, whose coalescing script runs on the cluster too.
// Then, with one shard (under another queue prefix, on the same cluster), per-key ordering: its
// ingest floor script runs on the cluster and keeps every key in order through a flaky target.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectDatabase, type Database } from "@hookline/db";
import {
  createWorkerConnection,
  ingestQueueNames,
  queueKeysFor,
  type RedisConnection,
  type RedisEndpoint,
} from "@hookline/queue";
import {
  CLAUSUM_SECRET,
  clausumBody,
  eventually,
  freePort,
  type HooklineProcess,
  type Isolated,
  isolate,
  loadTestConfig,
  type PrivateRedisCluster,
  type RecordingTarget,
  type Sink,
  spawnHookline,
  startPrivateRedisCluster,
  startRecordingTarget,
  startSink,
} from "@hookline/testkit";
import { signRequest } from "@hookline/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptanceOrder, checkOrder, seeded } from "./ordering-check";

const EVENTS = 120;
const SHARDS = 3;
// A fixed prefix (the cluster is ours alone): the queues' hash tags, hence their masters, are
// the same on every run.
const PREFIX = "hlcluster";

let iso: Isolated;
let cluster: PrivateRedisCluster;
let alpha: RecordingTarget;
let beta: RecordingTarget;
/** Answers 410: its deliveries fail at once, and raise delivery.failed. */
let gone: Sink;
let ops: Sink;
let database: Database;
let redis: RedisConnection | undefined;
let dir: string;
const processes: HooklineProcess[] = [];
let gatewayUrl: string;

/** A gateway and a worker process on the cluster, with `body` (targets, routes, ...) as config; returns the gateway's URL. */
async function startHookline(
  name: string,
  databaseUrl: string,
  prefix: string,
  body: string,
): Promise<string> {
  const port = await freePort();
  const configPath = join(dir, `${name}.yaml`);
  writeFileSync(
    configPath,
    `
server: { port: ${port}, host: 127.0.0.1, admin_port: ${await freePort([2])} }
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
${body}`,
  );
  const env = {
    HOOKLINE_CONFIG: configPath,
    DATABASE_URL: databaseUrl,
    REDIS_URL: "redis://127.0.0.1:1",
    REDIS_CLUSTER_NODES: cluster.env,
    HOOKLINE_QUEUE_PREFIX: prefix,
  };
  const gateway = spawnHookline("gateway", env);
  const worker = spawnHookline("worker", env);
  processes.push(gateway, worker);
  await Promise.all([
    gateway.waitForLine((l) => l.msg === "gateway listening"),
    worker.waitForLine((l) => l.msg === "worker running"),
  ]);
  return `http://127.0.0.1:${port}`;
}

/** Signs `body` as Clausum would and posts it; returns the status. */
async function post(url: string, body: Buffer, eventType: string): Promise<number> {
  const source = loadTestConfig(
    `sources:\n  - id: clausum\n    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }\n`,
  ).sources[0];
  if (!source) throw new Error("no source");
  const signed = signRequest(source.spec, { body, nowMs: Date.now(), eventType });
  if (!signed.ok) throw new Error(signed.message);
  const response = await fetch(`${url}/webhooks/clausum`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...signed.headers },
  });
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  iso = await isolate("rediscluster");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  dir = mkdtempSync(join(tmpdir(), "hookline-cluster-"));
  cluster = await startPrivateRedisCluster(3);
  alpha = await startRecordingTarget();
  beta = await startRecordingTarget();
  gone = await startSink(() => ({ status: 410 }));
  ops = await startSink(() => ({ status: 200 }));
  gatewayUrl = await startHookline(
    "sharded",
    iso.databaseUrl,
    PREFIX,
    `ingest: { shards: ${SHARDS} }
targets:
  - { id: alpha, url: "${alpha.url}/hooks" }
  - { id: beta, url: "${beta.url}/hooks" }
  - { id: gone, url: "${gone.url}/hooks" }
routes:
  - { source: clausum, events: [case.updated], targets: [alpha, beta] }
  - { source: clausum, events: [case.closed], targets: [gone] }
alerts:
  - { url: "${ops.url}/ops", format: slack, events: [delivery.failed] }
`,
  );
}, 120_000);

afterAll(async () => {
  for (const p of processes) p.kill("SIGKILL");
  await Promise.all(processes.map((p) => p.exited));
  redis?.disconnect();
  await alpha?.close();
  await beta?.close();
  await gone?.close();
  await ops?.close();
  await database?.close();
  await cluster?.stop();
  await iso?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Redis Cluster with three ingest shards", () => {
  it("accepts on every shard, delivers everything, and spreads keys over the masters", {
    timeout: 120_000,
  }, async () => {
    const statuses: number[] = [];
    let next = 0;
    const lane = async () => {
      for (let n = next++; n < EVENTS; n = next++)
        statuses.push(
          await post(gatewayUrl, Buffer.from(clausumBody("case.updated", `case-${n}`)), "case.updated"),
        );
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    expect(statuses.filter((s) => s === 202)).toHaveLength(EVENTS);
    expect(
      await post(gatewayUrl, Buffer.from(clausumBody("case.closed", "case-closed")), "case.closed"),
    ).toBe(202);

    // Recorded once each, and every delivery succeeded at its target.
    await eventually(
      async () => {
        const { rows } = await database.pool.query<{ events: number; done: number }>(
          `select (select count(*)::int from events) as events,
                  (select count(*)::int from deliveries where status = 'succeeded') as done`,
        );
        return rows[0]?.events === EVENTS + 1 && rows[0]?.done === 2 * EVENTS;
      },
      { timeoutMs: 60_000, what: `${EVENTS + 1} events recorded and ${2 * EVENTS} deliveries succeeded` },
    );
    // The failed delivery's alert went through the alerts queue and its Lua window on the cluster.
    const [alert] = await ops.waitFor(1, 30_000);
    expect(alert?.body.toString()).toContain("delivery.failed");
    for (const target of [alpha, beta]) {
      expect(new Set(target.hits.filter((h) => h.status === 200).map((h) => h.webhookId)).size).toBe(EVENTS);
    }

    // Every shard took jobs: BullMQ numbers each queue's jobs from its own counter (`<queue>:id`).
    const endpoint: RedisEndpoint = { clusterNodes: cluster.nodes };
    const keys = queueKeysFor(PREFIX, endpoint);
    redis = createWorkerConnection(endpoint);
    const jobsPerShard: Record<string, number> = {};
    for (const name of ingestQueueNames(SHARDS))
      jobsPerShard[name] = Number((await redis.get(`${keys.prefix(name)}:${name}:id`)) ?? 0);
    for (const count of Object.values(jobsPerShard)) expect(count).toBeGreaterThan(0);

    // The queues' keys live on more than one master, and the ingest shards are not all on one.
    const perMaster = await cluster.keysPerMaster();
    const shardMasters = new Set<number>();
    for (const { port } of cluster.nodes)
      if ((await cluster.scanMaster(port, `{${PREFIX}:ingest*`)).length > 0) shardMasters.add(port);
    console.info(
      `redis cluster: jobs per shard ${JSON.stringify(jobsPerShard)}; keys per master ${JSON.stringify(
        Object.fromEntries(perMaster),
      )}; ingest shards on ${shardMasters.size} masters`,
    );
    expect([...perMaster.values()].filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(shardMasters.size).toBeGreaterThan(1);

    // Nothing went wrong on the way: no process logged an error.
    for (const p of processes) expect(p.lines.filter((l) => l.includes('"level":50'))).toEqual([]);
  });
});

describe("per-key ordering on a Redis Cluster (one shard)", () => {
  it("keeps each key in acceptance order through a flaky target", { timeout: 120_000 }, async () => {
    const rand = seeded(41);
    const flaky = await startRecordingTarget({ delayMs: 5, status: () => (rand() < 0.3 ? 503 : 200) });
    // An installation of its own: its own database as well as its own queue prefix.
    const own = await isolate("redisclusterordered");
    const db = connectDatabase(own.databaseUrl, { max: 2 });
    try {
      const url = await startHookline(
        "ordered",
        own.databaseUrl,
        `${PREFIX}-ordered`,
        `targets:
  - id: ordered
    url: ${flaky.url}/hooks
    concurrency: 8
    retry: { schedule: [20ms, 20ms, 30ms, 30ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms] }
routes:
  - { source: clausum, events: [case.moved], targets: [ordered], ordering_key: "/data/case_id" }
`,
      );
      // 3 keys x 15 events, each key's events in order, keys interleaved over 6 lanes.
      const keys = ["k1", "k2", "k3"];
      const pending = Array.from({ length: 15 }, (_, n) => keys.map((key) => ({ key, n }))).flat();
      const lane = async () => {
        for (let item = pending.shift(); item; item = pending.shift()) {
          const body = Buffer.from(
            JSON.stringify({
              event: "case.moved",
              timestamp: "2026-11-28T11:00:00.000Z",
              data: { case_id: item.key, n: item.n },
            }),
          );
          expect(await post(url, body, "case.moved")).toBe(202);
        }
      };
      await Promise.all(Array.from({ length: 6 }, lane));
      await eventually(
        async () => {
          const { rows } = await db.pool.query<{ done: number }>(
            "select count(*)::int as done from deliveries where target_id = 'ordered' and status = 'succeeded'",
          );
          return rows[0]?.done === keys.length * 15;
        },
        { timeoutMs: 90_000, what: "every ordered delivery succeeded" },
      );
      const order = await acceptanceOrder(db.pool, "ordered");
      expect([...order.keys()].sort()).toEqual(keys);
      const report = checkOrder(
        flaky.hits.map((h) => ({ eventId: h.webhookId, ok: h.status === 200 })),
        order,
      );
      console.info(
        `redis cluster, ordered: ${report.requests} requests, ${report.failures} failed by the target, ${report.resentAfterSuccess} re-sent after success`,
      );
      expect(report.violations).toEqual([]);
      expect(report.failures).toBeGreaterThan(0);
    } finally {
      // Its processes go first (afterAll kills the rest), then what they used.
      const mine = processes.splice(2);
      for (const p of mine) p.kill("SIGKILL");
      await Promise.all(mine.map((p) => p.exited));
      await flaky.close();
      await db.close();
      await own.cleanup();
    }
  });
});
