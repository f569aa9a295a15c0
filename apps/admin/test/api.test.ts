import {
  type AdminErrorBody,
  AdminTokens,
  createAdminApp,
  type DeliveryJson,
  type DeliveryWithAttemptsJson,
  type EventDetailAnswer,
  type EventSummaryJson,
  type RunningAdminServer,
  startAdminServer,
} from "@hookline/admin";
import { connectDatabase, type Database } from "@hookline/db";
import { createLogger } from "@hookline/logger";
import { createMetrics } from "@hookline/metrics";
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
import { ADMIN_TOKEN, adminConfig, api, CLAUSUM_SECRET, clausumBody, json } from "./helpers";

let iso: Isolated;
let good: Sink;
let bad: Sink;
let stack: Stack;
let admin: RunningAdminServer;
let disabled: RunningAdminServer;
let database: Database;
const orders: string[] = [];
const audits: string[] = [];

type Page<T> = { data: T[]; next_cursor: string | null };

async function send(event: string, caseId: string): Promise<string> {
  const res = await sendSigned(stack, "clausum", clausumBody(event, caseId));
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function delivery(id: string): Promise<DeliveryWithAttemptsJson> {
  const res = await api(admin, `/api/deliveries/${id}`);
  expect(res.status).toBe(200);
  return json<DeliveryWithAttemptsJson>(res);
}

async function settled(): Promise<boolean> {
  const open = await database.pool.query("select 1 from deliveries where status in ('pending', 'retrying')");
  return open.rowCount === 0;
}

beforeAll(async () => {
  iso = await isolate("admin-api");
  good = await startSink();
  bad = await startSink(() => ({ status: 503, body: "down for maintenance" }));
  const config = loadTestConfig(
    adminConfig(
      {
        good: { sink: good },
        // Failing on purpose: keep the circuit closed so retries run at once.
        bad: { sink: bad, extra: "    circuit_breaker: { failure_threshold: 1000 }\n" },
      },
      `  - { source: clausum, events: ["order.*"], targets: [good, bad] }
  - { source: clausum, events: ["audit.*"], targets: [good] }`,
    ),
  );
  stack = await startStack(iso, config);
  const common = { ...stack.shared, port: 0, host: "127.0.0.1" };
  admin = await startAdminServer({ ...common, adminToken: ADMIN_TOKEN });
  disabled = await startAdminServer({ ...common, adminToken: null });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  for (const n of [1, 2, 3]) orders.push(await send("order.created", `order-${n}`));
  for (const n of [1, 2]) audits.push(await send("audit.logged", `audit-${n}`));
  await eventually(async () => (await database.pool.query("select 1 from deliveries")).rowCount === 8);
  await eventually(settled, { what: "every delivery to settle" });
});

afterAll(() => closeAll(admin, disabled, stack, database, good, bad, iso));

describe("authentication", () => {
  it("answers 401 without a token, naming the scheme", async () => {
    const res = await api(admin, "/api/events", { token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    const body = await json<AdminErrorBody>(res);
    expect(body.code).toBe("unauthorized");
    expect(body.request_id).toMatch(/^req_/);
    expect(res.headers.get("request-id")).toBe(body.request_id);
  });

  it("answers 401 to a wrong token, a near miss, or another scheme", async () => {
    for (const token of ["wrong", `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), ""]) {
      const res = await api(admin, "/api/events", { token });
      expect(res.status).toBe(401);
    }
    const basic = await fetch(`${admin.url}/api/events`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString("base64")}` },
    });
    expect(basic.status).toBe(401);
    // Every route under /api is behind the token, the mutating ones too.
    const retry = await api(admin, `/api/deliveries/retry`, { method: "POST", token: null, body: {} });
    expect(retry.status).toBe(401);
  });

  it("serves /metrics and /healthz without a token", async () => {
    const metrics = await fetch(`${admin.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect((await fetch(`${admin.url}/healthz`)).status).toBe(200);
  });

  it("without HOOKLINE_ADMIN_TOKEN the API is off and says why; /metrics still works", async () => {
    const res = await api(disabled, "/api/events", { token: "anything-at-all-here" });
    expect(res.status).toBe(503);
    const body = await json<AdminErrorBody>(res);
    expect(body.code).toBe("admin_api_disabled");
    expect(body.message).toContain("HOOKLINE_ADMIN_TOKEN");
    expect((await fetch(`${disabled.url}/metrics`)).status).toBe(200);
    expect(stack.logs.text()).toContain("admin API disabled");
  });

  it("never writes the token or a secret to the logs or to answers", async () => {
    const detail = await api(admin, `/api/events/${orders[0]}`);
    const text = await detail.text();
    expect(text).not.toContain(ADMIN_TOKEN);
    expect(text).not.toContain(CLAUSUM_SECRET);
    await api(admin, "/api/events", { token: `${ADMIN_TOKEN}-nope` });
    expect(stack.logs.text()).not.toContain(ADMIN_TOKEN);
  });

  it("leaves / free for the dashboard and answers unknown routes with a JSON 404", async () => {
    const res = await fetch(`${admin.url}/`);
    expect(res.status).toBe(404);
    expect((await json<AdminErrorBody>(res)).code).toBe("not_found");
  });
});

describe("listing events", () => {
  it("pages through every event newest first with an opaque cursor", async () => {
    const seen: EventSummaryJson[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Response = await api(admin, `/api/events?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      const page: Page<EventSummaryJson> = await json<Page<EventSummaryJson>>(res);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.map((e) => e.id).sort()).toEqual([...orders, ...audits].sort());
    const times = seen.map((e) => e.received_at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("filters by source, type, provider id and time", async () => {
    const byType = await json<Page<EventSummaryJson>>(
      await api(admin, "/api/events?source=clausum&type=audit.logged"),
    );
    expect(byType.data.map((e) => e.id).sort()).toEqual([...audits].sort());
    expect(byType.next_cursor).toBeNull();
    const first = byType.data[0];
    expect(first?.deliveries).toEqual({ pending: 0, retrying: 0, succeeded: 1, failed: 0 });

    const future = new Date(Date.now() + 60_000).toISOString();
    expect(
      (await json<Page<EventSummaryJson>>(await api(admin, `/api/events?since=${future}`))).data,
    ).toEqual([]);
    expect(
      (await json<Page<EventSummaryJson>>(await api(admin, `/api/events?until=${future}&since=1h`))).data,
    ).toHaveLength(5);
    expect((await json<Page<EventSummaryJson>>(await api(admin, "/api/events?source=nope"))).data).toEqual(
      [],
    );

    const withProvider = byType.data.find((e) => e.provider_id !== null);
    if (withProvider?.provider_id) {
      const found = await json<Page<EventSummaryJson>>(
        await api(admin, `/api/events?provider_id=${encodeURIComponent(withProvider.provider_id)}`),
      );
      expect(found.data.map((e) => e.id)).toEqual([withProvider.id]);
    }
  });

  it("rejects bad parameters with a code naming them", async () => {
    const cases: Array<[string, string, string]> = [
      ["/api/events?limit=0", "invalid_parameter", "limit"],
      ["/api/events?limit=abc", "invalid_parameter", "limit"],
      ["/api/events?since=last%20tuesday", "invalid_parameter", "since"],
      ["/api/events?cursor=not-a-cursor", "invalid_cursor", "cursor"],
      ["/api/deliveries?status=lost", "invalid_parameter", "status"],
    ];
    for (const [path, code, param] of cases) {
      const res = await api(admin, path);
      expect(res.status, path).toBe(400);
      const body = await json<AdminErrorBody>(res);
      expect(body.code, path).toBe(code);
      expect(body.message, path).toContain(param);
    }
  });
});

describe("listing deliveries", () => {
  it("filters by status, target, source and event", async () => {
    const failed = await json<Page<DeliveryJson>>(
      await api(admin, "/api/deliveries?status=failed&target=bad"),
    );
    expect(failed.data).toHaveLength(3);
    for (const d of failed.data) {
      expect(d.status).toBe("failed");
      expect(d.attempt_count).toBe(2);
      expect(d.last_status_code).toBe(503);
    }
    const ok = await json<Page<DeliveryJson>>(
      await api(admin, "/api/deliveries?status=succeeded&source=clausum"),
    );
    expect(ok.data).toHaveLength(5);
    const both = await json<Page<DeliveryJson>>(
      await api(admin, "/api/deliveries?status=failed,succeeded&since=1h"),
    );
    expect(both.data).toHaveLength(8);
    const ofEvent = await json<Page<DeliveryJson>>(await api(admin, `/api/deliveries?event=${orders[0]}`));
    expect(ofEvent.data.map((d) => d.target_id).sort()).toEqual(["bad", "good"]);
  });

  it("pages with a cursor without skipping or repeating", async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<DeliveryJson> = await json<Page<DeliveryJson>>(
        await api(admin, `/api/deliveries?limit=3${cursor ? `&cursor=${cursor}` : ""}`),
      );
      ids.push(...page.data.map((d) => d.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(ids).toHaveLength(8);
    expect(new Set(ids).size).toBe(8);
  });
});

describe("one event", () => {
  it("comes with its body, headers, deliveries and every attempt", async () => {
    const res = await api(admin, `/api/events/${orders[0]}`);
    expect(res.status).toBe(200);
    const event = await json<EventDetailAnswer>(res);
    expect(event.id).toBe(orders[0]);
    expect(event.body_encoding).toBe("utf8");
    expect(JSON.parse(event.body)).toMatchObject({ event: "order.created", data: { case_id: "order-1" } });
    expect(event.headers["content-type"]).toBe("application/json");
    const badDelivery = event.deliveries.find((d) => d.target_id === "bad");
    expect(badDelivery?.attempts.map((a) => [a.attempt_number, a.status_code])).toEqual([
      [1, 503],
      [2, 503],
    ]);
    expect(badDelivery?.attempts[0]?.response_body).toBe("down for maintenance");
  });

  it("404s an unknown event or delivery", async () => {
    const event = await api(admin, "/api/events/evt_nope");
    expect(event.status).toBe(404);
    expect((await json<AdminErrorBody>(event)).code).toBe("event_not_found");
    const d = await api(admin, "/api/deliveries/dlv_nope");
    expect((await json<AdminErrorBody>(d)).code).toBe("delivery_not_found");
  });
});

describe("retry", () => {
  it("retries one failed delivery; history is kept and attempt numbers go on", async () => {
    bad.respond(() => ({ status: 200, body: "back" }));
    const failed = await json<Page<DeliveryJson>>(
      await api(admin, `/api/deliveries?status=failed&event=${orders[0]}`),
    );
    const id = failed.data[0]?.id ?? "";
    const res = await api(admin, `/api/deliveries/${id}/retry`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id, target_id: "bad", run_number: 2, status: "pending" });
    const done = await eventually(async () => {
      const d = await delivery(id);
      return d.status === "succeeded" && d;
    });
    expect(done.attempt_count).toBe(3);
    expect(done.run_number).toBe(2);
    expect(done.attempts.map((a) => [a.attempt_number, a.status_code])).toEqual([
      [1, 503],
      [2, 503],
      [3, 200],
    ]);
    // The forwarded request says which attempt it is, counting the earlier ones.
    expect(bad.received.at(-1)?.headers["hookline-attempt"]).toBe("3");
  });

  it("refuses to resend a succeeded delivery unless forced", async () => {
    const ok = await json<Page<DeliveryJson>>(
      await api(admin, `/api/deliveries?status=succeeded&target=good&event=${orders[1]}`),
    );
    const id = ok.data[0]?.id ?? "";
    const refused = await api(admin, `/api/deliveries/${id}/retry`, { method: "POST" });
    expect(refused.status).toBe(409);
    expect((await json<AdminErrorBody>(refused)).code).toBe("delivery_succeeded");
    const before = good.received.length;
    const forced = await api(admin, `/api/deliveries/${id}/retry?force=true`, { method: "POST" });
    expect(forced.status).toBe(202);
    const done = await eventually(async () => {
      const d = await delivery(id);
      return d.status === "succeeded" && d.attempt_count === 2 && d;
    });
    expect(done.attempts.map((a) => a.attempt_number)).toEqual([1, 2]);
    expect(good.received.length).toBe(before + 1);
  });

  it("404s an unknown delivery", async () => {
    const res = await api(admin, "/api/deliveries/dlv_missing/retry", { method: "POST" });
    expect(res.status).toBe(404);
    expect((await json<AdminErrorBody>(res)).code).toBe("delivery_not_found");
  });

  it("bulk: a dry run counts, then every failed delivery of a target is retried", async () => {
    const dry = await api(admin, "/api/deliveries/retry", {
      method: "POST",
      body: { status: "failed", target: "bad", since: "1h", dry_run: true },
    });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toEqual({ dry_run: true, matched: 2 });
    const res = await api(admin, "/api/deliveries/retry", {
      method: "POST",
      body: { status: ["failed"], target: "bad", since: "1h" },
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ retried: 2 });
    await eventually(settled);
    const failed = await json<Page<DeliveryJson>>(await api(admin, "/api/deliveries?status=failed"));
    expect(failed.data).toEqual([]);
  });

  it("bulk: refuses succeeded deliveries without force, and bad filters", async () => {
    const res = await api(admin, "/api/deliveries/retry", { method: "POST", body: { status: "succeeded" } });
    expect(res.status).toBe(409);
    expect((await json<AdminErrorBody>(res)).code).toBe("delivery_succeeded");
    const bodyNotJson = await api(admin, "/api/deliveries/retry", { method: "POST", body: "{nope" });
    expect((await json<AdminErrorBody>(bodyNotJson)).code).toBe("invalid_body");
    const badSince = await api(admin, "/api/deliveries/retry", { method: "POST", body: { since: "soon" } });
    expect((await json<AdminErrorBody>(badSince)).code).toBe("invalid_parameter");
  });
});

describe("replay", () => {
  it("fans an event out again to every routed target as new deliveries", async () => {
    const res = await api(admin, `/api/events/${orders[2]}/replay`, { method: "POST" });
    expect(res.status).toBe(202);
    const body = await json<{ event_id: string; deliveries: Array<{ id: string; target_id: string }> }>(res);
    expect(body.event_id).toBe(orders[2]);
    expect(body.deliveries.map((d) => d.target_id).sort()).toEqual(["bad", "good"]);
    await eventually(settled);
    const event = await json<EventDetailAnswer>(await api(admin, `/api/events/${orders[2]}`));
    expect(event.deliveries).toHaveLength(4);
    for (const d of body.deliveries) {
      const replayed = event.deliveries.find((x) => x.id === d.id);
      expect(replayed?.status).toBe("succeeded");
      expect(replayed?.attempts.map((a) => a.attempt_number)).toEqual([1]);
    }
    // The original deliveries are untouched.
    expect(event.deliveries.filter((d) => !body.deliveries.some((x) => x.id === d.id))).toHaveLength(2);
  });

  it("replays to named targets only", async () => {
    const before = good.received.filter((r) => r.headers["webhook-id"] === audits[0]).length;
    const res = await api(admin, `/api/events/${audits[0]}/replay`, {
      method: "POST",
      body: { targets: ["good"] },
    });
    expect(res.status).toBe(202);
    const body = await json<{ deliveries: Array<{ target_id: string }> }>(res);
    expect(body.deliveries.map((d) => d.target_id)).toEqual(["good"]);
    await eventually(
      () => good.received.filter((r) => r.headers["webhook-id"] === audits[0]).length === before + 1,
    );
  });

  it("400s an unknown target, naming it, and changes nothing", async () => {
    const count = async () => (await database.pool.query("select 1 from deliveries")).rowCount;
    const before = await count();
    const res = await api(admin, `/api/events/${audits[1]}/replay`, {
      method: "POST",
      body: { targets: ["good", "fraud-service"] },
    });
    expect(res.status).toBe(400);
    const body = await json<AdminErrorBody>(res);
    expect(body.code).toBe("unknown_target");
    expect(body.message).toContain('"fraud-service"');
    expect(await count()).toBe(before);
    const malformed = await api(admin, `/api/events/${audits[1]}/replay`, {
      method: "POST",
      body: { targets: "good" },
    });
    expect((await json<AdminErrorBody>(malformed)).code).toBe("invalid_body");
  });

  it("404s an unknown event", async () => {
    const res = await api(admin, "/api/events/evt_missing/replay", { method: "POST" });
    expect(res.status).toBe(404);
    expect((await json<AdminErrorBody>(res)).code).toBe("event_not_found");
  });
});

describe("when Redis is down", () => {
  it("retry answers 503 queue_unavailable and changes nothing", async () => {
    const offline = await startAdminServer({
      ...stack.shared,
      redis: "redis://127.0.0.1:1",
      adminToken: ADMIN_TOKEN,
      port: 0,
      host: "127.0.0.1",
    });
    try {
      const some = await json<Page<DeliveryJson>>(await api(admin, "/api/deliveries?limit=1"));
      const target = some.data[0];
      const res = await api(offline, `/api/deliveries/${target?.id}/retry?force=true`, { method: "POST" });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect((await json<AdminErrorBody>(res)).code).toBe("queue_unavailable");
      const after = await delivery(target?.id ?? "");
      expect(after.run_number).toBe(target?.run_number);
      expect(after.status).toBe(target?.status);
    } finally {
      await offline.close();
    }
  });
});

describe("createAdminApp", () => {
  it("serves handlers through app.request() without a socket, and takes extra routes", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const app = createAdminApp({
      logger: createLogger({ level: "silent", name: "test" }),
      registry: metrics.registry,
      tokens: new AdminTokens([], ADMIN_TOKEN),
      context: null,
    });
    app.get("/", (c) => c.text("dashboard"));
    expect(await (await app.request("/")).text()).toBe("dashboard");
    expect((await app.request("/metrics")).status).toBe(200);
    // A metrics-only app (a worker run alone) has no API at all.
    expect((await app.request("/api/events")).status).toBe(404);
  });
});
