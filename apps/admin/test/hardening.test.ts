// The admin API against what an attacker or a careless client sends: huge bodies, input that
// used to answer 500, token guessing from one address, and a target that echoes its credential
// into what the API shows. (The dashboard's login and sessions: apps/dashboard/test/hardening.test.ts.)
import { type RunningAdminServer, startAdminServer } from "@hookline/admin";
import { connectDatabase, type Database, encodeCursor, setAsideIngest } from "@hookline/db";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  rawHttp,
  requestFrom,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, adminConfig, api, clausumBody, json } from "./helpers";

const TARGET_TOKEN = "target-credential-5e4d3c2b1a09";

let iso: Isolated;
let echo: Sink;
let stack: Stack;
let admin: RunningAdminServer;
let database: Database;

beforeAll(async () => {
  iso = await isolate("admin-hardening");
  // The target fails at once and echoes the credential it was sent, as some error pages do.
  echo = await startSink((req) => ({
    status: 400,
    body: `bad request; you sent ${String(req.headers.authorization)}`,
  }));
  const config = loadTestConfig(
    adminConfig(
      { echo: { sink: echo, extra: `    headers: { Authorization: "Bearer ${TARGET_TOKEN}" }\n` } },
      `  - { source: clausum, events: ["*"], targets: [echo] }`,
    ),
  );
  stack = await startStack(iso, config);
  admin = await startAdminServer({
    ...stack.shared,
    port: 0,
    host: "127.0.0.1",
    adminToken: ADMIN_TOKEN,
  });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(async () => {
  await closeAll(admin, stack, database, echo, iso);
});

const code = async (res: { json(): Promise<unknown> }) => ((await res.json()) as { code?: string }).code;

describe("bodies", () => {
  it("a chunked JSON body without a length is cut off once past the limit", async () => {
    const chunk = "a".repeat(16 * 1024);
    let chunks = "";
    for (let i = 0; i < 16; i++) chunks += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    const exchange = await rawHttp(admin.port, [
      `POST /api/deliveries/retry HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
    ]);
    expect(exchange.responses[0]?.status).toBe(413);
    expect((await api(admin, "/api/deliveries")).status).toBe(200);
  });
});

describe("bad input answers 400, never 500", () => {
  const impossible = (at: string) => encodeCursor({ at, id: "evt_x" });
  it.each([
    [`/api/events?cursor=${impossible("2026-02-30T00:00:00.000000Z")}`, "invalid_cursor"],
    [`/api/events?cursor=${impossible("0000-01-01T00:00:00.000000Z")}`, "invalid_cursor"],
    [`/api/deliveries?cursor=${impossible("2026-02-30T00:00:00.000000Z")}`, "invalid_cursor"],
    ["/api/events?since=2026-02-30", "invalid_parameter"],
    ["/api/events?since=0000-01-01T00:00:00Z", "invalid_parameter"],
    ["/api/events?source=%00", "invalid_parameter"],
    ["/api/events?provider_id=%00", "invalid_parameter"],
    ["/api/deliveries?target=%00", "invalid_parameter"],
    ["/api/events/%00", "invalid_parameter"],
    ["/api/deliveries/%00", "invalid_parameter"],
  ])("GET %s → 400 %s", async (path, expected) => {
    const res = await api(admin, path);
    expect({ status: res.status, code: await code(res) }).toEqual({ status: 400, code: expected });
  });

  it("POST /api/deliveries/dlv_%00/retry → 400 invalid_parameter", async () => {
    const res = await api(admin, "/api/deliveries/dlv_%00/retry", { method: "POST" });
    expect({ status: res.status, code: await code(res) }).toEqual({ status: 400, code: "invalid_parameter" });
  });

  it("no string in a filter, a cursor or an id makes the API answer 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          "source",
          "type",
          "provider_id",
          "target",
          "status",
          "since",
          "until",
          "cursor",
          "limit",
        ),
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.string({ unit: "binary", maxLength: 40 }),
        async (name, value, id) => {
          const q = encodeURIComponent(value);
          const answers = await Promise.all([
            api(admin, `/api/events?${name}=${q}`),
            api(admin, `/api/deliveries?${name}=${q}`),
            api(admin, `/api/events/${encodeURIComponent(id)}`),
            api(admin, `/api/deliveries/${encodeURIComponent(id)}`),
          ]);
          for (const res of answers) {
            await res.arrayBuffer();
            expect(res.status).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("redaction", () => {
  it("the API shows a target's echoed credential as [redacted], as the dashboard does", async () => {
    const res = await sendSigned(stack, "clausum", clausumBody("case.created", "c-echo"));
    const { id } = (await res.json()) as { id: string };
    const detail = await eventually(async () => {
      const answer = await json<{
        deliveries: { status: string; attempts: { response_body: string | null }[] }[];
      }>(await api(admin, `/api/events/${id}`));
      return answer.deliveries[0]?.status === "failed" ? answer : undefined;
    });
    const body = detail.deliveries[0]?.attempts[0]?.response_body ?? "";
    expect(body).toContain("[redacted]");
    expect(JSON.stringify(detail)).not.toContain(TARGET_TOKEN);
  });
});

describe("guessing the admin token", () => {
  it("an address that keeps failing on the API gets 429, even with the right token; others are not affected", async () => {
    const attacker = (url: string, init = {}) => requestFrom("127.0.0.2", url, init);
    const ops = (url: string, init = {}) => requestFrom("127.0.0.1", url, init);
    const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 10; i++)
      expect((await attacker(`${admin.url}/api/events`, auth(`guess-${i}`))).status).toBe(401);
    const locked = await attacker(`${admin.url}/api/events`, auth(ADMIN_TOKEN));
    expect(locked.status).toBe(429);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    expect((JSON.parse(locked.text) as { code: string }).code).toBe("too_many_failures");
    expect((await ops(`${admin.url}/api/events`, auth(ADMIN_TOKEN))).status).toBe(200);
  });
});

describe("ingest failures", () => {
  it("GET /api/ingest-failures lists set-aside jobs, newest first, without their data", async () => {
    await setAsideIngest(database.pool, {
      id: "evt_setaside1",
      sourceId: "clausum",
      eventIds: ["evt_setaside1"],
      reason: "data_exception",
      error: 'invalid byte sequence for encoding "UTF8": 0x00',
      job: { eventId: "evt_setaside1", body: "c2VjcmV0LWJvZHk=" },
    });
    const page = await json<{ data: Record<string, unknown>[]; next_cursor: string | null }>(
      await api(admin, "/api/ingest-failures"),
    );
    expect(page.data[0]).toMatchObject({
      id: "evt_setaside1",
      source_id: "clausum",
      event_ids: ["evt_setaside1"],
      reason: "data_exception",
    });
    expect(JSON.stringify(page)).not.toContain("c2VjcmV0LWJvZHk=");
  });
});
