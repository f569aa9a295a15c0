import { type Hook, OpenAPIHono, type RouteConfig, type z } from "@hono/zod-openapi";
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
  type Page,
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
  auditFilters,
  auditJson,
  bearerToken,
  clientAddress,
  DeliveryFilterQuery,
  deliveryDetailJson,
  deliveryFilters,
  deliveryJson,
  deliveryListFilters,
  eventDetailJson,
  eventFilters,
  eventSummaryJson,
  getTarget,
  ingestFailureJson,
  issueProblem,
  listTargets,
  pageJson,
  pageParams,
  QueueUnavailableError,
  replayEvent,
  retryMany,
  retryOne,
  roleAllows,
  runJson,
  setPaused,
  targetJson,
} from "@hookline/operations";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Registry } from "prom-client";
import type { ZodError } from "zod";
import pkg from "../package.json" with { type: "json" };
import { PauseBody, ReplayBody, RetryManyBody, RetryOneBody, routes } from "./routes";

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
  const app = new OpenAPIHono<AdminEnv>({ defaultHook });
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

  app.openapi(routes.healthz, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(routes.metrics, async (c) => {
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

/** Each 404's code and words; the id follows them. */
const NOT_FOUND = {
  event: ["event_not_found", "no event"],
  delivery: ["delivery_not_found", "no delivery"],
  target: ["target_not_found", "no configured target"],
} as const;

/** The 404 for an id that names nothing; the id is the caller's text, so at most 64 characters of it. */
function notFound(what: keyof typeof NOT_FOUND, id: string): AdminError {
  const [code, words] = NOT_FOUND[what];
  return new AdminError(code, `${words} ${id.slice(0, 64)}`);
}

/** Who the audit log says made a change through the API: the token's name, from its address. */
function actorOf(c: Context<AdminEnv>): AuditActor {
  const address = c.get("clientAddress");
  return { actor: c.get("principal").name, ip: address === "unknown" ? null : address };
}

/**
 * A failed request schema as the API answers it: the first issue, `name: message`, with the code
 * the check carried (invalid_parameter, invalid_cursor) or, for a wrong type, invalid_parameter in
 * the query or path and invalid_body in a body: the codes the hand-written parsing gave.
 */
function refusal(error: ZodError, inBody: boolean): AdminError {
  const problem = issueProblem(error, inBody ? "invalid_body" : "invalid_parameter");
  return new AdminError(problem.code, problem.message);
}

/** zod-openapi's hook for every query and path schema: a refusal is thrown to the one error handler. */
const defaultHook: Hook<unknown, AdminEnv, string, undefined> = (result) => {
  if (!result.success) throw refusal(result.error, result.target === "json");
  return undefined;
};

/**
 * The optional JSON object body of a POST, validated by its route's schema; {} when empty. Read
 * whatever its content type (`curl -d` sends form-urlencoded), which zod-openapi's body
 * validator would refuse with 415, so routes with a body are mounted through documentBody.
 */
async function readBody<S extends z.ZodType>(c: Context<AdminEnv>, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let parsed: unknown = {};
  if (text.trim() !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AdminError("invalid_body", "the body is not valid JSON");
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AdminError("invalid_body", "the body must be a JSON object");
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw refusal(result.error, true);
  return result.data;
}

/**
 * A route with a JSON body: documented with it, and mounted without it (its handler reads the
 * body with readBody); the path and query are still validated by zod-openapi.
 */
function documentBody<R extends RouteConfig>(app: OpenAPIHono<AdminEnv>, route: R) {
  app.openAPIRegistry.registerPath(route);
  const { body: _documented, ...request } = route.request ?? {};
  return { ...route, request, hide: true };
}

/** A status array becomes "a,b"; null is absent: the body's filters as query-style strings. */
function bodyFilters(body: z.output<typeof RetryManyBody>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["status", "target", "source", "event", "since", "until"] as const) {
    const value = body[name];
    if (value === undefined || value === null) continue;
    out[name] = Array.isArray(value) ? value.join(",") : value;
  }
  return out;
}

/** The OpenAPI document of the routes mounted on `app`. */
export function openApiDocument(app: OpenAPIHono<AdminEnv>) {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Hookline admin API",
      version: pkg.version,
      description: "Errors answer { code, message, request_id }; the codes are stable (docs/admin-api.md).",
    },
    security: [{ bearer: [] }],
  });
}

