// What a target can do to a forwarded request, and what Hookline records: redirects, a connect
// that never completes, answers too large, binary or cut short, and signatures under rotation.
import { connectDatabase, type Database } from "@hookline/db";
import {
  type Blackhole,
  closeAll,
  deliveryQueueIdle,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  sendSigned,
  startBlackhole,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAUSUM_SECRET, clausumBody } from "./helpers";

const ROTATING_SECRETS = [
  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
] as const;
const UNRELATED_SECRET = "whsec_tGg8pDxDcjPuvDa7gTBD0m0cBSj8QNZ5";

const BIG_BODY = `${"A".repeat(4000)}${"B".repeat(200)}${"C".repeat(6000)}`;
const UTF8_BODY = `a${"é".repeat(5000)}`; // 10,001 bytes: byte 4,096 falls inside a character

let iso: Isolated;
let redirector: Sink;
let landing: Sink;
let chatty: Sink;
let hanging: Sink;
let rotating: Sink;
let blackhole: Blackhole;
let stack: Stack;
let database: Database;

interface DeliveryState {
  id: string;
  status: string;
  attempt_count: number;
  last_status_code: number | null;
  last_error: string | null;
}

interface AttemptState {
  attempt_number: number;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
  duration_ms: number | null;
}

async function send(event: string, caseId: string): Promise<string> {
  const res = await sendSigned(stack, "clausum", clausumBody(event, caseId));
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** Waits until the event's delivery to `targetId` is final, then returns it with its attempts. */
async function settled(eventId: string, targetId: string, status: "succeeded" | "failed") {
  const delivery = await eventually(
    async () => {
      const r = await database.pool.query<DeliveryState>(
        "select id, status, attempt_count, last_status_code, last_error from deliveries where event_id = $1 and target_id = $2",
        [eventId, targetId],
      );
      const d = r.rows[0];
      return d?.status === status && d;
    },
    { what: `${targetId} delivery of ${eventId} to be ${status}`, timeoutMs: 30_000 },
  );
  const attempts = await database.pool.query<AttemptState>(
    `select attempt_number, status_code, response_body, error, duration_ms
     from delivery_attempts where delivery_id = $1 order by attempt_number`,
    [delivery.id],
  );
  return { delivery, attempts: attempts.rows };
}

/** Requests a sink got for one event. */
const receivedFor = (sink: Sink, eventId: string) =>
  sink.received.filter((r) => r.headers["webhook-id"] === eventId);

beforeAll(async () => {
  iso = await isolate("forwarding");
  landing = await startSink();
  redirector = await startSink((req) => {
    const status = Number(String(req.headers["hookline-event-type"]).split(".")[1]);
    return { status, headers: { location: `${landing.url}/landed` }, body: "moved" };
  });
  chatty = await startSink((req) => {
    const type = String(req.headers["hookline-event-type"]);
    const attempt = Number(req.headers["hookline-attempt"]);
    switch (type) {
      case "chatty.big":
        return { status: 200, body: BIG_BODY };
      case "chatty.utf8":
        return { status: 200, body: UTF8_BODY };
      case "chatty.binary":
        return {
          status: 200,
          body: "ok\u0000\u0001binary\u0000tail",
          headers: { "content-type": "image/png" },
        };
      case "chatty.cut200":
        return { status: 200, body: "0123456789".repeat(10), truncate: 10 };
      case "chatty.cut500":
        return { status: 500, body: "0123456789".repeat(10), truncate: 10 };
      case "chatty.drop":
        return attempt === 1 ? "destroy" : { status: 200, body: "second time lucky" };
      default:
        return { status: 200 };
    }
  });
  hanging = await startSink(() => "hang");
  rotating = await startSink();
  blackhole = await startBlackhole();
  const config = loadTestConfig(`
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
  - id: redirect
    url: ${redirector.url}/moved
    retry: { schedule: [100ms, 100ms] }
  - id: blackhole
    url: ${blackhole.url}/never
    connect_timeout: 300ms
    timeout: 10s
    retry: { schedule: [100ms] }
  - id: hanging
    url: ${hanging.url}/slow
    timeout: 300ms
    retry: { schedule: [100ms] }
  - id: chatty
    url: ${chatty.url}/chatty
    timeout: 2s
    retry: { schedule: [100ms, 100ms] }
    circuit_breaker: { failure_threshold: 1000 }
  - id: rotating
    url: ${rotating.url}/signed
    signing_secrets: ["${ROTATING_SECRETS[0]}", "${ROTATING_SECRETS[1]}"]
routes:
  - { source: clausum, events: ["redirect.*"], targets: [redirect] }
  - { source: clausum, events: ["blackhole.*"], targets: [blackhole] }
  - { source: clausum, events: ["hanging.*"], targets: [hanging] }
  - { source: clausum, events: ["chatty.*"], targets: [chatty] }
  - { source: clausum, events: ["rotating.*"], targets: [rotating] }
`);
  stack = await startStack(iso, config);
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(stack, database, redirector, landing, chatty, hanging, rotating, blackhole, iso));

describe("redirects", () => {
  it.each([301, 302, 303, 307, 308])("a %i is not followed and fails at once", async (code) => {
    const id = await send(`redirect.${code}`, `redirect-${code}`);
    const { delivery, attempts } = await settled(id, "redirect", "failed");
    expect(delivery.attempt_count).toBe(1);
    expect(delivery.last_status_code).toBe(code);
    expect(delivery.last_error).toBe(`HTTP ${code}`);
    expect(attempts).toMatchObject([{ attempt_number: 1, status_code: code, response_body: "moved" }]);
    expect(receivedFor(redirector, id)).toHaveLength(1);
    expect(landing.received).toHaveLength(0);
  });
});

describe("timeouts", () => {
  it("a connect that never completes times out, is retried, and records each try", async () => {
    const id = await send("blackhole.test", "bh-1");
    const { delivery, attempts } = await settled(id, "blackhole", "failed");
    expect(delivery.attempt_count).toBe(2);
    expect(delivery.last_status_code).toBeNull();
    expect(delivery.last_error).toBe("connect timeout; no attempts left");
    expect(attempts.map((a) => [a.status_code, a.error])).toEqual([
      [null, "connect timeout"],
      [null, "connect timeout; no attempts left"],
    ]);
    // The connect timeout (300ms), not the request timeout (10s), ended each try.
    for (const a of attempts) expect(a.duration_ms).toBeLessThan(10_000);
  });

  it("a target that accepts and never answers hits the request timeout, and is retried", async () => {
    const id = await send("hanging.test", "hang-1");
    const { delivery, attempts } = await settled(id, "hanging", "failed");
    expect(delivery.attempt_count).toBe(2);
    expect(attempts.map((a) => a.error)).toEqual([
      "timeout after 300 ms",
      "timeout after 300 ms; no attempts left",
    ]);
    expect(receivedFor(hanging, id)).toHaveLength(2);
  });
});

describe("what a target answers", () => {
  it("keeps the first 4 KiB of a larger answer", async () => {
    const id = await send("chatty.big", "big-1");
    const { attempts } = await settled(id, "chatty", "succeeded");
    expect(attempts).toHaveLength(1);
    expect(attempts[0]?.response_body).toBe(BIG_BODY.slice(0, 4096));
  });

  it("cuts a UTF-8 answer at a character boundary, never past 4 KiB", async () => {
    const id = await send("chatty.utf8", "utf8-1");
    const { attempts } = await settled(id, "chatty", "succeeded");
    const kept = attempts[0]?.response_body ?? "";
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(kept)).toBeGreaterThan(4090);
    expect(UTF8_BODY.startsWith(kept)).toBe(true);
  });

  it("records a binary answer (NUL bytes included) and sends the event once", async () => {
    const id = await send("chatty.binary", "bin-1");
    const { delivery, attempts } = await settled(id, "chatty", "succeeded");
    expect(delivery.attempt_count).toBe(1);
    expect(attempts[0]?.response_body).toContain("binary");
    expect(attempts[0]?.response_body).not.toContain("\u0000");
    // Nothing is re-sent because the answer could not be stored: no job is left that could.
    await deliveryQueueIdle(stack, "chatty");
    expect(receivedFor(chatty, id)).toHaveLength(1);
  });

  it("a 200 whose body is cut short counts as delivered, with what arrived", async () => {
    const id = await send("chatty.cut200", "cut-1");
    const { delivery, attempts } = await settled(id, "chatty", "succeeded");
    expect(delivery.attempt_count).toBe(1);
    expect(attempts[0]).toMatchObject({ status_code: 200, response_body: "0123456789" });
  });

  it("a 500 whose body is cut short is retried like any 500", async () => {
    const id = await send("chatty.cut500", "cut-2");
    const { delivery, attempts } = await settled(id, "chatty", "failed");
    expect(delivery.attempt_count).toBe(3);
    expect(attempts.map((a) => a.status_code)).toEqual([500, 500, 500]);
    expect(receivedFor(chatty, id)).toHaveLength(3);
  });

  it("a connection closed before any answer is a retried connection error", async () => {
    const id = await send("chatty.drop", "drop-1");
    const { attempts } = await settled(id, "chatty", "succeeded");
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.status_code).toBeNull();
    expect(attempts[0]?.error).toMatch(/^connection error \(/);
    expect(attempts[1]).toMatchObject({ status_code: 200, response_body: "second time lucky", error: null });
  });
});

describe("outbound signing with rotation", () => {
  it("signs with every secret, and each secret alone verifies", async () => {
    const id = await send("rotating.test", "rot-1");
    await settled(id, "rotating", "succeeded");
    const [got] = receivedFor(rotating, id);
    const headers = {
      "webhook-id": String(got?.headers["webhook-id"]),
      "webhook-timestamp": String(got?.headers["webhook-timestamp"]),
      "webhook-signature": String(got?.headers["webhook-signature"]),
    };
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    for (const secret of ROTATING_SECRETS) {
      expect(() => new Webhook(secret).verify(got?.body.toString("utf8") ?? "", headers)).not.toThrow();
    }
    expect(() => new Webhook(UNRELATED_SECRET).verify(got?.body.toString("utf8") ?? "", headers)).toThrow();
  });
});
