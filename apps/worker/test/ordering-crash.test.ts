// Per-key ordering across worker processes: a gateway and two workers, each its own process, a
// target that fails about 30% of requests at random, 5 keys x 30 events sent concurrently, and
// one worker SIGKILLed mid-stream. Per key, no request goes out before every earlier event has
// succeeded and the order never goes back; every event succeeds. A head the killed worker had
// in flight is sent again by the other one (delivery is at least once), and that re-send is
// the only duplicate allowed: it comes before anything later of its key.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectDatabase, type Database } from "@hookline/db";
import {
  CLAUSUM_SECRET,
  eventually,
  freePort,
  type HooklineProcess,
  type Isolated,
  isolate,
  loadTestConfig,
  type RecordingTarget,
  spawnHookline,
  startRecordingTarget,
} from "@hookline/testkit";
import { signRequest } from "@hookline/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptanceOrder, checkOrder, seeded } from "./ordering-check";

let iso: Isolated;
let target: RecordingTarget;
let database: Database;
let dir: string;
const processes: HooklineProcess[] = [];
let gatewayUrl: string;

beforeAll(async () => {
  iso = await isolate("orderingcrash");
  const rand = seeded(29);
  // Answers take a moment, so a worker killed at a random moment has requests in flight.
  target = await startRecordingTarget({ delayMs: 15, status: () => (rand() < 0.3 ? 503 : 200) });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  dir = mkdtempSync(join(tmpdir(), "hookline-ordering-"));
  const port = await freePort();
  const configPath = join(dir, "hookline.yaml");
  writeFileSync(
    configPath,
    `
server: { port: ${port}, host: 127.0.0.1, admin_port: ${await freePort([2])} }
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
  - id: ordered
    url: ${target.url}/hooks
    timeout: 1s
    concurrency: 8
    retry: { schedule: [20ms, 20ms, 30ms, 30ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms, 50ms] }
routes:
  - { source: clausum, targets: [ordered], ordering_key: "/data/case_id" }
worker: { lock_duration: 5s, stalled_interval: 1s, reconcile_interval: 500ms, reconcile_grace: 1s }
`,
  );
  gatewayUrl = `http://127.0.0.1:${port}`;
  const env = {
    HOOKLINE_CONFIG: configPath,
    DATABASE_URL: iso.databaseUrl,
    REDIS_URL: iso.redisUrl,
    HOOKLINE_QUEUE_PREFIX: iso.queuePrefix,
  };
  const gateway = spawnHookline("gateway", env);
  const workers = [spawnHookline("worker", env), spawnHookline("worker", env)];
  processes.push(gateway, ...workers);
  await Promise.all([
    gateway.waitForLine((l) => l.msg === "gateway listening"),
    ...workers.map((w) => w.waitForLine((l) => l.msg === "worker running")),
  ]);
}, 120_000);

afterAll(async () => {
  for (const p of processes) p.kill("SIGKILL");
  await Promise.all(processes.map((p) => p.exited));
  await target?.close();
  await database?.close();
  await iso?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("per-key ordering with two workers, one SIGKILLed mid-stream", () => {
  it("keeps every key in acceptance order and delivers every event", { timeout: 180_000 }, async () => {
    const source = loadTestConfig(
      `sources:\n  - id: clausum\n    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }\n`,
    ).sources[0];
    if (!source) throw new Error("no source");
    const keys = ["k1", "k2", "k3", "k4", "k5"];
    const pending = keys.flatMap((key) => Array.from({ length: 30 }, (_, n) => ({ key, n })));
    const rand = seeded(5);
    for (let i = pending.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [pending[i], pending[j]] = [pending[j] as (typeof pending)[0], pending[i] as (typeof pending)[0]];
    }
    // Each key's events in order of n, keys interleaved at random, 10 requests at a time.
    const nextOf = new Map(keys.map((k) => [k, 0]));
    const lane = async () => {
      for (let item = pending.shift(); item; item = pending.shift()) {
        const n = nextOf.get(item.key) ?? 0;
        nextOf.set(item.key, n + 1);
        const body = Buffer.from(
          JSON.stringify({
            event: "case.updated",
            timestamp: "2026-11-28T11:00:00.000Z",
            data: { case_id: item.key, n },
          }),
        );
        const signed = signRequest(source.spec, { body, nowMs: Date.now(), eventType: "case.updated" });
        if (!signed.ok) throw new Error(signed.message);
        const response = await fetch(`${gatewayUrl}/webhooks/clausum`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", ...signed.headers },
        });
        expect(response.status).toBe(202);
      }
    };
    const sending = Promise.all(Array.from({ length: 10 }, lane));

    // Mid-stream: once about a third of the events have succeeded, SIGKILL one worker.
    await eventually(() => target.hits.filter((h) => h.status === 200).length >= 50, {
      timeoutMs: 60_000,
      what: "50 successes before the kill",
    });
    const victim = processes[1] as HooklineProcess;
    victim.kill("SIGKILL");
    await victim.exited;
    const successesAtKill = target.hits.filter((h) => h.status === 200).length;
    await sending;

    await eventually(
      async () => {
        const rows = await database.pool.query<{ n: number; done: number }>(
          `select count(*)::int as n, count(*) filter (where status = 'succeeded')::int as done
           from deliveries where target_id = 'ordered'`,
        );
        return rows.rows[0]?.n === 150 && rows.rows[0]?.done === 150;
      },
      { timeoutMs: 120_000, what: "all 150 ordered deliveries to succeed after the kill" },
    );
    const order = await acceptanceOrder(database.pool, "ordered");
    expect([...order.keys()].sort()).toEqual(keys);
    const report = checkOrder(
      target.hits.map((h) => ({ eventId: h.webhookId, ok: h.status === 200 })),
      order,
    );
    console.log(
      `ordering after SIGKILL: ${report.requests} requests, ${report.failures} failed by the target, ` +
        `${report.resentAfterSuccess} re-sent after success; the kill came after ${successesAtKill} successes`,
    );
    expect(successesAtKill).toBeLessThan(150);
    expect(report.violations).toEqual([]);
    // Only what the killed worker had in flight can be sent twice: at most one per key. (A live
    // worker whose lock lapses also makes a job run twice: the 5 s lock keeps a loaded machine
    // from doing that here; with 2 s, 9 re-sends were seen at a load average of 13.)
    expect(report.resentAfterSuccess).toBeLessThanOrEqual(keys.length);
    // Every try is logged.
    const attempts = await database.pool.query<{ n: number }>(
      `select count(*)::int as n from delivery_attempts a join deliveries d on d.id = a.delivery_id
       where d.target_id = 'ordered'`,
    );
    expect(attempts.rows[0]?.n).toBeGreaterThanOrEqual(report.requests);
  });
});
