// Named admin tokens with roles, and the audit log, against a real admin server (over its
// socket), Postgres and Redis. Deliveries are written with SQL: no worker runs, so nothing
// moves but what these requests move.
import {
  type AdminErrorBody,
  type AuditJson,
  type RunningAdminServer,
  startAdminServer,
} from "@hookline/admin";
import type { HooklineConfig } from "@hookline/config";
import { connectDatabase, type Database } from "@hookline/db";
import {
  closeAll,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  startSink,
  startStack,
} from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, adminConfig, api, countRows, json } from "./helpers";

const OPS = "ops-token-for-audit-tests-5b7c9d1e3f";
const VIEWER = "viewer-token-for-audit-tests-8a6c4e2f0";
/** An operate token whose audit rows a test-only CHECK constraint refuses: a change that fails after it was made. */
const BLOCKED = "blocked-token-for-audit-tests-1f3e5d7c9";
const TOKENS = [ADMIN_TOKEN, OPS, VIEWER, BLOCKED];

let iso: Isolated;
let sink: Sink;
let stack: Stack;
let admin: RunningAdminServer;
let database: Database;
let config: HooklineConfig;
/** Every response body the tests saw: none may carry a token. */
const seen: string[] = [];

beforeAll(async () => {
  iso = await isolate("audit");
  sink = await startSink();
  config = loadTestConfig(
    adminConfig(
      { one: { sink }, two: { sink } },
      "  - { source: clausum, targets: [one, two] }",
      `admin:
  tokens:
    - { name: ops, token: "\${OPS_TOKEN}", role: operate }
    - { name: viewer, token: "\${VIEWER_TOKEN}", role: read }
    - { name: blocked, token: "${BLOCKED}", role: operate }
`,
    ),
    { OPS_TOKEN: OPS, VIEWER_TOKEN: VIEWER },
  );
  // The gateway alone: no worker takes the queued jobs, so the rows stay as the requests left them.
  stack = await startStack(iso, config, { withWorker: false });
  admin = await startAdminServer({ ...stack.shared, port: 0, host: "127.0.0.1", adminToken: ADMIN_TOKEN });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  await database.pool.query(
    `insert into events (id, source_id, event_type, dedupe_key, headers, body, content_type)
     select 'evt_a' || n, 'clausum', 'case.created', 'k' || n, '{}', convert_to('{"n":1}', 'UTF8'), 'application/json'
     from generate_series(1, 6) n`,
  );
  await database.pool.query(
    `insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, last_error)
     select 'dlv_a' || n, 'evt_a' || n, 'one', 'clausum', 'failed', 2, 'target answered 503'
     from generate_series(1, 6) n`,
  );
  // Stands for any failure after the change and before the commit.
  await database.pool.query(
    "alter table audit_log add constraint test_refuse_blocked check (actor <> 'blocked')",
  );
});

afterAll(() => closeAll(admin, stack, database, sink, iso));

async function call(path: string, token: string | null, method = "GET", body?: unknown): Promise<Response> {
  const res = await api(admin, path, { method, token, ...(body === undefined ? {} : { body }) });
  seen.push(await res.clone().text());
  return res;
}

const auditRows = async (where = "true", params: unknown[] = []) =>
  (
    await database.pool.query<{
      actor: string;
      action: string;
      subject: string | null;
      details: Record<string, unknown>;
      ip: string | null;
    }>(`select actor, action, subject, details, ip from audit_log where ${where} order by at, id`, params)
  ).rows;

const deliveryState = async (id: string) =>
  (
    await database.pool.query<{ status: string; run_number: number }>(
      "select status, run_number from deliveries where id = $1",
      [id],
    )
  ).rows[0];

/** Every route the admin app answers that is not a GET: what a read token must never reach. */
function changingRoutes(): Array<{ method: string; path: string }> {
  const routes = admin.app.routes
    .filter((r) => r.path.startsWith("/api/") && r.method !== "GET" && r.method !== "ALL")
    .map((r) => ({ method: r.method, path: r.path.replaceAll(":id", "dlv_a6") }));
  return [...new Map(routes.map((r) => [`${r.method} ${r.path}`, r])).values()];
}

