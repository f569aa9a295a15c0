import type { AddressList } from "@hookline/config";
import {
  type AuditActor,
  getDeliveryDetail,
  getEventDetail,
  InvalidCursorError,
  listAudit,
  listDeliveries,
  listEvents,
  listIngestFailures,
  newId,
} from "@hookline/db";
import type { Logger } from "@hookline/logger";
import {
  type AdminApp,
  type AdminContext,
  type AdminEnv,
  AdminError,
  type AdminErrorBody,
  type AdminErrorCode,
  type AdminTokens,
  type AuthLimiter,
  auditJson,
  bearerToken,
  clientAddress,
  deliveryDetailJson,
  deliveryJson,
  eventDetailJson,
  eventSummaryJson,
  getTarget,
  ingestFailureJson,
  listTargets,
  type Parsed,
  pageJson,
  parseAuditParams,
  parseDeliveryFilterParams,
  parseDeliveryListParams,
  parseEventParams,
  parsePageParams,
  QueueUnavailableError,
  type RawParams,
  readPauseReason,
  replayEvent,
  retryMany,
  retryOne,
  roleAllows,
  runJson,
  setPaused,
  targetJson,
  textProblem,
} from "@hookline/operations";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Registry } from "prom-client";

/** Admin bodies are small (a login form, a retry's filters); 64 KiB leaves room and bounds memory. */
export const ADMIN_BODY_LIMIT_BYTES = 64 * 1024;

export interface AdminAppDeps {
  readonly logger: Logger;
  /** Served at GET /metrics, without a token. */
  readonly registry: Registry;
  /** The bearer tokens for /api. None: the API is disabled and says so (503 admin_api_disabled). */
  readonly tokens: AdminTokens;
  /** null: a metrics-only server (a worker run alone); no /api routes at all. */
  readonly context: AdminContext | null;
  readonly now?: () => number;
  readonly newRequestId?: () => string;
}

/**
 * The admin port's app: `/healthz`, `/metrics`, and `/api/*` behind the bearer token. `/` is
 * left free for the dashboard, which adds its routes to the returned app.
 */
export function createAdminApp(deps: AdminAppDeps): AdminApp {
  const app = new Hono<AdminEnv>();
  const now = deps.now ?? Date.now;
  const newRequestId = deps.newRequestId ?? (() => newId("req"));

  app.use("*", async (c, next) => {
    const requestId = newRequestId();
    c.set("requestId", requestId);
    await next();
    c.header("request-id", requestId);
  });

  // Every body the admin port reads (API JSON, the dashboard's forms, the login) is bounded
  // before it is parsed: counted while it arrives, so a chunked body without a length is cut
  // off too, and refused with 413 before the rest is buffered.
  app.use(
    "*",
    bodyLimit({
      maxSize: ADMIN_BODY_LIMIT_BYTES,
      onError: (c) =>
        errorResponse(
          c,
          "body_too_large",
          `the body exceeds the admin port's ${ADMIN_BODY_LIMIT_BYTES}-byte limit`,
        ),
    }),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/metrics", async (c) => {
    const text = await deps.registry.metrics();
    return c.text(text, 200, { "content-type": deps.registry.contentType });
  });

  if (deps.context) mountApi(app, deps.context, deps, now);

  app.notFound((c) => errorResponse(c, "not_found", "no such route"));
  app.onError((error, c) => {
    if (error instanceof AdminError) return errorResponse(c, error.code, error.message);
    if (error instanceof InvalidCursorError) return errorResponse(c, "invalid_cursor", error.message);
    if (error instanceof QueueUnavailableError) {
      deps.logger.error({ requestId: c.get("requestId"), err: error }, "queue unavailable");
      // Only operations (which need a context) queue jobs, so the context is there.
      const retryAfter = deps.context?.config.server.retryAfterSeconds;
      if (retryAfter !== undefined) c.header("Retry-After", String(retryAfter));
      return errorResponse(c, "queue_unavailable", error.message);
    }
    deps.logger.error({ requestId: c.get("requestId"), err: error }, "unhandled error");
    return errorResponse(c, "internal_error", "internal error");
  });
  return app;
}

function errorResponse(c: Context<AdminEnv>, code: AdminErrorCode, message: string) {
  const error = new AdminError(code, message);
  const body: AdminErrorBody = { code, message, request_id: c.get("requestId") };
  return c.json(body, error.status);
}

/**
 * Bearer authentication for /api: 401 without a configured token, compared in constant time; an
 * address that keeps failing is refused with 429 for a while, before its token is even looked at.
 * A `read` token may only GET: anything else is 403 forbidden, decided here for every route at
 * once, so a route added later cannot forget it.
 */
