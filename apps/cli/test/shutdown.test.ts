// SIGTERM mid-traffic on a real `hookline start` process: the gateway stops taking requests and
// answers those it holds, the worker finishes its jobs or hands them back, the process exits 0.
// Nothing acknowledged is lost and the shutdown itself sends nothing twice.
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
worker: { lock_duration: 3s, stalled_interval: 1s }
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
    const source = loadTestConfig(
      `sources:\n  - id: klariqo\n    verify: { scheme: klariqo, secrets: ["${SECRET}"] }\n`,
    ).sources[0];
    if (!source) throw new Error("no source");
    const first = await startHookline();
    const load = runLoad(messages, {
      baseUrl: () => `http://127.0.0.1:${port}`,
      source,
      concurrency: LANES,
      ratePerSecond: 300,
      retryDelayMs: 300,
    });

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
    await eventually(
      async () => {
        const r = await database.pool.query<{ n: number }>(
          "select count(*)::int as n from deliveries where event_id = any($1) and status = 'succeeded'",
          [acceptedIds],
        );
        return r.rows[0]?.n === MESSAGES;
      },
      { what: "every accepted event delivered", timeoutMs: 60_000 },
    );
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