describe("roles", () => {
  it("a read token may GET every listing", async () => {
    for (const path of [
      "/api/events",
      "/api/events/evt_a1",
      "/api/deliveries?status=failed",
      "/api/deliveries/dlv_a1",
      "/api/targets",
      "/api/targets/one",
      "/api/ingest-failures",
      "/api/audit",
    ]) {
      const res = await call(path, VIEWER);
      expect(res.status, path).toBe(200);
    }
  });

  it("a read token gets 403 forbidden on every changing route, and changes nothing", async () => {
    const routes = changingRoutes();
    // The known ones are there: the list is the app's own, not a copy that could fall behind.
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        "POST /api/events/dlv_a6/replay",
        "POST /api/targets/dlv_a6/pause",
        "POST /api/targets/dlv_a6/resume",
        "POST /api/deliveries/retry",
        "POST /api/deliveries/dlv_a6/retry",
      ]),
    );
    for (const route of routes) {
      const res = await call(route.path, VIEWER, route.method, {});
      expect(res.status, `${route.method} ${route.path}`).toBe(403);
      expect((await json<AdminErrorBody>(res)).code).toBe("forbidden");
    }
    // Methods no route has are refused to a read token too, before routing.
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const res = await call("/api/events", VIEWER, method);
      expect(res.status, method).toBe(403);
    }
    expect(await deliveryState("dlv_a6")).toEqual({ status: "failed", run_number: 1 });
    expect(await countRows(database, "audit_log")).toBe(0);
  });

  it("an operate token changes things; HOOKLINE_ADMIN_TOKEN works as `default`; a wrong token is 401", async () => {
    expect((await call("/api/deliveries/dlv_a1/retry", OPS, "POST")).status).toBe(202);
    expect((await call("/api/deliveries/dlv_a2/retry", ADMIN_TOKEN, "POST")).status).toBe(202);
    for (const token of ["wrong-token-0123456789abcdef", `${OPS}x`, OPS.slice(0, -1), ""]) {
      const res = await call("/api/events", token);
      expect(res.status).toBe(401);
      expect((await json<AdminErrorBody>(res)).code).toBe("unauthorized");
    }
    const unknownPost = await call("/api/deliveries/dlv_a3/retry", "wrong-token-0123456789abcdef", "POST");
    expect(unknownPost.status).toBe(401);
    expect(await deliveryState("dlv_a3")).toEqual({ status: "failed", run_number: 1 });
    const rows = await auditRows("action = 'delivery.retry'");
    expect(rows.map((r) => [r.actor, r.subject])).toEqual([
      ["ops", "dlv_a1"],
      ["default", "dlv_a2"],
    ]);
  });
});