export function requireAdminToken(
  tokens: AdminTokens,
  logger: Logger,
  limiter: AuthLimiter,
  trustedProxies: AddressList | null = null,
): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    if (tokens.empty) {
      throw new AdminError(
        "admin_api_disabled",
        "the admin API is disabled because no admin token is configured; set HOOKLINE_ADMIN_TOKEN (openssl rand -hex 32) or admin.tokens in the config, and restart",
      );
    }
    const address = clientAddress(c, trustedProxies);
    const wait = limiter.retryAfterSeconds(address);
    if (wait > 0) {
      c.header("Retry-After", String(wait));
      throw new AdminError(
        "too_many_failures",
        `too many requests with a wrong or missing token from this address; try again in ${wait} s`,
      );
    }
    const presented = bearerToken(c.req.header("authorization"));
    const principal = presented === null ? null : tokens.identify(presented);
    if (principal === null) {
      limiter.failed(address);
      logger.warn(
        {
          requestId: c.get("requestId"),
          path: c.req.path,
          reason: presented === null ? "missing" : "mismatch",
        },
        "admin API: unauthorized request",
      );
      c.header("WWW-Authenticate", 'Bearer realm="hookline-admin"');
      throw new AdminError(
        "unauthorized",
        presented === null
          ? "send Authorization: Bearer <admin token>"
          : "the bearer token is not one of this server's admin tokens",
      );
    }
    limiter.succeeded(address);
    if (!roleAllows(principal.role, c.req.method)) {
      logger.warn(
        { requestId: c.get("requestId"), path: c.req.path, method: c.req.method, token: principal.name },
        "admin API: read-only token refused a change",
      );
      throw new AdminError(
        "forbidden",
        `the token "${principal.name}" has the read role: it may only GET; this needs an operate token`,
      );
    }
    c.set("principal", principal);
    c.set("clientAddress", address);
    await next();
  };
}

/** The route's `:id`; one Postgres could not even compare (a NUL) is a 400, not a 500. */
function pathId(c: Context<AdminEnv>): string {
  const id = c.req.param("id") ?? "";
  const problem = textProblem(id);
  if (problem) throw new AdminError("invalid_parameter", `id: ${problem}`);
  return id;
}

/** Who the audit log says made a change through the API: the token's name, from its address. */
function actorOf(c: Context<AdminEnv>): AuditActor {
  const address = c.get("clientAddress");
  return { actor: c.get("principal").name, ip: address === "unknown" ? null : address };
}

function unwrap<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new AdminError(parsed.code, parsed.message);
  return parsed.value;
}

function query(c: Context<AdminEnv>): RawParams {
  return c.req.query();
}

/** The optional JSON object body of a POST; {} when empty. */
async function jsonBody(c: Context<AdminEnv>): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AdminError("invalid_body", "the body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AdminError("invalid_body", "the body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined || value === null || value === "" || value === false || value === "false")
    return false;
  if (value === true || value === "true" || value === "1") return true;
  throw new AdminError("invalid_parameter", `${name}: expected true or false`);
}

/** Body fields as query-style strings: a status array becomes "a,b". */
function bodyParams(body: Record<string, unknown>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = body[name];
    if (value === undefined || value === null) continue;
    if (typeof value === "string") out[name] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === "string")) out[name] = value.join(",");
    else throw new AdminError("invalid_body", `${name}: expected a string`);
  }
  return out;
}

