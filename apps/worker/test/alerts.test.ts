// alerts: against real destinations on loopback: a circuit that opens and deliveries that fail
// for good reach a signed Standard Webhooks destination and a Slack-format one; bursts are
// coalesced with a count; a destination that is down is retried and slows no delivery; a
// backlog passing its threshold is told once.
import { connectDatabase, type Database, setTargetPaused } from "@hookline/db";
import { bullPrefix } from "@hookline/queue";
import {
  CLAUSUM_SECRET,
  clausumBody,
  closeAll,
  eventually,
  freePort,
  type Isolated,
  isolate,
  loadTestConfig,
  observeWorker,
  type ReceivedRequest,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ALERT_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
// A Slack incoming webhook's path is its credential: it must never reach a log.
const SLACK_PATH = "/services/T0001/B0001/slackcredential0123456789";

let iso: Isolated;
let target: Sink;
let ops: Sink;
let slack: Sink;
let stack: Stack;
let database: Database;
let deadPort: number;
/** Each target's pause state as the worker applies it (it reads Postgres every half second). */
const pausedSeen = new Map<string, boolean>();

interface AlertBody {
  type: string;
  timestamp: string;
  data: Record<string, string | number | null> & { target_id: string; count: number };
}

const alertsOf = (sink: Sink, type: string): AlertBody[] =>
  sink.received.map((r) => JSON.parse(r.body.toString()) as AlertBody).filter((b) => b.type === type);
// "broken" builds a backlog too once its circuit is open: these tests watch "held".
const heldBacklogAlerts = () => alertsOf(ops, "backlog.high").filter((a) => a.data.target_id === "held");

function verified(request: ReceivedRequest): unknown {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) if (typeof v === "string") headers[k] = v;
  return new Webhook(ALERT_SECRET).verify(request.body.toString(), headers);
}

beforeAll(async () => {
  iso = await isolate("alerts");
  target = await startSink();
  ops = await startSink();
  slack = await startSink();
  deadPort = await freePort();
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  const config = loadTestConfig(`
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
  - id: broken
    url: http://127.0.0.1:${deadPort}/nobody-home
    retry: { schedule: [] }
    circuit_breaker: { failure_threshold: 2, cooldown: 10m }
  - id: healthy
    url: ${target.url}/hooks
  - id: held
    url: ${target.url}/held
  - id: shaped
    url: ${target.url}/shaped
routes:
  - { source: clausum, events: ["fraud.*"], targets: [broken, healthy, held] }
  - source: clausum
    events: ["shape.*"]
    targets: [shaped]
    transform: '$error("no shape for " & event)'

alerts:
  - url: ${ops.url}/ops
    signing_secret: "${ALERT_SECRET}"
    events: [circuit.opened, delivery.failed, backlog.high]
    backlog_threshold: 2
  - url: ${slack.url}${SLACK_PATH}
    format: slack
    events: [delivery.failed]
`);
  await database.pool.query("select 1");
  await setTargetPaused(database.pool, "held", { paused: true, reason: "alerts test" });
  stack = await startStack(iso, config, {
    alertTiming: { windowMs: 1_500, backlogCheckMs: 200 },
    workerObserver: observeWorker({ targetPaused: (id, paused) => pausedSeen.set(id, paused) }),
  });
});

afterAll(async () => {
  await closeAll(stack, target, ops, slack, database, iso);
});

