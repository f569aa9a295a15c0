// The dashboard: server-rendered pages on the admin port, reading and acting through the same
// queries, filters and operations as the admin API (in process, one source of truth), behind a
// login that turns an admin token into a 12-hour session cookie. A session of a `read` token sees
// no action buttons, and its POSTs are refused.
import { createHash } from "node:crypto";
import type { HooklineConfig } from "@hookline/config";
import {
  type AuditActor,
  countIngestFailures,
  getEventDetail,
  getEventRouting,
  getEventTypes,
  getOverview,
  getTargetHealth,
  insertAudit,
  listAudit,
  listDeliveries,
  listEvents,
  listIngestFailures,
  type Page,
  targetBacklogs,
  targetStates,
} from "@hookline/db";
import type { Logger } from "@hookline/logger";
import type { CircuitState } from "@hookline/metrics";
import {
  type AdminApp,
  type AdminContext,
  type AdminEnv,
  AdminTokens,
  auditJson,
  clientAddress,
  type Parsed,
  parseAuditParams,
  parseDeliveryListParams,
  parseEventParams,
  QueueUnavailableError,
  type RawParams,
  roleAllows,
} from "@hookline/operations";
import { displayUrl, Redactor } from "@hookline/redact";
import { routableEvent, routeTargets } from "@hookline/routing";
import type { MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { mountActions } from "./actions";
import { loadAssets } from "./assets";
import {
  type C,
  CSP,
  decodeFlash,
  encodeFlash,
  FLASH_COOKIE,
  type Form,
  field,
  here,
  idParam,
  LIVE_HEADER,
  localPath,
  PATHS,
  render,
} from "./http";
import { fromSameOrigin, type OpenSession, SESSION_COOKIE, Sessions } from "./session";
import { pgSessionStore } from "./session-store";
import { AuditLogPage } from "./views/audit";
import { DeliveriesPage } from "./views/deliveries";
import { EventPage } from "./views/event";
import { EventLogPage } from "./views/events";
import { DisabledPage, LoginPage, MessagePage } from "./views/layout";
import type { ListPageData } from "./views/list";
import { OverviewPage } from "./views/overview";
import type { Flash, PageEnv } from "./views/parts";

export interface DashboardDeps {
  /** The admin server's context: database, queues, targets and routes. */
  readonly context: AdminContext;
  /**
   * Sources and targets: filter choices, and every secret the pages must never show; `admin`:
   * the tokens that may sign in.
   */
  readonly config: Pick<HooklineConfig, "sources" | "targets" | "routes" | "admin">;
  /**
   * HOOKLINE_ADMIN_TOKEN, an operate token named `default` beside `admin.tokens`. With neither,
   * every page explains how to turn the dashboard on.
   */
  readonly adminToken: string | null;
  readonly logger: Logger;
  /** The circuit state of a target, when a worker runs in this process; else "unknown" is shown. */
  readonly circuitState?: (targetId: string) => CircuitState | undefined;
  /** How often an open page refreshes its live parts. Default 5 s. */
  readonly refreshSeconds?: number;
  readonly now?: () => number;
}

/**
 * A list page's rows, and what the page shows besides them: no rows, and why, when the filters
 * could not be read.
 */
async function readList<F, T>(
  params: RawParams,
  parsed: Parsed<F>,
  list: (filters: F) => Promise<Page<T>>,
): Promise<{ readonly rows: readonly T[]; readonly listed: ListPageData }> {
  if (!parsed.ok) return { rows: [], listed: { nextCursor: null, params, error: parsed.message } };
  const page = await list(parsed.value);
  return { rows: page.data, listed: { nextCursor: page.nextCursor, params, error: null } };
}

export function mountDashboard(app: AdminApp, deps: DashboardDeps): void {
  const { context: ctx, config, logger } = deps;
  const now = deps.now ?? Date.now;
  const refreshSeconds = deps.refreshSeconds ?? 5;
  const assets = loadAssets();
  const redactor = Redactor.fromConfig(config, deps.adminToken);
  const pool = ctx.database.pool;
  const tokens = new AdminTokens(config.admin.tokens, deps.adminToken);
  const sessions = tokens.empty ? null : new Sessions(tokens, pgSessionStore(pool), now);
  const addressOf = (c: C): string | null => {
    const address = clientAddress(c, ctx.config.server.trustedProxies);
    return address === "unknown" ? null : address;
  };
  /** The audit log's actor for what a session does: `dashboard:<token name>`. */
  const actorOf = (c: C, session: OpenSession): AuditActor => ({
    actor: `dashboard:${session.name}`,
    ip: addressOf(c),
  });
  const sourceIds = config.sources.map((s) => s.id);
  const targetIds = config.targets.map((t) => t.id);

  const secure: MiddlewareHandler<AdminEnv> = async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Frame-Options", "DENY");
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    c.header("Cross-Origin-Opener-Policy", "same-origin");
    if (!c.req.path.startsWith("/assets/")) c.header("Cache-Control", "no-store");
  };
  for (const path of PATHS) app.use(path, secure);

  const https = (c: C) =>
    new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";

  const setFlash = (c: C, flash: Flash) =>
    setCookie(c, FLASH_COOKIE, encodeFlash(flash), {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: 60,
      secure: https(c),
    });

  const takeFlash = (c: C): Flash | null => {
    if (c.req.header(LIVE_HEADER)) return null;
    const flash = decodeFlash(getCookie(c, FLASH_COOKIE));
    if (flash) deleteCookie(c, FLASH_COOKIE, { path: "/" });
    return flash;
  };

  const pageEnv = (c: C, session: OpenSession): PageEnv => ({
    csrf: session.csrf,
    canOperate: roleAllows(session.role, "POST"),
    signedInAs: `${session.name} (${session.role})`,
    now: now(),
    here: here(c),
    flash: takeFlash(c),
    refreshSeconds,
    assets: assets.urls,
  });

  const failure = (c: C, error: unknown) => {
    logger.error({ requestId: c.get("requestId"), path: c.req.path, err: error }, "dashboard: page failed");
    return render(
      c,
      <MessagePage
        assets={assets.urls}
        title="Something went wrong"
        message={`The page could not be built. The server log has the details (request ${c.get("requestId")}).`}
      />,
      500,
    );
  };

  /**
   * A signed-in GET page: without a session, the login form (then back here). The handler gets
   * what every page needs (`env`) as a function: it takes the flash message, so only call it to render.
   */
  const page =
    (handler: (c: C, env: () => PageEnv) => Promise<Response>) =>
    async (c: C): Promise<Response> => {
      if (!sessions) return render(c, <DisabledPage assets={assets.urls} />, 503);
      const session = await sessions.open(getCookie(c, SESSION_COOKIE));
      if (session === null) {
        if (c.req.header(LIVE_HEADER)) return c.text("session ended", 401);
        return c.redirect(`/login?next=${encodeURIComponent(here(c))}`, 303);
      }
      try {
        return await handler(c, () => pageEnv(c, session));
      } catch (error) {
        return failure(c, error);
      }
    };

  /**
   * A signed-in POST: a session whose token may change things, a same-origin request, the
   * session's CSRF token; then back. The handler acts as `dashboard:<token name>`.
   */
  const action =
    (handler: (c: C, form: Form, actor: AuditActor) => Promise<Flash>) =>
    async (c: C): Promise<Response> => {
      if (!sessions) return render(c, <DisabledPage assets={assets.urls} />, 503);
      const refuse = (message: string) =>
        render(c, <MessagePage assets={assets.urls} title="Request refused" message={message} />, 403);
      const session = await sessions.open(getCookie(c, SESSION_COOKIE));
      if (session === null) return refuse("Your session has ended. Sign in again and repeat the action.");
      if (!roleAllows(session.role, c.req.method)) {
        logger.warn(
          { requestId: c.get("requestId"), path: c.req.path, token: session.name },
          "dashboard: read-only session refused a change",
        );
        return refuse(
          `You are signed in with "${session.name}", a read-only token: it can look but not change anything.`,
        );
      }
      if (!sameOrigin(c)) return refuse("The request did not come from this dashboard.");
      const form = (await c.req.parseBody({ all: true })) as Form;
      if (!sessions.csrfMatches(session, field(form, "_csrf"))) {
        logger.warn(
          { requestId: c.get("requestId"), path: c.req.path },
          "dashboard: CSRF token missing or wrong",
        );
        return refuse(
          "The form was stale or did not come from this dashboard. Reload the page and try again.",
        );
      }
      let flash: Flash;
      try {
        flash = await handler(c, form, actorOf(c, session));
      } catch (error) {
        if (!(error instanceof QueueUnavailableError)) return failure(c, error);
        flash = { kind: "error", text: `Redis did not answer: ${error.message}` };
      }
      setFlash(c, flash);
      return c.redirect(localPath(field(form, "back")), 303);
    };

  const sameOrigin = (c: C) =>
    fromSameOrigin({
      host: c.req.header("host"),
      origin: c.req.header("origin"),
      secFetchSite: c.req.header("sec-fetch-site"),
    });

  // -- static files ------------------------------------------------------------------------------

  app.get("/assets/:file", (c) => {
    const asset = assets.byPath.get(c.req.path);
    if (!asset) return c.text("not found", 404);
    return c.body(new Uint8Array(asset.body), 200, {
      "content-type": asset.type,
      "cache-control": "public, max-age=31536000, immutable",
    });
  });

  // -- login -------------------------------------------------------------------------------------

  app.get("/login", async (c) => {
    if (!sessions) return render(c, <DisabledPage assets={assets.urls} />, 503);
    const next = localPath(c.req.query("next"));
    if ((await sessions.open(getCookie(c, SESSION_COOKIE))) !== null) return c.redirect(next, 303);
    return render(c, <LoginPage assets={assets.urls} next={next} error={null} />);
  });

  app.post("/login", async (c) => {
    if (!sessions) return render(c, <DisabledPage assets={assets.urls} />, 503);
    if (!sameOrigin(c)) {
      return render(
        c,
        <MessagePage
          assets={assets.urls}
          title="Request refused"
          message="Sign in from this dashboard's own page."
        />,
        403,
      );
    }
    const form = (await c.req.parseBody()) as Form;
    const next = localPath(field(form, "next"));
    // Counted per client address, with the API's failures: ten wrong tries from one address do
    // not lock anyone else out.
    const address = clientAddress(c, ctx.config.server.trustedProxies);
    const wait = ctx.authLimiter.retryAfterSeconds(address);
    if (wait > 0) {
      c.header("Retry-After", String(wait));
      return render(
        c,
        <LoginPage
          assets={assets.urls}
          next={next}
          error={`Too many failed sign-ins. Try again in ${wait} seconds.`}
        />,
        429,
      );
    }
    const principal = tokens.identify(field(form, "token") ?? "");
    if (principal === null) {
      ctx.authLimiter.failed(address);
      logger.warn({ requestId: c.get("requestId") }, "dashboard: failed sign-in");
      // Who tried is unknown, and what they typed is never kept: only where from.
      // Refused either way: a database that cannot take the row does not turn this into a 500.
      await insertAudit(pool, {
        actor: "dashboard",
        action: "login_failed",
        subject: null,
        details: {},
        ip: addressOf(c),
      }).catch((error: unknown) =>
        logger.error({ requestId: c.get("requestId"), err: error }, "dashboard: failed sign-in not audited"),
      );
      return render(
        c,
        <LoginPage assets={assets.urls} next={next} error="That is not this server's admin token." />,
        401,
      );
    }
    ctx.authLimiter.succeeded(address);
    const session = await sessions.issue(principal, addressOf(c), {
      actor: `dashboard:${principal.name}`,
      ip: addressOf(c),
    });
    setCookie(c, SESSION_COOKIE, session, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: sessions.ttlSeconds,
      secure: https(c),
    });
    logger.info({ requestId: c.get("requestId"), token: principal.name }, "dashboard: signed in");
    return c.redirect(next, 303);
  });

  app.post("/logout", async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = sessions ? await sessions.open(cookie) : null;
    if (sessions && session !== null) {
      const form = (await c.req.parseBody()) as Form;
      if (!sameOrigin(c) || !sessions.csrfMatches(session, field(form, "_csrf"))) {
        return render(
          c,
          <MessagePage
            assets={assets.urls}
            title="Request refused"
            message="Reload the page and try again."
          />,
          403,
        );
      }
      // Ended for good: a copy of the cookie taken before logout no longer works.
      await sessions.end(cookie);
    }
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/login", 303);
  });

  // -- pages -------------------------------------------------------------------------------------

  app.get(
    "/",
    page(async (c, env) => {
      const [overview, health, failures, failureCount, states, backlogs] = await Promise.all([
        getOverview(pool),
        getTargetHealth(pool),
        listIngestFailures(pool, { limit: 5 }),
        countIngestFailures(pool),
        targetStates(pool),
        targetBacklogs(pool),
      ]);
      const setAside = {
        total: failureCount,
        newest: failures.data.map((f) => ({ ...f, error: redactor.text(f.error) })),
      };
      const targets = config.targets.map((t) => ({
        id: t.id,
        url: redactor.text(displayUrl(t.url)),
        circuit: deps.circuitState?.(t.id) ?? ("unknown" as const),
        health: health.get(t.id),
        paused: states.get(t.id)?.paused ?? false,
        pausedAt: states.get(t.id)?.pausedAt ?? null,
        pausedReason: redactor.text(states.get(t.id)?.pausedReason ?? "") || null,
        waiting: backlogs.get(t.id)?.backlog ?? 0,
        oldestWaitingAt: backlogs.get(t.id)?.oldestPendingAt ?? null,
      }));
      return render(
        c,
        <OverviewPage data={{ overview, setAside, sources: sourceIds, targets }} env={env()} />,
      );
    }),
  );

  app.get(
    "/events",
    page(async (c, env) => {
      const params: RawParams = c.req.query();
      const q = params.q?.trim();
      // An event id goes straight to its page; anything else is looked up as a provider reference.
      if (q && /^evt_[0-9a-f]{32}$/i.test(q) && (await getEventRouting(pool, q))) {
        return c.redirect(`/events/${q}`, 303);
      }
      const parsed = parseEventParams({ ...params, ...(q ? { provider_id: q } : {}) }, now());
      const { rows, listed } = await readList(params, parsed, (filters) => listEvents(pool, filters));
      return render(
        c,
        <EventLogPage
          data={{ ...listed, events: rows, sources: sourceIds, targets: targetIds }}
          env={env()}
        />,
      );
    }),
  );

  app.get(
    "/events/:id",
    page(async (c, env) => {
      const id = idParam(c);
      const detail = await getEventDetail(ctx.database.db, id);
      if (!detail) {
        return render(
          c,
          <MessagePage
            assets={assets.urls}
            title="No such event"
            message={`There is no event ${id.slice(0, 64)}. It may have been purged by retention.`}
          />,
          404,
        );
      }
      const routed = routeTargets(config.routes, routableEvent(detail.event)).filter((t) =>
        targetIds.includes(t),
      );
      const sha256 = createHash("sha256").update(detail.event.body).digest("hex");
      return render(
        c,
        <EventPage data={{ detail, redactor, targets: targetIds, routed, sha256 }} env={env()} />,
      );
    }),
  );

  app.get(
    "/deliveries",
    page(async (c, env) => {
      const params: RawParams = c.req.query();
      const status = params.status?.trim() || "failed";
      const parsed = parseDeliveryListParams({ ...params, status }, now());
      const { rows, listed } = await readList(params, parsed, (filters) => listDeliveries(pool, filters));
      const eventTypes = await getEventTypes(
        pool,
        rows.map((d) => d.eventId),
      );
      return render(
        c,
        <DeliveriesPage
          data={{
            ...listed,
            deliveries: rows,
            status,
            eventTypes,
            sources: sourceIds,
            targets: targetIds,
            redactor,
          }}
          env={env()}
        />,
      );
    }),
  );

  app.get(
    "/audit",
    page(async (c, env) => {
      const params: RawParams = c.req.query();
      const parsed = parseAuditParams(params, now());
      const result = parsed.ok ? await listAudit(pool, parsed.value) : { data: [], nextCursor: null };
      return render(
        c,
        <AuditLogPage
          data={{
            entries: result.data.map((a) => auditJson(a, redactor)),
            nextCursor: result.nextCursor,
            params,
            error: parsed.ok ? null : parsed.message,
          }}
          env={env()}
        />,
      );
    }),
  );

  mountActions(app, { ctx, logger, now, action });
}
