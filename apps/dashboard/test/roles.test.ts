// The dashboard with named tokens: a read session sees no action buttons and its actions are
// refused; a session dies when its token leaves the config; sign-ins and what a session changes
// are in the audit log. Real admin server, Postgres and Redis; no worker, so rows stay put.
import { type RunningAdminServer, startAdminServer } from "@hookline/admin";
import type { HooklineConfig } from "@hookline/config";
import { connectDatabase, type Database } from "@hookline/db";
import { closeAll, type Isolated, isolate, loadTestConfig, type Stack, startStack } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountDashboard } from "../src/index";

const ADMIN_TOKEN = "dashboard-roles-env-token-6d8f0b2c4e";
const OPS = "dashboard-roles-ops-token-1a3c5e7b9d";
const VIEWER = "dashboard-roles-viewer-token-2b4d6f8a0c";

let iso: Isolated;
let stack: Stack;
let admin: RunningAdminServer;
/** The same database, restarted with the viewer token removed from the config. */
let withoutViewer: RunningAdminServer;
let database: Database;

const configWith = (tokens: string): HooklineConfig =>
  loadTestConfig(`
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }
targets:
  - { id: sink, url: "http://127.0.0.1:9/sink" }
routes:
  - { source: klariqo, targets: [sink] }
admin:
  tokens:
${tokens}
`);

async function startDashboard(config: HooklineConfig): Promise<RunningAdminServer> {
  return startAdminServer({
    ...stack.shared,
    config,
    port: 0,
    host: "127.0.0.1",
    adminToken: ADMIN_TOKEN,
    extend: (app, context) =>
      mountDashboard(app, { context, config, adminToken: ADMIN_TOKEN, logger: stack.logger }),
  });
}

beforeAll(async () => {
  iso = await isolate("dashboard-roles");
  const both = configWith(
    `    - { name: ops, token: "${OPS}", role: operate }\n    - { name: viewer, token: "${VIEWER}", role: read }`,
  );
  stack = await startStack(iso, both, { withWorker: false });
  admin = await startDashboard(both);
  withoutViewer = await startDashboard(configWith(`    - { name: ops, token: "${OPS}", role: operate }`));
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  await database.pool.query(
    `insert into events (id, source_id, event_type, dedupe_key, headers, body, content_type)
     values ('evt_r1', 'klariqo', 'case.created', 'k1', '{}', convert_to('{}', 'UTF8'), 'application/json')`,
  );
  await database.pool.query(
    `insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, last_error)
     values ('dlv_r1', 'evt_r1', 'sink', 'klariqo', 'failed', 2, 'target answered 503')`,
  );
});

afterAll(() => closeAll(admin, withoutViewer, stack, database, iso));

