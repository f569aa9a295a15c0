// Isolation and back-pressure: a target that keeps failing is paused by its circuit breaker
// (its deliveries wait without using up attempts), probed, and resumed, while other targets
// carry on; a target's rate limit is honoured.
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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAUSUM_SECRET, clausumBody } from "./helpers";

const THRESHOLD = 3;
const RATE = { max: 4, windowMs: 2_000 };

let iso: Isolated;
let flaky: Sink;
let steady: Sink;
let limited: Sink;
let probed: Sink;
let probedDown = true;
let stack: Stack;
let database: Database;
let flakyDown = true;
const answered = { failed: 0, succeeded: 0 };

async function send(event: string, caseId: string): Promise<string> {
  const res = await sendSigned(stack, "clausum", clausumBody(event, caseId));
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** The circuit changes the worker logged for a target, in order: "open", "half_open", "closed". */
function circuitChanges(targetId: string): string[] {
  return stack.logs.lines
    .map((line) => JSON.parse(line) as { target?: string; to?: string; msg?: string })
    .filter((l) => l.target === targetId && l.msg?.startsWith("circuit ") && l.to !== undefined)
    .map((l) => String(l.to));
}

const deliveriesTo = async (targetId: string, eventIds: readonly string[]) =>
  (
    await database.pool.query<{ status: string; attempt_count: number; next_attempt_at: Date | null }>(
      "select status, attempt_count, next_attempt_at from deliveries where target_id = $1 and event_id = any($2)",
      [targetId, eventIds],
    )
  ).rows;

beforeAll(async () => {
  iso = await isolate("circuit");
  flaky = await startSink(() => {
    if (flakyDown) {
      answered.failed++;
      return { status: 503, body: "down" };
    }
    answered.succeeded++;
    return { status: 200 };
  });
  steady = await startSink();
  limited = await startSink();
  probed = await startSink(() => (probedDown ? { status: 503 } : { status: 200 }));
  const config = loadTestConfig(`
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
  - id: flaky
    url: ${flaky.url}/flaky
    concurrency: 1
    retry: { schedule: [100ms, 100ms, 100ms, 100ms, 100ms] }
    circuit_breaker: { failure_threshold: ${THRESHOLD}, cooldown: 1s }
  - id: steady
    url: ${steady.url}/steady
  - id: probed
    url: ${probed.url}/probed
    concurrency: 1
    retry: { schedule: [100ms, 100ms, 100ms, 100ms, 100ms] }
    circuit_breaker: { failure_threshold: 2, cooldown: 500ms }
  - id: limited
    url: ${limited.url}/limited
    rate_limit: ${RATE.max}/${RATE.windowMs / 1000}s
    concurrency: 10
routes:
  - { source: clausum, events: ["circuit.*"], targets: [flaky, steady] }
  - { source: clausum, events: ["limit.*"], targets: [limited] }
  - { source: clausum, events: ["probe.*"], targets: [probed] }
`);
  stack = await startStack(iso, config);
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(stack, database, flaky, steady, limited, probed, iso));

describe("circuit breaker", () => {
  it("opens after N failures; deliveries wait without using attempts; a probe closes it", async () => {
    // Five retries 100 ms apart: without the circuit, every delivery would fail in half a second.
    const first = await Promise.all([1, 2, 3].map((n) => send("circuit.first", `first-${n}`)));
    await eventually(() => circuitChanges("flaky").includes("open"), { what: "the circuit to open" });
    expect(answered.failed).toBeGreaterThanOrEqual(THRESHOLD);

    // While it is open, new events wait for the target; the other target gets them at once.
    const waiting = await Promise.all([1, 2, 3].map((n) => send("circuit.second", `second-${n}`)));
    const all = [...first, ...waiting];
    await eventually(
      async () => (await deliveriesTo("steady", all)).filter((d) => d.status === "succeeded").length === 6,
      { what: "the steady target to get all six events" },
    );
    expect(stack.worker?.circuits.get("flaky")?.state).not.toBe("closed");
    expect(steady.received).toHaveLength(6);
    for (const d of await deliveriesTo("flaky", all)) expect(["pending", "retrying"]).toContain(d.status);

    // Down for a few cooldowns: one probe per cooldown reaches the target, fails, and re-opens it.
    await eventually(() => circuitChanges("flaky").filter((c) => c === "open").length >= 3, {
      what: "two failed probes",
      timeoutMs: 30_000,
    });
    flakyDown = false;
    await eventually(async () => (await deliveriesTo("flaky", all)).every((d) => d.status === "succeeded"), {
      what: "every flaky delivery to succeed",
      timeoutMs: 30_000,
    });

    const changes = circuitChanges("flaky");
    expect(changes.join(",")).toMatch(/^open(,half_open,open)*,half_open,closed$/);
    const probes = changes.filter((c) => c === "half_open").length;
    expect(probes).toBeGreaterThanOrEqual(3);
    // THRESHOLD failures opened it; every probe but the last failed; each delivery then succeeded once.
    expect(answered.failed).toBe(THRESHOLD + probes - 1);
    expect(answered.succeeded).toBe(6);
    // Every attempt is one request: no attempt was used up while the circuit held deliveries back.
    const attempts = (await deliveriesTo("flaky", all)).reduce((n, d) => n + d.attempt_count, 0);
    expect(attempts).toBe(flaky.received.length);
    expect(attempts).toBe(answered.failed + answered.succeeded);
    // Each change is logged as a warning naming the target.
    expect(stack.logs.text()).toContain('"msg":"circuit opened"');
    expect(stack.logs.text()).toContain('"msg":"circuit closed"');
  });
});

describe("circuit breaker and a failing database", () => {
  it("a probe that cannot record its attempt gives the probe back: the circuit still closes", async () => {
    const ids = await Promise.all([1, 2].map((n) => send("probe.test", `probe-${n}`)));
    await eventually(() => circuitChanges("probed").includes("open"), { what: "the circuit to open" });
    // Attempt rows cannot be written: the half-open probe fails before sending anything.
    await database.pool.query(
      "alter table delivery_attempts add constraint hold_attempts check (false) not valid",
    );
    try {
      await eventually(
        () =>
          stack.logs.lines.some((l) => l.includes('"queue":"deliver-probed"') && l.includes("job failed")),
        { what: "the probe's job to fail on the database", timeoutMs: 20_000 },
      );
    } finally {
      await database.pool.query("alter table delivery_attempts drop constraint hold_attempts");
    }
    probedDown = false;
    await eventually(async () => (await deliveriesTo("probed", ids)).every((d) => d.status === "succeeded"), {
      what: "both deliveries to succeed after the database recovers",
      timeoutMs: 30_000,
    });
    expect(circuitChanges("probed").at(-1)).toBe("closed");
  });
});

describe("rate limit", () => {
  it("starts at most rate_limit requests per window", async () => {
    const count = RATE.max * 3;
    await Promise.all(Array.from({ length: count }, (_, n) => send("limit.test", `limit-${n}`)));
    const got = await limited.waitFor(count, 30_000);
    const at = got.map((r) => r.at).sort((a, b) => a - b);
    // Windows are fixed: request i + 2·max starts at least one whole window after request i.
    // (Three quarters of it here, leaving room for one request's latency on a busy machine.)
    for (let i = 0; i + 2 * RATE.max < at.length; i++) {
      expect((at[i + 2 * RATE.max] ?? 0) - (at[i] ?? 0)).toBeGreaterThanOrEqual(RATE.windowMs * 0.75);
    }
  });
});
