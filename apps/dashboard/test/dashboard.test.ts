// The dashboard as a person uses it: a real Chromium against a real gateway, worker, Postgres and
// Redis. Sign in, find the failed delivery, fix the target, press Retry, watch the new attempt
// succeed. Plus the security edges: login redirect, CSRF, headers, and no secret on any page.
//
// UPDATE_SCREENSHOTS=1 also writes docs/dashboard-*.png from the same run.
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type RunningAdminServer, startAdminServer } from "@hookline/admin";
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
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountDashboard } from "../src/index";
import { seedHistory } from "./history";

const ADMIN_TOKEN = "dashboard-admin-token-7c1e9a4f3b2d8e60";
const CLAUSUM_SECRET = "clausum-dashboard-secret-5a6b7c8d9e0f1a2b";
const SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const LEDGER_TOKEN = "ledger-bearer-token-0f9e8d7c6b5a4321";
const SECRETS = [
  ADMIN_TOKEN,
  CLAUSUM_SECRET,
  SIGNING_SECRET,
  "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  LEDGER_TOKEN,
];

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === "1";
/**
 * The browser scripts/ensure-chromium.sh installs (Debian's chromium), or CHROMIUM_PATH. No
 * browser is a failure with the way to fix it, never a silent skip.
 */
function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((p): p is string => p !== undefined && p !== "" && existsSync(p));
  if (!found) {
    throw new Error(
      "no Chromium for the dashboard's browser test: run `bash scripts/ensure-chromium.sh` (installs Debian's chromium) or set CHROMIUM_PATH",
    );
  }
  return found;
}

const DOCS = fileURLToPath(new URL("../../../docs/", import.meta.url));

let iso: Isolated;
let fraud: Sink;
let audit: Sink;
let ledger: Sink;
let stack: Stack;
let admin: RunningAdminServer;
let disabled: RunningAdminServer;
let database: Database;
let browser: Browser;
let fraudAnswer = 500;
let failedEvent = "";
const invoices: string[] = [];

const config = () =>
  loadTestConfig(`
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
  - id: klariqo
    verify: { scheme: standard-webhooks, secrets: ["${SIGNING_SECRET}"] }
targets:
  - id: fraud-service
    url: ${fraud.url}/hooks/fraud
    timeout: 2s
    retry: { schedule: [100ms] }
    signing_secret: "${SIGNING_SECRET}"
    circuit_breaker: { failure_threshold: 1000 }
  - id: audit
    url: ${audit.url}/audit/ingest
    retry: { schedule: [100ms] }
  - id: ledger
    url: ${ledger.url}/ledger/webhooks?key=abc
    timeout: 1s
    retry: { schedule: [100ms, 100ms] }
    headers: { Authorization: "Bearer ${LEDGER_TOKEN}" }
    circuit_breaker: { failure_threshold: 2, cooldown: 10m }
routes:
  - source: clausum
    events: ["fraud.*"]
    targets: [fraud-service]
  - source: clausum
    events: ["*"]
    targets: [audit]
  - source: klariqo
    events: ["invoice.*"]
    targets: [ledger, audit]
`);

const clausumBody = (event: string, caseId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    event,
    timestamp: "2026-05-29T18:30:00.000Z",
    data: { case_id: caseId, reference_number: `CLM-${caseId.toUpperCase()}`, amount: 129.5, ...extra },
  });