async function signIn(server: RunningAdminServer, token: string): Promise<Response> {
  return fetch(`${server.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, next: "/" }),
  });
}

async function sessionOf(token: string): Promise<string> {
  const res = await signIn(admin, token);
  expect(res.status).toBe(303);
  return (
    (res.headers.getSetCookie().find((c) => c.startsWith("hookline_session=")) ?? "").split(";")[0] ?? ""
  );
}

const page = (server: RunningAdminServer, path: string, cookie: string) =>
  fetch(`${server.url}${path}`, { headers: { cookie }, redirect: "manual" });

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

function post(path: string, cookie: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${admin.url}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
}

const auditRows = async () =>
  (
    await database.pool.query<{ actor: string; action: string; subject: string | null; ip: string | null }>(
      "select actor, action, subject, ip from audit_log order by at, id",
    )
  ).rows;

/** Every action form the pages can show: a read session must see none of them. */
const ACTION_FORMS = [
  'action="/deliveries/retry"',
  'action="/deliveries/dlv_r1/retry"',
  'action="/events/evt_r1/replay"',
  'action="/targets/sink/pause"',
];

describe("a read session", () => {
  it("sees every page without an action button; an operate session sees them", async () => {
    const viewer = await sessionOf(VIEWER);
    const ops = await sessionOf(OPS);
    const html = async (cookie: string) => {
      let all = "";
      for (const path of ["/", "/events/evt_r1", "/deliveries?status=failed", "/audit"]) {
        const res = await page(admin, path, cookie);
        expect(res.status, path).toBe(200);
        all += await res.text();
      }
      return all;
    };
    const seenByViewer = await html(viewer);
    for (const form of ACTION_FORMS) expect(seenByViewer).not.toContain(form);
    expect(seenByViewer).toContain("viewer (read)");
    const seenByOps = await html(ops);
    for (const form of ACTION_FORMS) expect(seenByOps).toContain(form);
  });

  it("gets 403 on every action, and nothing changes", async () => {
    const viewer = await sessionOf(VIEWER);
    const csrf = csrfOf(await (await page(admin, "/", viewer)).text());
    expect(csrf).not.toBe("");
    for (const [path, form] of [
      ["/deliveries/dlv_r1/retry", {}],
      ["/deliveries/retry", { id: "dlv_r1", scope: "selected" }],
      ["/events/evt_r1/replay", {}],
      ["/targets/sink/pause", { reason: "no" }],
      ["/targets/sink/resume", {}],
    ] as const) {
      const res = await post(path, viewer, { _csrf: csrf, back: "/", ...form });
      expect(res.status, path).toBe(403);
      expect(await res.text()).toContain("read-only token");
    }
    const state = await database.pool.query("select status, run_number from deliveries where id = 'dlv_r1'");
    expect(state.rows[0]).toEqual({ status: "failed", run_number: 1 });
    expect(await database.pool.query("select 1 from target_states")).toHaveProperty("rowCount", 0);
    expect((await auditRows()).filter((r) => r.action !== "login")).toEqual([]);
  });
});

describe("sessions and the config", () => {
  it("a session dies when its token leaves the config; another token's lives on", async () => {
    const viewer = await sessionOf(VIEWER);
    const ops = await sessionOf(OPS);
    expect((await page(admin, "/events", viewer)).status).toBe(200);
    // The server restarted without the viewer token: its session is refused, the ops session is not.
    const refused = await page(withoutViewer, "/events", viewer);
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toMatch(/^\/login/);
    expect((await page(withoutViewer, "/events", ops)).status).toBe(200);
    expect((await signIn(withoutViewer, VIEWER)).status).toBe(401);
  });
});

describe("the audit log", () => {
  it("records sign-ins, failed sign-ins (the address, never the token typed) and a session's actions", async () => {
    await database.pool.query("delete from audit_log");
    const typed = "not-a-token-but-a-password-someone-typed";
    expect((await signIn(admin, typed)).status).toBe(401);
    const ops = await sessionOf(OPS);
    const csrf = csrfOf(await (await page(admin, "/", ops)).text());
    expect((await post("/deliveries/dlv_r1/retry", ops, { _csrf: csrf, back: "/" })).status).toBe(303);
    expect(
      (await post("/targets/sink/pause", ops, { _csrf: csrf, back: "/", reason: "deploy" })).status,
    ).toBe(303);
    expect((await post("/targets/sink/resume", ops, { _csrf: csrf, back: "/" })).status).toBe(303);

    const rows = await auditRows();
    expect(rows.map((r) => [r.actor, r.action, r.subject])).toEqual([
      ["dashboard", "login_failed", null],
      ["dashboard:ops", "login", "ops"],
      ["dashboard:ops", "delivery.retry", "dlv_r1"],
      ["dashboard:ops", "target.pause", "sink"],
      ["dashboard:ops", "target.resume", "sink"],
    ]);
    expect(rows[0]?.ip).toMatch(/127\.0\.0\.1/);

    const audit = await (await page(admin, "/audit?action=login_failed", ops)).text();
    expect(audit).toContain("login_failed");
    expect(audit).not.toContain("delivery.retry</td>");

    const stored = JSON.stringify((await database.pool.query("select * from audit_log")).rows);
    const sessions = JSON.stringify((await database.pool.query("select * from admin_sessions")).rows);
    for (const secret of [typed, OPS, VIEWER, ADMIN_TOKEN]) {
      expect(stored).not.toContain(secret);
      expect(sessions).not.toContain(secret);
      expect(stack.logs.text()).not.toContain(secret);
      expect(audit).not.toContain(secret);
    }
  });
});