describe("audit log", () => {
  it("each change writes exactly one row with its actor, action, subject and details", async () => {
    await database.pool.query("delete from audit_log");
    expect((await call("/api/deliveries/dlv_a3/retry", OPS, "POST")).status).toBe(202);
    expect(
      (await call("/api/deliveries/retry", OPS, "POST", { status: "failed", target: "one", dry_run: true }))
        .status,
    ).toBe(200);
    const bulk = await call("/api/deliveries/retry", OPS, "POST", { status: "failed", target: "one" });
    expect(bulk.status).toBe(202);
    expect(await json<{ retried: number }>(bulk)).toEqual({ retried: 3 });
    expect((await call("/api/events/evt_a1/replay", OPS, "POST", { targets: ["two"] })).status).toBe(202);
    expect((await call("/api/targets/two/pause", OPS, "POST", { reason: "deploy" })).status).toBe(200);
    expect((await call("/api/targets/two/resume", ADMIN_TOKEN, "POST")).status).toBe(200);

    const rows = await auditRows();
    expect(rows.map((r) => [r.actor, r.action, r.subject])).toEqual([
      ["ops", "delivery.retry", "dlv_a3"],
      ["ops", "deliveries.retry", "status=failed target=one"],
      ["ops", "event.replay", "evt_a1"],
      ["ops", "target.pause", "two"],
      ["default", "target.resume", "two"],
    ]);
    expect(rows[0]?.details).toEqual({ target: "one", run: 2, force: false });
    expect(rows[1]?.details).toEqual({
      filters: { status: "failed", target: "one" },
      force: false,
      retried: 3,
    });
    expect(rows[2]?.details).toMatchObject({ targets: ["two"], queued: 1, chosen_by: "caller" });
    expect(rows[3]?.details).toEqual({ reason: "deploy" });
    // The client's address, as the socket saw it.
    for (const row of rows) expect(row.ip).toMatch(/127\.0\.0\.1/);
  });

  it("a change that fails writes no row", async () => {
    await database.pool.query("delete from audit_log");
    expect((await call("/api/deliveries/dlv_nope/retry", OPS, "POST")).status).toBe(404);
    expect((await call("/api/targets/nope/pause", OPS, "POST")).status).toBe(404);
    expect((await call("/api/targets/nope/resume", OPS, "POST")).status).toBe(404);
    expect((await call("/api/events/evt_nope/replay", OPS, "POST")).status).toBe(404);
    expect((await call("/api/events/evt_a1/replay", OPS, "POST", { targets: ["nope"] })).status).toBe(400);
    // A succeeded delivery is retried only with force.
    await database.pool.query("update deliveries set status = 'succeeded' where id = 'dlv_a5'");
    expect((await call("/api/deliveries/dlv_a5/retry", OPS, "POST")).status).toBe(409);
    expect((await call("/api/deliveries/retry", OPS, "POST", { status: "succeeded" })).status).toBe(409);
    expect(await countRows(database, "audit_log")).toBe(0);
  });

  it("a transaction that fails after the change rolls the change back with its row", async () => {
    await database.pool.query("update deliveries set status = 'failed' where id = 'dlv_a6'");
    const before = await deliveryState("dlv_a6");
    const retry = await call("/api/deliveries/dlv_a6/retry", BLOCKED, "POST");
    expect(retry.status).toBe(500);
    expect(await deliveryState("dlv_a6")).toEqual(before);

    const pause = await call("/api/targets/one/pause", BLOCKED, "POST", { reason: "never" });
    expect(pause.status).toBe(500);
    expect(await countRows(database, "target_states", "target_id = 'one' and paused")).toBe(0);

    const replay = await call("/api/events/evt_a6/replay", BLOCKED, "POST");
    expect(replay.status).toBe(500);
    expect(await countRows(database, "deliveries", "event_id = 'evt_a6'")).toBe(1);

    const bulk = await call("/api/deliveries/retry", BLOCKED, "POST", { status: "failed", target: "one" });
    expect(bulk.status).toBe(500);
    expect(await deliveryState("dlv_a6")).toEqual(before);
    expect(await countRows(database, "audit_log", "actor = 'blocked'")).toBe(0);
  });

  it("GET /api/audit filters by actor, action and time, and walks pages with the cursor", async () => {
    await database.pool.query("delete from audit_log");
    for (const id of ["dlv_a1", "dlv_a2", "dlv_a3"]) {
      expect((await call(`/api/deliveries/${id}/retry`, OPS, "POST")).status).toBe(202);
    }
    expect((await call("/api/targets/two/pause", ADMIN_TOKEN, "POST")).status).toBe(200);
    expect((await call("/api/targets/two/resume", OPS, "POST")).status).toBe(200);

    const all = await json<{ data: AuditJson[]; next_cursor: string | null }>(
      await call("/api/audit", VIEWER),
    );
    expect(all.data.map((a) => a.action)).toEqual([
      "target.resume",
      "target.pause",
      "delivery.retry",
      "delivery.retry",
      "delivery.retry",
    ]);
    expect(all.data[0]).toMatchObject({ actor: "ops", subject: "two", details: {} });
    expect(all.data[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);

    const byActor = await json<{ data: AuditJson[] }>(await call("/api/audit?actor=default", VIEWER));
    expect(byActor.data.map((a) => a.action)).toEqual(["target.pause"]);
    const byAction = await json<{ data: AuditJson[] }>(
      await call("/api/audit?action=delivery.retry", VIEWER),
    );
    expect(byAction.data.map((a) => a.subject)).toEqual(["dlv_a3", "dlv_a2", "dlv_a1"]);
    const future = await json<{ data: AuditJson[] }>(
      await call("/api/audit?since=2999-01-01T00:00:00Z", VIEWER),
    );
    expect(future.data).toEqual([]);
    const past = await json<{ data: AuditJson[] }>(
      await call("/api/audit?until=2000-01-01T00:00:00Z", VIEWER),
    );
    expect(past.data).toEqual([]);
    expect((await json<{ data: AuditJson[] }>(await call("/api/audit?since=1h", VIEWER))).data).toHaveLength(
      5,
    );

    const walked: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : "";
      const page = await json<{ data: AuditJson[]; next_cursor: string | null }>(
        await call(`/api/audit?limit=2${query}`, VIEWER),
      );
      walked.push(...page.data.map((a) => a.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(walked).toEqual(all.data.map((a) => a.id));

    const bad = await call("/api/audit?action=delete.everything", VIEWER);
    expect(bad.status).toBe(400);
    expect((await json<AdminErrorBody>(bad)).code).toBe("invalid_parameter");
    expect((await call("/api/audit?cursor=garbage", VIEWER)).status).toBe(400);
  });

  it("no token's text is in an audit row, a log line or a response", async () => {
    const rows = JSON.stringify((await database.pool.query("select * from audit_log")).rows);
    const sessions = JSON.stringify((await database.pool.query("select * from admin_sessions")).rows);
    const logs = stack.logs.text();
    expect(logs).toContain("read-only token refused a change");
    for (const token of TOKENS) {
      expect(rows).not.toContain(token);
      expect(sessions).not.toContain(token);
      expect(logs).not.toContain(token);
      for (const body of seen) expect(body).not.toContain(token);
    }
  });
});