function mountApi(app: AdminApp, ctx: AdminContext, deps: AdminAppDeps, now: () => number): void {
  app.use(
    "/api/*",
    requireAdminToken(deps.tokens, deps.logger, ctx.authLimiter, ctx.config.server.trustedProxies),
  );

  app.get("/api/audit", async (c) => {
    const filters = unwrap(parseAuditParams(query(c), now()));
    const page = await listAudit(ctx.database.pool, filters);
    return c.json(pageJson(page, (a) => auditJson(a, ctx.redactor)));
  });

  app.get("/api/events", async (c) => {
    const filters = unwrap(parseEventParams(query(c), now()));
    const page = await listEvents(ctx.database.pool, filters);
    return c.json(pageJson(page, eventSummaryJson));
  });

  app.get("/api/events/:id", async (c) => {
    const id = pathId(c);
    const detail = await getEventDetail(ctx.database.db, id);
    if (!detail) throw new AdminError("event_not_found", `no event ${id.slice(0, 64)}`);
    return c.json(eventDetailJson(detail, ctx.redactor));
  });

  app.post("/api/events/:id/replay", async (c) => {
    const id = pathId(c);
    const body = await jsonBody(c);
    let targets: string[] | undefined;
    if (body.targets !== undefined) {
      if (!Array.isArray(body.targets) || !body.targets.every((t) => typeof t === "string" && t !== "")) {
        throw new AdminError("invalid_body", "targets: expected an array of target ids");
      }
      targets = body.targets as string[];
    }
    const result = await replayEvent(ctx, actorOf(c), id, targets);
    switch (result.kind) {
      case "not_found":
        throw new AdminError("event_not_found", `no event ${id.slice(0, 64)}`);
      case "unknown_targets":
        throw new AdminError(
          "unknown_target",
          `no target named ${result.targets.map((t) => `"${t.slice(0, 64)}"`).join(", ")} is configured`,
        );
      case "replayed":
        deps.logger.info(
          { requestId: c.get("requestId"), eventId: id, deliveries: result.runs.map((r) => r.id) },
          "event replayed",
        );
        return c.json({ event_id: id, deliveries: result.runs.map(runJson) }, 202);
      default: {
        const exhaustive: never = result;
        return exhaustive;
      }
    }
  });

  app.get("/api/targets", async (c) => {
    const targets = await listTargets(ctx);
    return c.json({ data: targets.map(targetJson) });
  });

  app.get("/api/targets/:id", async (c) => {
    const id = pathId(c);
    const target = await getTarget(ctx, id);
    if (!target) throw new AdminError("target_not_found", `no configured target ${id.slice(0, 64)}`);
    return c.json(targetJson(target));
  });

  app.post("/api/targets/:id/pause", async (c) => {
    const id = pathId(c);
    const body = await jsonBody(c);
    const read = readPauseReason(body.reason);
    if (!read.ok) throw new AdminError("invalid_body", read.message);
    const { reason } = read;
    const target = await setPaused(ctx, actorOf(c), id, { paused: true, reason });
    if (!target) throw new AdminError("target_not_found", `no configured target ${id.slice(0, 64)}`);
    deps.logger.info({ requestId: c.get("requestId"), target: id, reason }, "target paused");
    return c.json(targetJson(target));
  });

  app.post("/api/targets/:id/resume", async (c) => {
    const id = pathId(c);
    const target = await setPaused(ctx, actorOf(c), id, { paused: false });
    if (!target) throw new AdminError("target_not_found", `no configured target ${id.slice(0, 64)}`);
    deps.logger.info({ requestId: c.get("requestId"), target: id }, "target resumed");
    return c.json(targetJson(target));
  });

  app.get("/api/ingest-failures", async (c) => {
    const params = unwrap(parsePageParams(query(c)));
    const page = await listIngestFailures(ctx.database.pool, params);
    return c.json(pageJson(page, (f) => ingestFailureJson(f, ctx.redactor)));
  });

  app.get("/api/deliveries", async (c) => {
    const filters = unwrap(parseDeliveryListParams(query(c), now()));
    const page = await listDeliveries(ctx.database.pool, filters);
    return c.json(pageJson(page, (d) => deliveryJson(d, ctx.redactor)));
  });

  app.post("/api/deliveries/retry", async (c) => {
    const body = await jsonBody(c);
    const params = {
      ...query(c),
      ...bodyParams(body, ["status", "target", "source", "event", "since", "until"]),
    };
    const filters = unwrap(parseDeliveryFilterParams(params, now()));
    const force = flag(body.force ?? c.req.query("force"), "force");
    const dryRun = flag(body.dry_run ?? c.req.query("dry_run"), "dry_run");
    const result = await retryMany(ctx, actorOf(c), filters, { force, dryRun });
    switch (result.kind) {
      case "succeeded_needs_force":
        throw new AdminError(
          "delivery_succeeded",
          "retrying succeeded deliveries sends them again; pass force=true to do it on purpose",
        );
      case "dry_run":
        return c.json({ dry_run: true, matched: result.matched });
      case "retried":
        deps.logger.info({ requestId: c.get("requestId"), retried: result.retried }, "bulk retry");
        return c.json({ retried: result.retried }, 202);
      default: {
        const exhaustive: never = result;
        return exhaustive;
      }
    }
  });

  app.get("/api/deliveries/:id", async (c) => {
    const id = pathId(c);
    const detail = await getDeliveryDetail(ctx.database.db, id);
    if (!detail) throw new AdminError("delivery_not_found", `no delivery ${id.slice(0, 64)}`);
    return c.json(deliveryDetailJson(detail.delivery, detail.attempts, ctx.redactor));
  });

  app.post("/api/deliveries/:id/retry", async (c) => {
    const id = pathId(c);
    const body = await jsonBody(c);
    const force = flag(body.force ?? c.req.query("force"), "force");
    const result = await retryOne(ctx, actorOf(c), id, { force });
    switch (result.kind) {
      case "not_found":
        throw new AdminError("delivery_not_found", `no delivery ${id.slice(0, 64)}`);
      case "succeeded":
        throw new AdminError(
          "delivery_succeeded",
          "the delivery already succeeded; retrying sends it again: pass force=true to do it on purpose",
        );
      case "target_not_configured":
        throw new AdminError(
          "target_not_configured",
          `the delivery's target "${result.targetId}" is no longer configured`,
        );
      case "transform_failed":
        throw new AdminError(
          "transform_failed",
          "its route's transform failed, so it has nothing to send: replay the event to apply the transform again",
        );
      case "retried":
        deps.logger.info(
          { requestId: c.get("requestId"), delivery: id, run: result.run.runNumber },
          "delivery retried",
        );
        return c.json(runJson(result.run), 202);
      default: {
        const exhaustive: never = result;
        return exhaustive;
      }
    }
  });
}
