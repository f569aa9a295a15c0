// Targets: the listing, and pause and resume end to end (API -> Postgres -> every worker's
// queues), against a real gateway, worker, Postgres, Redis and loopback targets.
import {
  type AdminErrorBody,
  type RunningAdminServer,
  startAdminServer,
  type TargetJson,
} from "@hookline/admin";
import type { HooklineConfig } from "@hookline/config";
import { connectDatabase, type Database } from "@hookline/db";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import { startWorker } from "@hookline/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminConfig, api, clausumBody, json } from "./helpers";

let iso: Isolated;
let held: Sink;
let other: Sink;
let flaky: Sink;
let stack: Stack;
let admin: RunningAdminServer;
let database: Database;
let config: HooklineConfig;

/** A pause takes hold in every worker within this long (each reads the state every 500 ms). */
const PAUSE_PROPAGATION_MS = 1_100;

beforeAll(async () => {
  iso = await isolate("targets");
  held = await startSink();
  other = await startSink();
  flaky = await startSink((_req, i) => (i === 0 ? { status: 500 } : { status: 200 }));
  config = loadTestConfig(
    adminConfig(
      {
        held: { sink: held, extra: "    concurrency: 1\n" },
        other: { sink: other },
        flaky: { sink: flaky, schedule: "1s" },
      },
      `  - { source: clausum, events: ["held.*"], targets: [held] }
  - { source: clausum, events: ["other.*"], targets: [other] }
  - { source: clausum, events: ["flaky.*"], targets: [flaky] }`,
    )
      .replace("url: http://", "url: http://user:s3cret@")
      .replace("/held\n", "/held?token=q5ecret-in-query\n"),
  );
  await startEverything();
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

/** Gateway, worker and admin server, as a deploy starts them. */
async function startEverything() {
  stack = await startStack(iso, config);
  admin = await startAdminServer({
    ...stack.shared,
    port: 0,
    host: "127.0.0.1",
    adminToken: "admin-test-token-9f8e7d6c5b4a39281706",
    circuitState: (id) => stack.worker?.circuits.get(id)?.state,
  });
}

afterAll(() => closeAll(admin, stack, database, held, other, flaky, iso));

async function send(event: string, caseId: string): Promise<string> {
  const res = await sendSigned(stack, "clausum", clausumBody(event, caseId));
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const deliveryOf = async (eventId: string) =>
  (
    await database.pool.query<{ status: string; attempt_count: number }>(
      "select status, attempt_count from deliveries where event_id = $1",
      [eventId],
    )
  ).rows[0];

const target = async (id: string) => json<TargetJson>(await api(admin, `/api/targets/${id}`));
const pause = (id: string, body?: unknown) =>
  api(admin, `/api/targets/${id}/pause`, { method: "POST", ...(body === undefined ? {} : { body }) });
const resume = (id: string) => api(admin, `/api/targets/${id}/resume`, { method: "POST" });

describe("GET /api/targets", () => {
  it("lists every configured target with its state, circuit and backlog, its URL without secrets", async () => {
    const res = await api(admin, "/api/targets");
    expect(res.status).toBe(200);
    const { data } = await json<{ data: TargetJson[] }>(res);
    expect(data.map((t) => t.id)).toEqual(["held", "other", "flaky"]);
    const first = data[0] as TargetJson;
    expect(first).toMatchObject({
      type: "http",
      paused: false,
      paused_at: null,
      paused_reason: null,
      circuit: "closed",
      backlog: 0,
      oldest_pending_at: null,
    });
    // Shown as the dashboard shows it: no credentials, no query string (either may hold a secret).
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/held\?…$/);
    expect(JSON.stringify(data)).not.toContain("s3cret");
    expect(JSON.stringify(data)).not.toContain("q5ecret");
  });

  it("answers 404 target_not_found for an unknown target, and 400 for a bad reason", async () => {
    for (const res of [await api(admin, "/api/targets/nope"), await pause("nope"), await resume("nope")]) {
      expect(res.status).toBe(404);
      expect((await json<AdminErrorBody>(res)).code).toBe("target_not_found");
    }
    for (const body of [{ reason: 42 }, { reason: "x".repeat(501) }, { reason: "a\u0000b" }, "[1]"]) {
      const res = await pause("held", body);
      expect(res.status).toBe(400);
      expect((await json<AdminErrorBody>(res)).code).toBe("invalid_body");
    }
    expect((await target("held")).paused).toBe(false);
  });
});

describe("pause and resume", () => {
  it("is lossless: while paused deliveries are created and wait; resume sends them, oldest first", async () => {
    const paused = await pause("held", { reason: "target deploy" });
    expect(paused.status).toBe(200);
    const state = await json<TargetJson>(paused);
    expect(state).toMatchObject({ id: "held", paused: true, paused_reason: "target deploy" });
    expect(state.paused_at).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, PAUSE_PROPAGATION_MS));

    // One at a time, so that acceptance order is creation order.
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4, 5]) {
      ids.push(await send("held.event", `held-${n}`));
      const id = ids.at(-1) as string;
      await eventually(async () => (await deliveryOf(id)) !== undefined);
    }
    // Barrier: an event accepted after them reached its own target, so the worker has handled them.
    await send("other.event", "after");
    await other.waitFor(1, 5_000);
    expect(held.received.length).toBe(0);
    for (const id of ids) expect(await deliveryOf(id)).toEqual({ status: "pending", attempt_count: 0 });
    const waiting = await target("held");
    expect(waiting.backlog).toBe(5);
    expect(waiting.oldest_pending_at).not.toBeNull();
    const metrics = await (await fetch(`${admin.url}/metrics`)).text();
    expect(metrics).toContain('hookline_target_backlog{target="held"} 5');
    const oldest = /hookline_target_oldest_pending_seconds\{target="held"\} ([\d.e-]+)/.exec(metrics);
    expect(Number(oldest?.[1])).toBeGreaterThan(0);

    // It outlives every process: restarted, the worker reads the state before it runs a job,
    // and the admin API still shows it.
    await admin.close();
    await stack.close();
    await startEverything();
    expect(await target("held")).toMatchObject({ paused: true, paused_reason: "target deploy", backlog: 5 });
    const late = await send("held.event", "held-6");
    ids.push(late);
    await send("other.event", "after-restart");
    await other.waitFor(2, 5_000);
    await eventually(async () => (await deliveryOf(late)) !== undefined);
    expect(held.received.length).toBe(0);

    const resumed = await resume("held");
    expect(resumed.status).toBe(200);
    expect(await json<TargetJson>(resumed)).toMatchObject({
      paused: false,
      paused_at: null,
      paused_reason: null,
    });
    await held.waitFor(6, 10_000);
    expect(held.received.map((r) => r.headers["webhook-id"])).toEqual(ids);
    for (const id of ids)
      await eventually(async () => (await deliveryOf(id))?.status === "succeeded", {
        what: `${id} delivered`,
      });
    expect((await target("held")).backlog).toBe(0);
  });

  it("holds a retry that falls due while paused, without using an attempt", async () => {
    const id = await send("flaky.event", "flaky-1");
    await eventually(async () => (await deliveryOf(id))?.status === "retrying");
    expect((await pause("flaky")).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_PROPAGATION_MS));
    // The retry was due 1 s after the first attempt; by now it is overdue and held.
    expect(await deliveryOf(id)).toEqual({ status: "retrying", attempt_count: 1 });
    expect(flaky.received.length).toBe(1);
    expect((await resume("flaky")).status).toBe(200);
    await eventually(async () => (await deliveryOf(id))?.status === "succeeded");
    expect(await deliveryOf(id)).toEqual({ status: "succeeded", attempt_count: 2 });
  });

  it("holds in every worker process: none makes a first attempt to a paused target", async () => {
    // A second worker beside the stack's: each reads the state and keeps its own first attempts back.
    const second = await startWorker({
      ...stack.shared,
      config: {
        ...stack.config,
        worker: { ...stack.config.worker, lockDurationMs: 2_000, stalledIntervalMs: 500 },
      },
    });
    try {
      expect((await pause("other")).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, PAUSE_PROPAGATION_MS));
      const before = other.received.length;
      const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => send("other.event", `multi-${n}`)));
      // A first attempt is opened by the statement that creates the delivery: had either worker
      // sent one, its delivery would show attempt 1 from the start.
      for (const id of ids) await eventually(async () => (await deliveryOf(id)) !== undefined);
      for (const id of ids) expect(await deliveryOf(id)).toEqual({ status: "pending", attempt_count: 0 });
      expect(other.received.length).toBe(before);
      expect((await resume("other")).status).toBe(200);
      await other.waitFor(before + 20, 10_000);
      for (const id of ids) await eventually(async () => (await deliveryOf(id))?.status === "succeeded");
    } finally {
      await second.close();
    }
  });
});
