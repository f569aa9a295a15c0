import { connectDatabase, type Database } from "@hookline/db";
import {
  closeAll,
  deliveryQueueIdle,
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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clausumBody, spineConfig } from "./helpers";

let iso: Isolated;
let flaky: Sink;
let strict: Sink;
let slow: Sink;
let fast: Sink;
let stack: Stack;
let database: Database;

interface DeliveryState {
  status: string;
  attempt_count: number;
  last_status_code: number | null;
  last_error: string | null;
}

const deliveryFor = async (eventId: string, targetId: string) =>
  (
    await database.pool.query<DeliveryState & { id: string }>(
      "select id, status, attempt_count, last_status_code, last_error from deliveries where event_id = $1 and target_id = $2",
      [eventId, targetId],
    )
  ).rows[0];

const attemptsFor = async (deliveryId: string) =>
  (
    await database.pool.query<{
      attempt_number: number;
      status_code: number | null;
      response_body: string | null;
      error: string | null;
    }>(
      "select attempt_number, status_code, response_body, error from delivery_attempts where delivery_id = $1 order by attempt_number",
      [deliveryId],
    )
  ).rows;

async function send(event: string, caseId: string): Promise<string> {
  const res = await sendSigned(stack, "clausum", clausumBody(event, caseId));
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  iso = await isolate("delivery");
  flaky = await startSink();
  strict = await startSink(() => ({ status: 400, body: "bad payload" }));
  slow = await startSink(() => "hang");
  fast = await startSink();
  const config = loadTestConfig(
    spineConfig(
      {
        flaky: { sink: flaky, extra: "    circuit_breaker: { failure_threshold: 100 }\n" },
        strict: { sink: strict },
        slow: { sink: slow, extra: "    concurrency: 2\n" },
        fast: { sink: fast },
      },
      `  - { source: clausum, events: ["retry.*"], targets: [flaky] }
  - { source: clausum, events: ["reject.*"], targets: [strict] }
  - { source: clausum, events: ["isolation.*"], targets: [slow, fast] }`,
    ),
  );
  stack = await startStack(iso, config);
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(stack, database, flaky, strict, slow, fast, iso));

describe("retries", () => {
  it("a target answering 500 twice then 200 leaves three attempt rows and `succeeded`", async () => {
    flaky.respond((_req, i) => (i < 2 ? { status: 500, body: `boom ${i}` } : { status: 200, body: "fine" }));
    const id = await send("retry.me", "r-1");
    const done = await eventually(async () => {
      const d = await deliveryFor(id, "flaky");
      return d?.status === "succeeded" && d;
    });
    expect(done.attempt_count).toBe(3);
    expect(done.last_status_code).toBe(200);
    const attempts = await attemptsFor(done.id);
    expect(attempts.map((a) => a.status_code)).toEqual([500, 500, 200]);
    expect(attempts.map((a) => a.response_body)).toEqual(["boom 0", "boom 1", "fine"]);
    // Every attempt carries the same webhook-id and its own attempt number.
    expect(new Set(flaky.received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([id]));
    expect(flaky.received.map((r) => r.headers["hookline-attempt"])).toEqual(["1", "2", "3"]);
  });

  it("gives up after 1 + schedule length attempts and marks the delivery failed", async () => {
    flaky.received.length = 0;
    flaky.respond(() => ({ status: 503, body: "down" }));
    const id = await send("retry.forever", "r-2");
    const done = await eventually(async () => {
      const d = await deliveryFor(id, "flaky");
      return d?.status === "failed" && d;
    });
    expect(done.attempt_count).toBe(4);
    expect(done.last_error).toContain("no attempts left");
    expect((await attemptsFor(done.id)).length).toBe(4);
  });

  it("honours Retry-After", async () => {
    flaky.received.length = 0;
    flaky.respond((_r, i) => (i === 0 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }));
    const id = await send("retry.later", "r-3");
    await eventually(async () => (await deliveryFor(id, "flaky"))?.status === "succeeded");
    const [first, second] = flaky.received;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("a 400 fails at once: one attempt, no retry", async () => {
    const id = await send("reject.me", "x-1");
    const done = await eventually(async () => {
      const d = await deliveryFor(id, "strict");
      return d?.status === "failed" && d;
    });
    expect(done.attempt_count).toBe(1);
    expect(done.last_status_code).toBe(400);
    await deliveryQueueIdle(stack, "strict");
    expect(strict.received.length).toBe(1);
  });
});

describe("isolation", () => {
  it("a target that hangs does not delay another", async () => {
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => send("isolation.test", `iso-${n}`)));
    // The fast target gets all five while the slow one holds its two connections open.
    await fast.waitFor(5, 5_000);
    // The attempt is logged just after the target answers: wait for the row, not the request.
    for (const id of ids) {
      await eventually(async () => (await deliveryFor(id, "fast"))?.status === "succeeded", {
        timeoutMs: 5_000,
        what: `fast delivery of ${id} succeeded`,
      });
    }
    expect(slow.received.length).toBeLessThanOrEqual(2);
    // The slow target times out (2s) and retries; it is still in progress, not lost.
    const states = await Promise.all(ids.map(async (id) => (await deliveryFor(id, "slow"))?.status));
    for (const s of states) expect(["pending", "retrying"]).toContain(s);
  });
});