function mountApi(
  app: OpenAPIHono<AdminEnv>,
  ctx: AdminContext,
  deps: AdminAppDeps,
  now: () => number,
): void {
  app.use(
    "/api/*",
    requireAdminToken(deps.tokens, deps.logger, ctx.authLimiter, ctx.config.server.trustedProxies),
  );
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An admin token (HOOKLINE_ADMIN_TOKEN or admin.tokens); a read token may only GET.",
  });

  // Behind the token like the rest of /api (a read token is enough): one rule for the whole
  // prefix, and the document, though it holds no secret, maps the surface for whoever reads it.
  // Built on first request, when every route is registered.
  let document: ReturnType<typeof openApiDocument> | undefined;
  /** One page of a listing read with `filters`, as the API answers it. */
  const listed = async <F, T, J>(
    filters: F,
    list: (pool: AdminContext["database"]["pool"], filters: F) => Promise<Page<T>>,
    toJson: (item: T) => J,
  ) => pageJson(await list(ctx.database.pool, filters), toJson);
  app.openapi(routes.openapi, (c) => {
    document ??= openApiDocument(app);
    return c.json(document, 200);
  });

  app.openapi(routes.audit, async (c) =>
    c.json(
      await listed(auditFilters(c.req.valid("query"), now()), listAudit, (a) => auditJson(a, ctx.redactor)),
      200,
    ),
  );

  app.openapi(routes.events, async (c) =>
    c.json(await listed(eventFilters(c.req.valid("query"), now()), listEvents, eventSummaryJson), 200),
  );

  app.openapi(routes.event, async (c) => {
    const { id } = c.req.valid("param");
    const detail = await getEventDetail(ctx.database.db, id);
    if (!detail) throw notFound("event", id);
    return c.json(eventDetailJson(detail, ctx.redactor), 200);
  });

  app.openapi(documentBody(app, routes.replay), async (c) => {
    const { id } = c.req.valid("param");
    const { targets } = await readBody(c, ReplayBody);
    const result = await replayEvent(ctx, actorOf(c), id, targets);
    switch (result.kind) {
      case "not_found":
        throw notFound("event", id);
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

  app.openapi(routes.targets, async (c) => {
    const targets = await listTargets(ctx);
    return c.json({ data: targets.map(targetJson) }, 200);
  });

  app.openapi(routes.target, async (c) => {
    const { id } = c.req.valid("param");
    const target = await getTarget(ctx, id);
    if (!target) throw notFound("target", id);
    return c.json(targetJson(target), 200);
  });

  app.openapi(documentBody(app, routes.pause), async (c) => {
    const { id } = c.req.valid("param");
    const { reason } = await readBody(c, PauseBody);
    const target = await setPaused(ctx, actorOf(c), id, { paused: true, reason });
    if (!target) throw notFound("target", id);
    deps.logger.info({ requestId: c.get("requestId"), target: id, reason }, "target paused");
    return c.json(targetJson(target), 200);
  });

  app.openapi(routes.resume, async (c) => {
    const { id } = c.req.valid("param");
    const target = await setPaused(ctx, actorOf(c), id, { paused: false });
    if (!target) throw notFound("target", id);
    deps.logger.info({ requestId: c.get("requestId"), target: id }, "target resumed");
    return c.json(targetJson(target), 200);
  });

  app.openapi(routes.ingestFailures, async (c) =>
    c.json(
      await listed(pageParams(c.req.valid("query")), listIngestFailures, (f) =>
        ingestFailureJson(f, ctx.redactor),
      ),
      200,
    ),
  );

  app.openapi(routes.deliveries, async (c) =>
    c.json(
      await listed(deliveryListFilters(c.req.valid("query"), now()), listDeliveries, (d) =>
        deliveryJson(d, ctx.redactor),
      ),
      200,
    ),
  );

  app.openapi(documentBody(app, routes.retryMany), async (c) => {
    const query = c.req.valid("query");
    const body = await readBody(c, RetryManyBody);
    // The body's filters over the query's, checked together by the same schema the query was.
    const merged = DeliveryFilterQuery.safeParse({ ...c.req.query(), ...bodyFilters(body) });
    if (!merged.success) throw refusal(merged.error, false);
    const filters = deliveryFilters(merged.data, now());
    const force = body.force ?? query.force ?? false;
    const dryRun = body.dry_run ?? query.dry_run ?? false;
    const result = await retryMany(ctx, actorOf(c), filters, { force, dryRun });
    switch (result.kind) {
      case "succeeded_needs_force":
        throw new AdminError(
          "delivery_succeeded",
          "retrying succeeded deliveries sends them again; pass force=true to do it on purpose",
        );
      case "dry_run":
        return c.json({ dry_run: true as const, matched: result.matched }, 200);
      case "retried":
        deps.logger.info({ requestId: c.get("requestId"), retried: result.retried }, "bulk retry");
        return c.json({ retried: result.retried }, 202);
      default: {
        const exhaustive: never = result;
        return exhaustive;
      }
    }
  });

  app.openapi(routes.delivery, async (c) => {
    const { id } = c.req.valid("param");
    const detail = await getDeliveryDetail(ctx.database.db, id);
    if (!detail) throw notFound("delivery", id);
    return c.json(deliveryDetailJson(detail.delivery, detail.attempts, ctx.redactor), 200);
  });

  app.openapi(documentBody(app, routes.retryOne), async (c) => {
    const { id } = c.req.valid("param");
    const body = await readBody(c, RetryOneBody);
    const force = body.force ?? c.req.valid("query").force ?? false;
    const result = await retryOne(ctx, actorOf(c), id, { force });
    switch (result.kind) {
      case "not_found":
        throw notFound("delivery", id);
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
