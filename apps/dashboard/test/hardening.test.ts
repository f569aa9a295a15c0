// The dashboard's side of the admin port, attacked: a huge login form, sign-in guessing from one
// address, a session cookie copied before logout, and the overview's set-aside ingest jobs.
import { type RunningAdminServer, startAdminServer } from "@hookline/admin";
import { connectDatabase, type Database, setAsideIngest } from "@hookline/db";
import {
  closeAll,
  type Isolated,
  isolate,
  loadTestConfig,
  rawHttp,
  requestFrom,
  type Stack,
  startStack,
} from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountDashboard } from "../src/index";

const ADMIN_TOKEN = "dashboard-hardening-token-3a9c5e7f1b2d4c6e";

let iso: Isolated;
let stack: Stack;
let admin: RunningAdminServer;
let database: Database;

beforeAll(async () => {
  iso = await isolate("dashboard-hardening");
  const config = loadTestConfig(`
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }
`);
  stack = await startStack(iso, config, { withWorker: false });
  admin = await startAdminServer({
    ...stack.shared,
    port: 0,
    host: "127.0.0.1",
    adminToken: ADMIN_TOKEN,
    extend: (app, context) =>
      mountDashboard(app, { context, config, adminToken: ADMIN_TOKEN, logger: stack.logger }),
  });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(async () => {
  await closeAll(admin, stack, database, iso);
});

async function signIn(): Promise<string> {
  const res = await fetch(`${admin.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: ADMIN_TOKEN, next: "/" }),
  });
  expect(res.status).toBe(303);
  return (
    (res.headers.getSetCookie().find((c) => c.startsWith("hookline_session=")) ?? "").split(";")[0] ?? ""
  );
}

describe("bodies", () => {
  it("a 400 MB login form is refused with 413 from its Content-Length, before it is read", async () => {
    const exchange = await rawHttp(admin.port, [
      `POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${400 * 1024 * 1024}\r\n\r\ntoken=`,
    ]);
    expect(exchange.responses[0]?.status).toBe(413);
    expect(exchange.responses[0]?.body).toContain("body_too_large");
    expect((await fetch(`${admin.url}/healthz`)).status).toBe(200);
  });
});

describe("guessing the admin token", () => {
  it("ten wrong sign-ins from one address do not lock the right token out from another", async () => {
    const attacker = (url: string, init = {}) => requestFrom("127.0.0.3", url, init);
    const ops = (url: string, init = {}) => requestFrom("127.0.0.1", url, init);
    const login = (f: typeof ops, token: string) =>
      f(`${admin.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token, next: "/" }).toString(),
      });
    for (let i = 0; i < 10; i++) expect((await login(attacker, `guess-${i}`)).status).toBe(401);
    expect((await login(attacker, ADMIN_TOKEN)).status).toBe(429);
    expect((await login(ops, ADMIN_TOKEN)).status).toBe(303);
  });
});

describe("sessions", () => {
  it("signing out ends the session: a cookie copied before logout no longer opens a page", async () => {
    const cookie = await signIn();
    const page = await fetch(`${admin.url}/events`, { headers: { cookie }, redirect: "manual" });
    expect(page.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
    const out = await fetch(`${admin.url}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    expect(out.status).toBe(303);
    const after = await fetch(`${admin.url}/events`, { headers: { cookie }, redirect: "manual" });
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toMatch(/^\/login/);
  });
});

describe("set-aside ingest jobs", () => {
  it("are on the overview, with their reason", async () => {
    await setAsideIngest(database.pool, {
      id: "evt_overview_setaside",
      sourceId: "klariqo",
      eventIds: ["evt_overview_setaside"],
      reason: "program_limit_exceeded",
      error: "index row size 8024 exceeds btree version 4 maximum 2704",
      job: {},
    });
    const cookie = await signIn();
    const html = await (await fetch(`${admin.url}/`, { headers: { cookie } })).text();
    expect(html).toContain("Set-aside ingest jobs");
    expect(html).toContain("evt_overview_setaside");
    expect(html).toContain("program_limit_exceeded");
  });
});
