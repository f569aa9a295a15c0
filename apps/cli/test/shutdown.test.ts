// SIGTERM mid-traffic on a real `hookline start` process: the gateway stops taking requests and
// answers those it holds, the worker finishes its jobs or hands them back, the process exits 0.
// Nothing acknowledged is lost and the shutdown itself sends nothing twice. Then SIGKILL
// mid-traffic: after a restart, every delivery reaches a final state (the reconciler queues the
// ones whose job was never added).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { connectDatabase, type Database } from "@hookline/db";
import {
  closeAll,
  eventually,
  freePort,
  type HooklineProcess,
  type Isolated,
  isolate,
  loadTestConfig,
  type ProviderMessage,
  type RecordingTarget,
  runLoad,
  spawnHookline,
  startRecordingTarget,
} from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MESSAGES = 600;
const LANES = 8;

let iso: Isolated;
let target: RecordingTarget;
let database: Database;
let dir: string;
let env: Record<string, string>;
let port: number;
let adminPort: number;
const processes: HooklineProcess[] = [];

function canConnect(host: string, to: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(to, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function startHookline(): Promise<HooklineProcess> {
  const proc = spawnHookline("start", env);
  processes.push(proc);
  await proc.waitForLine((l) => l.msg === "worker running");
  await proc.waitForLine((l) => l.msg === "gateway listening");
  return proc;
}

/** SIGTERM to every process still running; resolves once all have exited. */
async function stopAll(): Promise<void> {
  for (const p of processes) p.kill("SIGTERM");
  await Promise.all(processes.map((p) => p.exited));
}

function klariqoSource() {
  const source = loadTestConfig(
    `sources:\n  - id: klariqo\n    verify: { scheme: klariqo, secrets: ["${SECRET}"] }\n`,
  ).sources[0];
  if (!source) throw new Error("no source");
  return source;
}

/** Sends every message until the gateway accepts it, as a provider does. */
const provide = (list: readonly ProviderMessage[]) =>
  runLoad(list, {
    baseUrl: () => `http://127.0.0.1:${port}`,
    source: klariqoSource(),
    concurrency: LANES,
    ratePerSecond: 300,
    retryDelayMs: 300,
  });

/** Until every one of these events has its delivery succeeded. */
const allDelivered = (eventIds: readonly string[], what: string) =>
  eventually(
    async () => {
      const r = await database.pool.query<{ n: number }>(
        "select count(*)::int as n from deliveries where event_id = any($1) and status = 'succeeded'",
        [eventIds],
      );
      return r.rows[0]?.n === eventIds.length;
    },
    { what, timeoutMs: 60_000 },
  );

const messages: ProviderMessage[] = Array.from({ length: MESSAGES }, (_, i) => ({
  id: `msg_shutdown_${i}`,
  eventType: "order.created",
  body: Buffer.from(JSON.stringify({ type: "order.created", data: { n: i } })),
}));

beforeAll(async () => {
  iso = await isolate("shutdown");
  // Slow enough that deliveries are in flight when SIGTERM arrives.
  target = await startRecordingTarget({ delayMs: 150 });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  dir = mkdtempSync(join(tmpdir(), "hookline-shutdown-"));
  port = await freePort();
  adminPort = await freePort([2]);
  const configPath = join(dir, "hookline.yaml");
  writeFileSync(
    configPath,
    `
server: { port: ${port}, host: 127.0.0.1, admin_port: ${adminPort} }
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["${SECRET}"] }
targets:
  - id: sink
    url: ${target.url}/hooks
    concurrency: 20
    retry: { schedule: [200ms, 500ms, 1s, 2s] }
routes:
  - { source: klariqo, targets: [sink] }
worker: { lock_duration: 3s, stalled_interval: 1s, reconcile_interval: 500ms, reconcile_grace: 1s }
`,
  );
  env = {
    HOOKLINE_CONFIG: configPath,
    DATABASE_URL: iso.databaseUrl,
    REDIS_URL: iso.redisUrl,
    HOOKLINE_QUEUE_PREFIX: iso.queuePrefix,
  };
});

afterAll(async () => {
  for (const p of processes) {
    p.kill("SIGKILL");
    await p.exited;
  }
  await closeAll(target, database, iso);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("admin port", () => {
  it("listens on loopback only unless admin_host says otherwise", async () => {
    const proc = await startHookline();
    try {
      const listening = await proc.waitForLine((l) => l.port === adminPort && typeof l.host === "string");
      expect(listening.host).toBe("127.0.0.1");
      expect(await canConnect("127.0.0.1", adminPort)).toBe(true);
      const external = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && a.family === "IPv4" && !a.internal)
        .map((a) => a?.address ?? "");
      for (const address of external) expect(await canConnect(address, adminPort)).toBe(false);
    } finally {
      proc.kill("SIGTERM");
      expect(await proc.exited).toEqual({ code: 0, signal: null });
    }
  });
});

describe("SIGTERM", () => {
  it("drains: every 202 is delivered exactly once, and the process exits 0", async () => {
    const first = await startHookline();
    const load = provide(messages);

    // Mid-traffic: events accepted, deliveries in flight at the slow target.
    await eventually(() => load.stats.accepted.length >= 150 && target.hits.length >= 20, {
      what: "traffic in flight",
      timeoutMs: 30_000,
    });
    first.kill("SIGTERM");
    await first.waitForLine((l) => l.msg === "shutting down: no new requests; finishing what is in hand");
    const closingSeenAt = Date.now();
    const exit = await first.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const said = first.lines.map((l) => (JSON.parse(l) as { msg?: string }).msg);
    expect(said).toContain("shutting down: no new requests; finishing what is in hand");
    expect(said.at(-1)).toBe("stopped");
    expect(first.stderr.join("\n")).toBe("");

    // What the first process left behind is intact: nothing failed, nothing half-done.
    const left = await database.pool.query<{ status: string; n: number }>(
      "select status, count(*)::int as n from deliveries group by status",
    );
    for (const row of left.rows) expect(["pending", "retrying", "succeeded"]).toContain(row.status);
    const open = await database.pool.query<{ n: number }>(
      "select count(*)::int as n from delivery_attempts where duration_ms is null",
    );
    expect(open.rows[0]?.n).toBe(0);
    const acceptedBeforeRestart = load.stats.accepted.length;
    // Once closing, each of the provider's keep-alive connections carries at most one more
    // request (answered with Connection: close): they cannot keep the gateway taking traffic.
    const sentWhileClosing = load.stats.accepted.filter((a) => a.sentAt > closingSeenAt).length;
    expect(sentWhileClosing).toBeLessThanOrEqual(LANES);

    // The provider keeps retrying what was refused; a new process takes over the queue.
    await startHookline();
    await load.done();
    expect(load.stats.accepted.length).toBe(MESSAGES);
    expect(acceptedBeforeRestart).toBeGreaterThan(0);

    const acceptedIds = load.stats.accepted.map((a) => a.eventId);
    await allDelivered(acceptedIds, "every accepted event delivered");
    const events = await database.pool.query<{ n: number }>(
      "select count(*)::int as n from events where id = any($1)",
      [acceptedIds],
    );
    expect(events.rows[0]?.n).toBe(MESSAGES);
    // Exactly once each: a clean shutdown re-sends nothing.
    expect(target.counts.size).toBe(MESSAGES);
    expect([...target.counts.values()].every((n) => n === 1)).toBe(true);
    expect(target.hits.every((h) => h.attempt === 1)).toBe(true);
  });
});

describe("start", () => {
  it("a second start on ports in use exits 1 and says why, instead of running half-started", async () => {
    await stopAll();
    await startHookline();
    const second = spawnHookline("start", env);
    processes.push(second);
    const exit = await second.exited;
    expect(exit.code).toBe(1);
    expect(second.stderr.join("\n")).toContain("EADDRINUSE");
    await stopAll();
  });
});

describe("SIGKILL", () => {
  it("after a kill -9 mid-traffic and a restart, every accepted event is delivered and nothing stays pending", {
    timeout: 180_000,
  }, async () => {
    await stopAll();
    const killed: ProviderMessage[] = messages.map((m, i) => ({ ...m, id: `msg_kill_${i}` }));
    const hitsBefore = target.hits.length;
    const first = await startHookline();
    const load = provide(killed);
    await eventually(() => load.stats.accepted.length >= 150 && target.hits.length - hitsBefore >= 20, {
      what: "traffic in flight",
      timeoutMs: 30_000,
    });
    first.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");

    await startHookline();
    await load.done();
    const acceptedIds = load.stats.accepted.map((a) => a.eventId);
    // A 202 lost with the process is re-sent by the provider and recorded as a duplicate of the
    // event it was: every accepted id is an event or a duplicate, and every event is delivered.
    // Liveness, not speed: lock_duration + stalled_interval + reconcile_grace + reconcile_interval
    // is 5.5 s here; the margin is for a loaded machine.
    const eventIds = await eventually(
      async () => {
        const r = await database.pool.query<{ events: string[]; duplicates: number; succeeded: number }>(
          `select array(select id from events where id = any($1)) as events,
                  (select count(*)::int from event_duplicates where id = any($1)) as duplicates,
                  (select count(*)::int from deliveries where event_id = any($1) and status = 'succeeded') as succeeded`,
          [acceptedIds],
        );
        const row = r.rows[0];
        if (row && row.events.length + row.duplicates === MESSAGES && row.succeeded === row.events.length)
          return row.events;
        // Not yet: say where things stand, so a timeout tells what was missing.
        const open = await database.pool.query(
          `select status, count(*)::int as n, min(updated_at) as oldest, bool_or(next_attempt_at > now()) as scheduled
           from deliveries where status <> 'succeeded' group by status`,
        );
        throw new Error(
          `events ${row?.events.length}, duplicates ${row?.duplicates}, succeeded ${row?.succeeded} of ${MESSAGES}; not succeeded: ${JSON.stringify(open.rows)}`,
        );
      },
      { what: "every accepted event recorded and delivered after the kill", timeoutMs: 60_000 },
    );
    const open = await database.pool.query<{ n: number }>(
      "select count(*)::int as n from deliveries where status in ('pending', 'retrying')",
    );
    expect(open.rows[0]?.n).toBe(0);
    // At least once: each accepted event reached the target, every request with its attempt row.
    const delivered = new Set(target.hits.slice(hitsBefore).map((h) => h.webhookId));
    for (const id of eventIds) expect(delivered.has(id)).toBe(true);
    // Every request the target saw (events whose 202 was lost with the process included: their
    // ids are not among the accepted) has its attempt row.
    const hitIds = [...delivered];
    const attempts = await database.pool.query<{ n: number }>(
      "select count(*)::int as n from delivery_attempts a join deliveries d on d.id = a.delivery_id where d.event_id = any($1)",
      [hitIds],
    );
    expect(attempts.rows[0]?.n).toBeGreaterThanOrEqual(target.hits.length - hitsBefore);
  });
});