describe("alerts", () => {
  it("tells a signed destination and a Slack one, coalesces a burst, and slows no delivery", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await sendSigned(stack, "clausum", clausumBody("fraud.detected", `case_alert_${i}`));
      expect(res.status).toBe(202);
    }
    // The healthy target gets every event, whatever the broken one does.
    await eventually(() => target.received.filter((r) => r.path === "/hooks").length === 3, {
      what: "three deliveries to the healthy target",
    });

    // Two failures open the circuit (threshold 2); the third delivery waits behind it.
    await eventually(() => alertsOf(ops, "circuit.opened").length === 1, { what: "circuit.opened" });
    const opened = alertsOf(ops, "circuit.opened")[0];
    expect(opened?.data).toMatchObject({ target_id: "broken", count: 1, failure_threshold: 2 });

    // delivery.failed: the first at once, the second in the minute's summary with its count.
    await eventually(() => alertsOf(ops, "delivery.failed").length === 2, {
      what: "delivery.failed, then its summary",
      timeoutMs: 15_000,
    });
    const [first, summary] = alertsOf(ops, "delivery.failed");
    const failed = await database.pool.query<{ id: string }>(
      "select id from deliveries where target_id = 'broken' and status = 'failed'",
    );
    // Attempts admitted before the circuit opened all fail: every failure is counted once.
    expect(first?.data.count).toBe(1);
    expect((first?.data.count ?? 0) + (summary?.data.count ?? 0)).toBe(failed.rows.length);
    expect(failed.rows.map((r) => r.id)).toEqual(
      expect.arrayContaining([first?.data.delivery_id, summary?.data.delivery_id]),
    );
    expect(first?.data.reason).toMatch(/ECONNREFUSED|connect/i);

    // Standard Webhooks, verified with the reference library.
    for (const request of ops.received) {
      expect(request.headers["content-type"]).toBe("application/json");
      expect(verified(request)).toBeTruthy();
    }

    // Slack: {"text": ...}, unsigned.
    await eventually(() => slack.received.length >= 1, { what: "the Slack alert" });
    const text = JSON.parse(slack.received[0]?.body.toString() ?? "{}") as { text?: string };
    expect(text.text).toContain("delivery.failed for target broken");
    expect(slack.received[0]?.headers["webhook-signature"]).toBeUndefined();
    expect(slack.received[0]?.path).toBe(SLACK_PATH);

    // Nothing secret in the logs: the Slack path, the signing secret.
    const logs = stack.logs.text();
    expect(logs).not.toContain("slackcredential");
    expect(logs).not.toContain(ALERT_SECRET.slice(6));
    // Nor in Redis: jobs name a destination by a digest of its URL.
    const redis = new Redis(iso.redisUrl);
    try {
      const keys = await redis.keys(`${bullPrefix(iso.queuePrefix)}:alerts:*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        if ((await redis.type(key)) !== "hash") continue;
        const fields = Object.values(await redis.hgetall(key)).join(" ");
        expect(fields).not.toContain("slackcredential");
        expect(fields).not.toContain(ALERT_SECRET.slice(6));
      }
    } finally {
      redis.disconnect();
    }
  });

  it("backlog.high fires once when a backlog passes the threshold", async () => {
    // "held" is paused: its three deliveries wait, over the threshold of 2.
    await eventually(() => heldBacklogAlerts().length >= 1, { what: "backlog.high" });
    const alert = heldBacklogAlerts()[0];
    expect(alert?.data).toMatchObject({ target_id: "held", backlog: 3, threshold: 2 });
    // Checks keep running every 200 ms; the backlog stays high, and no second alert comes.
    const checksBefore = Date.now();
    await eventually(() => Date.now() - checksBefore > 1_000, { what: "a few more checks" });
    expect(heldBacklogAlerts()).toHaveLength(1);
  });

  it("a destination that refuses is retried with the same alert id, and slows no delivery", async () => {
    // Drain "held" (its backlog falls under the threshold, which re-arms backlog.high), then hold
    // it again with three new events: a second backlog.high, which the destination refuses once.
    await setTargetPaused(database.pool, "held", { paused: false });
    await eventually(() => pausedSeen.get("held") === false, { what: "the worker to resume 'held'" });
    await eventually(() => target.received.filter((r) => r.path === "/held").length === 3, {
      what: "the held deliveries, once resumed",
    });
    // The monitor forgets "above" once it sees the backlog under the threshold.
    await eventually(async () => (await aboveKeys()).length === 0, { what: "backlog.high re-armed" });
    await setTargetPaused(database.pool, "held", { paused: true, reason: "again" });
    await eventually(() => pausedSeen.get("held") === true, { what: "the worker to hold 'held' again" });
    let refused = 0;
    ops.respond((req) => {
      const body = JSON.parse(req.body.toString()) as AlertBody;
      if (body.type === "backlog.high" && body.data.target_id === "held" && refused === 0) {
        refused++;
        return { status: 503, body: "busy" };
      }
      return { status: 200, body: "ok" };
    });
    const healthyBefore = target.received.filter((r) => r.path === "/hooks").length;
    for (let i = 0; i < 3; i++)
      expect(
        (await sendSigned(stack, "clausum", clausumBody("fraud.detected", `case_again_${i}`))).status,
      ).toBe(202);
    await eventually(() => target.received.filter((r) => r.path === "/hooks").length === healthyBefore + 3, {
      what: "the new deliveries to the healthy target",
    });
    await eventually(() => heldBacklogAlerts().length === 3, {
      what: "backlog.high refused once, then sent again",
      timeoutMs: 20_000,
    });
    const tries = ops.received
      .filter((r) => {
        const body = JSON.parse(r.body.toString()) as AlertBody;
        return body.type === "backlog.high" && body.data.target_id === "held";
      })
      .slice(1);
    expect(tries[0]?.headers["webhook-id"]).toBe(tries[1]?.headers["webhook-id"]);
    // The healthy deliveries did not wait for the alert's retry.
    const lastHealthy = Math.max(...target.received.filter((r) => r.path === "/hooks").map((r) => r.at));
    expect(lastHealthy).toBeLessThan(tries[1]?.at ?? 0);
    const retryLine = stack.logs
      .text()
      .split("\n")
      .find((l) => l.includes("alert not delivered; retrying"));
    expect(retryLine).toContain(`"destination":"${ops.url}/…"`);
  });

  it("a delivery created failed (its transform erred) is a delivery.failed alert too", async () => {
    ops.respond(() => ({ status: 200, body: "ok" }));
    expect((await sendSigned(stack, "clausum", clausumBody("shape.broken", "case_shape"))).status).toBe(202);
    await eventually(() => alertsOf(ops, "delivery.failed").some((a) => a.data.target_id === "shaped"), {
      what: "delivery.failed for the transform's target",
    });
    const alert = alertsOf(ops, "delivery.failed").find((a) => a.data.target_id === "shaped");
    const failed = await database.pool.query<{ id: string; event_id: string }>(
      "select id, event_id from deliveries where target_id = 'shaped' and status = 'failed'",
    );
    expect(failed.rows).toHaveLength(1);
    expect(alert?.data).toMatchObject({
      delivery_id: failed.rows[0]?.id,
      event_id: failed.rows[0]?.event_id,
      reason: "transform_error",
      count: 1,
    });
  });
});

async function aboveKeys(): Promise<string[]> {
  const redis = new Redis(iso.redisUrl);
  try {
    return await redis.keys(`${bullPrefix(iso.queuePrefix)}:alerts:backlog-above:held:*`);
  } finally {
    redis.disconnect();
  }
}