async function send(
  source: string,
  body: string,
  extraHeaders: Record<string, string> = {},
): Promise<string> {
  const res = await sendSigned(stack, source, body, { extraHeaders });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function deliveryOf(eventId: string, targetId: string) {
  const result = await database.pool.query<{ id: string; status: string; attempt_count: number }>(
    "select id, status, attempt_count from deliveries where event_id = $1 and target_id = $2",
    [eventId, targetId],
  );
  return result.rows[0];
}

/** Signs in through the form, as a browser does; returns the session cookie. */
async function signIn(base = admin.url): Promise<string> {
  const res = await fetch(`${base}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ token: ADMIN_TOKEN, next: "/" }),
  });
  expect(res.status).toBe(303);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("hookline_session="));
  expect(cookie).toBeDefined();
  return (cookie ?? "").split(";")[0] ?? "";
}

async function getPage(
  path: string,
  cookie: string,
): Promise<{ status: number; html: string; res: Response }> {
  const res = await fetch(`${admin.url}${path}`, { headers: { cookie }, redirect: "manual" });
  return { status: res.status, html: await res.text(), res };
}

/** A browser context that may only talk to the admin port: the dashboard must work offline. */
async function offlineContext(): Promise<{ context: BrowserContext; foreign: string[]; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  const foreign: string[] = [];
  const problems: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(admin.url)) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  context.on("page", (p) => {
    p.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    p.on("pageerror", (e) => problems.push(e.message));
  });
  return { context, foreign, problems };
}

async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(DOCS, { recursive: true });
  // The top bar is sticky: from the top, a full-page shot has it where it belongs.
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: `${DOCS}dashboard-${name}.png`, fullPage });
}

beforeAll(async () => {
  iso = await isolate("dashboard");
  fraud = await startSink(() => ({
    status: fraudAnswer,
    body:
      fraudAnswer === 200
        ? '{"received":true}'
        : '{"error":"upstream_unavailable","message":"fraud model store is not reachable","retry_in":"30s"}',
    headers: { "content-type": "application/json" },
  }));
  audit = await startSink(() => ({ status: 202, body: "accepted" }));
  // The ledger echoes the request's Authorization header in its error page, as some servers do.
  ledger = await startSink((req) => ({
    status: 503,
    body: `Service Unavailable\nrequest auth: ${String(req.headers.authorization)}\n`,
  }));
  const cfg = config();
  stack = await startStack(iso, cfg);
  const common = { ...stack.shared, port: 0, host: "127.0.0.1" };
  admin = await startAdminServer({
    ...common,
    adminToken: ADMIN_TOKEN,
    extend: (app, context) =>
      mountDashboard(app, {
        context,
        config: cfg,
        adminToken: ADMIN_TOKEN,
        logger: stack.logger,
        circuitState: (id) => stack.worker?.circuits.get(id)?.state,
        refreshSeconds: 1,
      }),
  });
  disabled = await startAdminServer({
    ...common,
    adminToken: null,
    extend: (app, context) =>
      mountDashboard(app, { context, config: cfg, adminToken: null, logger: stack.logger }),
  });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  await seedHistory(database);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  // Traffic: fraud alerts fail at fraud-service (500); everything reaches audit; invoices hit
  // the ledger, which is down and echoes its credentials, so its circuit opens.
  failedEvent = await send("clausum", clausumBody("fraud.detected", "c-1042", { risk: 0.97 }), {
    "x-api-key": ADMIN_TOKEN,
  });
  for (const [type, id] of [
    ["case.created", "c-1043"],
    ["case.updated", "c-1043"],
    ["fraud.cleared", "c-1038"],
    ["case.closed", "c-1031"],
  ] as const) {
    await send("clausum", clausumBody(type, id));
  }
  for (const n of [1, 2]) {
    invoices.push(
      await send(
        "klariqo",
        JSON.stringify({ type: "invoice.paid", data: { invoice: `inv_${n}`, amount_cents: 4200 * n } }),
      ),
    );
  }
  await eventually(async () => stack.worker?.circuits.get("ledger")?.state === "open", {
    what: "the ledger circuit to open",
  });
});

afterAll(() => closeAll(browser, admin, disabled, stack, database, fraud, audit, ledger, iso));

describe("the dashboard in a browser", () => {
  it("finds a failed delivery, retries it after the target is fixed, and shows the new attempt succeed", async () => {
    const failed = await eventually(
      async () => {
        const d = await deliveryOf(failedEvent, "fraud-service");
        return d?.status === "failed" && d;
      },
      { what: "the fraud-service delivery to fail" },
    );
    expect(failed.attempt_count).toBe(2);
    const { context, foreign, problems } = await offlineContext();
    const page = await context.newPage();

    // Not signed in: the login form, then back to where we were going.
    await page.goto(`${admin.url}/deliveries`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await screenshot(page, "login");
    await page.fill("#token", ADMIN_TOKEN);
    await Promise.all([page.waitForURL(`${admin.url}/deliveries`), page.click("button[type=submit]")]);

    // Overview: tiles, targets with health and circuit state.
    await page.click('a[data-nav="overview"]');
    await page.waitForSelector('[data-target="ledger"] [data-circuit="open"]');
    await page.waitForSelector('[data-target="audit"] [data-circuit="closed"]');
    expect(await page.textContent('[data-tile="failed"] .tile-value')).not.toBe("0");
    await screenshot(page, "overview");

    // The failed-deliveries view lists it; the target is fixed; press Retry.
    await page.click('a[data-nav="deliveries"]');
    const row = page.locator(`tr[data-delivery-id="${failed.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("fraud-service");
    expect(await row.textContent()).toContain("500");
    await page.check(`tr[data-delivery-id="${failed.id}"] input[name="id"]`);
    await screenshot(page, "failed");
    fraudAnswer = 200;
    await Promise.all([page.waitForURL(/\/deliveries/), row.locator('button[data-action="retry"]').click()]);
    await page.waitForSelector(".flash-ok");
    expect(await page.textContent(".flash-ok")).toContain("queued again");

    // Follow the delivery to its event: the third attempt appears and succeeds.
    await Promise.all([page.waitForURL(new RegExp(`/events/${failedEvent}`)), page.click(".flash-link")]);
    const card = `[data-delivery-id="${failed.id}"]`;
    await page.waitForSelector(`${card} [data-status="succeeded"]`, { timeout: 20_000 });
    await page.waitForSelector(`${card} li[data-attempt="3"][data-outcome="ok"]`);
    expect(await page.textContent(`${card} li[data-attempt="3"]`)).toContain("200");
    expect(await page.textContent(`${card} li[data-attempt="1"]`)).toContain("500");
    expect(await page.textContent(`${card} .run-mark`)).toContain("run 2");
    // The body pretty-printed beside its exact bytes; the stray credential header is hidden.
    expect(await page.textContent('[data-view="pretty"]')).toContain('"case_id": "c-1042"');
    expect(await page.textContent('[data-view="exact"]')).toContain('"case_id":"c-1042"');
    expect(await page.content()).not.toContain(ADMIN_TOKEN);
    await screenshot(page, "event", true);

    // The event log: filter by delivery status, search by provider reference.
    await page.click('a[data-nav="events"]');
    await page.waitForSelector(`tr[data-event-id="${failedEvent}"]`);
    await screenshot(page, "events");
    await page.selectOption('select[name="target"]', "ledger");
    await Promise.all([page.waitForURL(/target=ledger/), page.click(".filters button[type=submit]")]);
    expect(await page.locator("tr[data-event-id]").count()).toBe(2);
    await page.goto(`${admin.url}/events`);
    await page.fill('input[name="q"]', failedEvent);
    await Promise.all([
      page.waitForURL(new RegExp(`/events/${failedEvent}$`)),
      page.press('input[name="q"]', "Enter"),
    ]);

    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("updates an open page without a reload when a delivery changes", async () => {
    fraudAnswer = 500;
    const eventId = await send("clausum", clausumBody("fraud.detected", "c-2001"));
    const failed = await eventually(async () => {
      const d = await deliveryOf(eventId, "fraud-service");
      return d?.status === "failed" && d;
    });
    const { context, problems } = await offlineContext();
    const page = await context.newPage();
    await page.goto(`${admin.url}/login?next=${encodeURIComponent(`/events/${eventId}`)}`);
    await page.fill("#token", ADMIN_TOKEN);
    await Promise.all([
      page.waitForURL(new RegExp(`/events/${eventId}$`)),
      page.click("button[type=submit]"),
    ]);
    await page.waitForSelector(`[data-delivery-id="${failed.id}"] [data-status="failed"]`);
    // Mark the document: a reload would lose the mark, a live update keeps it.
    await page.evaluate('document.body.setAttribute("data-marked", "yes")');
    fraudAnswer = 200;
    const res = await fetch(`${admin.url}/api/deliveries/${failed.id}/retry`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(202);
    await page.waitForSelector(`[data-delivery-id="${failed.id}"] [data-status="succeeded"]`, {
      timeout: 20_000,
    });
    expect(await page.getAttribute("body", "data-marked")).toBe("yes");
    expect(await page.textContent("#live")).toContain("Live");
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("security", () => {
  it("sends a signed-out visitor to the login form", async () => {
    const res = await fetch(`${admin.url}/`, { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?next=%2F");
    const login = await fetch(`${admin.url}/login`);
    expect(login.status).toBe(200);
    expect(login.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(login.headers.get("content-security-policy")).not.toContain("unsafe-inline");
    expect(login.headers.get("x-frame-options")).toBe("DENY");
  });

  it("refuses a wrong token, and sets an HttpOnly, SameSite=Strict cookie that is not the token", async () => {
    const wrong = await fetch(`${admin.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: "not-the-token" }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.getSetCookie()).toEqual([]);

    const res = await fetch(`${admin.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: ADMIN_TOKEN, next: "//evil.example/steal" }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("hookline_session=")) ?? "";
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Max-Age=43200/);
    expect(cookie).not.toContain(ADMIN_TOKEN);
  });

  it("refuses a POST without the CSRF token, with a foreign Origin, or without a session", async () => {
    const cookie = await signIn();
    const { html } = await getPage("/deliveries", cookie);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    expect(csrf).not.toBe("");
    const post = (headers: Record<string, string>, form: Record<string, string>) =>
      fetch(`${admin.url}/deliveries/dlv_nonexistent/retry`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(form),
      });

    expect((await post({ cookie }, {})).status).toBe(403);
    expect((await post({ cookie }, { _csrf: "forged" })).status).toBe(403);
    expect((await post({ cookie, origin: "http://evil.example" }, { _csrf: csrf })).status).toBe(403);
    expect((await post({ cookie, "sec-fetch-site": "cross-site" }, { _csrf: csrf })).status).toBe(403);
    expect((await post({}, { _csrf: csrf })).status).toBe(403);
    // The same request, done right, goes through (and says the delivery does not exist).
    const ok = await post({ cookie, origin: admin.url, "sec-fetch-site": "same-origin" }, { _csrf: csrf });
    expect(ok.status).toBe(303);
    const flash = ok.headers.getSetCookie().find((c) => c.startsWith("hookline_flash="));
    expect(flash).toBeDefined();
  });

  it("never renders the admin token or a configured secret, even when a target echoes one", async () => {
    const cookie = await signIn();
    const event = await send(
      "clausum",
      clausumBody("fraud.detected", "c-3001", { note: `copied ${LEDGER_TOKEN} by mistake` }),
      { "x-debug-token": ADMIN_TOKEN },
    );
    const invoice = invoices[0] ?? "";
    await eventually(async () => (await deliveryOf(invoice, "ledger"))?.attempt_count);
    const paths = [
      "/",
      "/events",
      `/events/${event}`,
      `/events/${invoice}`,
      "/deliveries",
      "/deliveries?status=pending,retrying,failed,succeeded",
    ];
    for (const path of paths) {
      const { status, html } = await getPage(path, cookie);
      expect(status, path).toBe(200);
      for (const secret of SECRETS) expect(html.includes(secret), `${path} shows a secret`).toBe(false);
    }
    const invoicePage = (await getPage(`/events/${invoice}`, cookie)).html;
    expect(invoicePage).toContain("request auth: [redacted]");
    // The ledger's URL is shown without its query string.
    const overview = (await getPage("/", cookie)).html;
    expect(overview).not.toContain("key=abc");
  });

  it("pauses a target with a reason from the overview, shows it paused, and resumes it", async () => {
    const cookie = await signIn();
    const { html } = await getPage("/", cookie);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    expect(html).toContain('action="/targets/audit/pause"');
    const post = (path: string, form: Record<string, string>) =>
      fetch(`${admin.url}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          cookie,
          origin: admin.url,
          "sec-fetch-site": "same-origin",
        },
        body: new URLSearchParams({ _csrf: csrf, back: "/", ...form }),
      });
    const state = async () =>
      (await database.pool.query("select paused, paused_reason from target_states where target_id = 'audit'"))
        .rows[0];

    expect((await post("/targets/audit/pause", { reason: "audit store migration" })).status).toBe(303);
    expect(await state()).toEqual({ paused: true, paused_reason: "audit store migration" });
    const paused = (await getPage("/", cookie)).html;
    expect(paused).toContain('action="/targets/audit/resume"');
    expect(paused).toContain("audit store migration");
    expect(paused).toMatch(/data-waiting="\d+"/);
    // Forged without the CSRF token: refused, nothing changes.
    const forged = await fetch(`${admin.url}/targets/audit/resume`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams({ back: "/" }),
    });
    expect(forged.status).toBe(403);
    expect((await state())?.paused).toBe(true);

    expect((await post("/targets/audit/resume", {})).status).toBe(303);
    expect(await state()).toEqual({ paused: false, paused_reason: null });
    expect((await getPage("/", cookie)).html).toContain('action="/targets/audit/pause"');
  });

  it("explains how to turn the dashboard on when HOOKLINE_ADMIN_TOKEN is not set", async () => {
    const res = await fetch(`${disabled.url}/`, { redirect: "manual" });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("HOOKLINE_ADMIN_TOKEN");
    const login = await fetch(`${disabled.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: "" }),
    });
    expect(login.status).toBe(503);
  });
});
