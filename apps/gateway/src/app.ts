import type { IncomingMessage } from "node:http";
import type { HttpBindings } from "@hono/node-server";
import type { AddressList } from "@hookline/config";
import { clientAllowed } from "@hookline/config";
import type { Logger } from "@hookline/logger";
import type { Context } from "hono";
import { Hono } from "hono";
import { type BodyResult, drainAndDiscard, readRawBody } from "./body";
import { clientOf } from "./client-address";
import { type ErrorBody, GATEWAY_ERROR_STATUS, type GatewayErrorCode } from "./errors";
import { headersOf as headersOfIncoming, takeHandedOver } from "./fast-path";
import { type IngestDeps, type IngestVerdict, ingest } from "./ingest";
import { LogLimiter } from "./log-limiter";

export interface Readiness {
  readonly redis: boolean;
  readonly postgres: boolean;
  /** With `server.ingest_thread`: whether the thread runs (false between its end and its replacement). */
  readonly ingestThread?: boolean;
}

export interface IngestObserver {
  /** Called once per ingest request with its outcome code ("accepted" or a reason code) and duration. */
  observe(sourceId: string, outcome: string, seconds: number): void;
}

export interface GatewayAppDeps extends IngestDeps {
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  readonly bodyIdleTimeoutMs: number;
  readonly checkReady: () => Promise<Readiness>;
  /** Seconds a client is told to wait when the queue is unreachable. */
  readonly retryAfterSeconds: number;
  readonly newRequestId: () => string;
  readonly observer?: IngestObserver;
  /** `server.trusted_proxies`: whose X-Forwarded-For names the client. */
  readonly trustedProxies: AddressList | null;
}

type Env = { Bindings: Partial<HttpBindings>; Variables: { requestId: string } };

export function createGatewayApp(deps: GatewayAppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const rejections = new LogLimiter(20, 10_000);

  const fail = (
    c: Context<Env>,
    code: GatewayErrorCode,
    message: string,
    extra: { skew_seconds?: number; headers?: Record<string, string> } = {},
  ) => {
    const body: ErrorBody = {
      code,
      message,
      request_id: c.get("requestId"),
      ...(extra.skew_seconds === undefined ? {} : { skew_seconds: extra.skew_seconds }),
    };
    return c.json(body, GATEWAY_ERROR_STATUS[code], extra.headers);
  };

  /** The client as allow_ips sees it (trusted proxies applied); null with no socket or when unknowable. */
  const client = (c: Context<Env>): string | null => {
    const incoming = c.env.incoming;
    return incoming ? clientOf(incoming, deps.trustedProxies) : null;
  };

  const logRejection = (c: Context<Env>, sourceId: string, code: string, message: string) => {
    // Unconfigured source names are chosen by the client: one key for all of them, or a flood
    // of made-up names would get a log line each.
    const known = deps.sources.has(sourceId);
    const suppressed = rejections.admit(`${known ? sourceId : ""}:${code}`, deps.now());
    if (suppressed === null) return;
    deps.logger.warn(
      {
        requestId: c.get("requestId"),
        source: known ? sourceId : sourceId.slice(0, 64),
        ip: client(c) ?? undefined,
        code,
        suppressed: suppressed || undefined,
      },
      `rejected: ${message}`,
    );
  };

  app.use("*", async (c, next) => {
    c.set("requestId", deps.newRequestId());
    // HTTP/1.1 requires Host (RFC 9112 §3.2). Node would answer a bare 400 itself; answering
    // here gives the refusal a reason code, a log line and a count like every other one.
    const incoming = c.env.incoming;
    if (incoming && incoming.httpVersion === "1.1" && incoming.headers.host === undefined) {
      deps.observer?.observe("", "malformed_request", 0);
      logRejection(c, "", "malformed_request", "no Host header");
      return fail(c, "malformed_request", "HTTP/1.1 requests must carry a Host header");
    }
    await next();
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const ready = await deps.checkReady();
    // Readiness is "can accept": ingest needs Redis, and the ingest thread where there is one.
    // Postgres being away is reported, but a load balancer must not take every gateway out
    // during a Postgres outage (guarantees.md).
    const ok = ready.redis && ready.ingestThread !== false;
    return c.json(
      {
        status: ok ? "ready" : "not_ready",
        redis: ready.redis ? "up" : "down",
        postgres: ready.postgres ? "up" : "down",
        ...(ready.ingestThread === undefined ? {} : { ingest_thread: ready.ingestThread ? "up" : "down" }),
      },
      ok ? 200 : 503,
    );
  });

  app.post("/webhooks/:source", async (c) => {
    const started = performance.now();
    const sourceId = c.req.param("source");
    const finish = (outcome: string) =>
      deps.observer?.observe(sourceId, outcome, (performance.now() - started) / 1000);
    const source = deps.sources.get(sourceId);
    if (source === undefined) {
      finish("unknown_source");
      logRejection(c, sourceId, "unknown_source", "unknown source");
      return fail(c, "unknown_source", `no source named "${sourceId.slice(0, 64)}" is configured`);
    }
    // Before the body: a client the source does not take costs no buffering and no verification.
    // The fast path hands such a request over unread; what is left of it is dropped (bounded).
    const who = source.allowIps === null ? null : client(c);
    if (!clientAllowed(source.allowIps, who)) {
      if (c.env.incoming) drainAndDiscard(c.env.incoming);
      finish("ip_not_allowed");
      const why = who === null ? "client address unknown" : "client address not in allow_ips";
      logRejection(c, sourceId, "ip_not_allowed", why);
      return fail(c, "ip_not_allowed", "this source does not take requests from your address");
    }
    // What the fast path (fast-path.ts) already did for this request, if it handed it over.
    const early = c.env.incoming ? takeHandedOver(c.env.incoming) : undefined;
    const read = early?.body ?? (await readBody(c, deps));
    if (!read.ok) {
      if (read.reason === "client_gone") {
        finish("client_gone");
        return c.body(null, 400);
      }
      finish(read.reason);
      logRejection(c, sourceId, read.reason, read.reason);
      return read.reason === "body_too_large"
        ? fail(c, "body_too_large", `the body exceeds the ${deps.bodyLimitBytes}-byte limit`)
        : fail(c, "body_timeout", "the body stopped arriving");
    }
    // Providers sign the bytes before any compression; a compressed body would only ever fail
    // verification with a misleading code. RFC 9110 §15.5.16: 415, naming what is accepted.
    const encoding = c.req.header("content-encoding");
    if (encoding !== undefined && !isIdentity(encoding)) {
      finish("unsupported_content_encoding");
      logRejection(c, sourceId, "unsupported_content_encoding", "unsupported content encoding");
      return fail(
        c,
        "unsupported_content_encoding",
        `Content-Encoding "${encoding.slice(0, 32)}" is not accepted; send the body uncompressed`,
        { headers: { "Accept-Encoding": "identity" } },
      );
    }
    const outcome: IngestVerdict =
      early?.outcome ??
      (await ingest(deps, {
        sourceId,
        body: read.body,
        headers: headersOf(c),
        url: c.req.url,
      }));
    switch (outcome.kind) {
      case "accepted":
        finish("accepted");
        return c.json({ id: outcome.eventId }, 202);
      case "unknown_source":
        finish("unknown_source");
        return fail(c, "unknown_source", `no source named "${sourceId.slice(0, 64)}" is configured`);
      case "verification_failed": {
        const { reason, message, skewSeconds } = outcome.failure;
        finish(reason);
        logRejection(c, sourceId, reason, message);
        return fail(c, reason, message, skewSeconds === undefined ? {} : { skew_seconds: skewSeconds });
      }
      case "invalid_metadata":
        finish(outcome.reason);
        logRejection(c, sourceId, outcome.reason, outcome.message);
        return fail(c, outcome.reason, `${outcome.message}: it cannot be recorded, so it is not accepted`);
      case "enqueue_failed":
        finish("queue_unavailable");
        deps.logger.error(
          { requestId: c.get("requestId"), source: sourceId, err: outcome.error },
          "queue unavailable: answering 503",
        );
        return fail(
          c,
          "queue_unavailable",
          "the queue did not take the event in time; it is not acknowledged, retry later (a retry is not delivered twice)",
          {
            headers: { "Retry-After": String(deps.retryAfterSeconds) },
          },
        );
      default: {
        const exhaustive: never = outcome;
        return exhaustive;
      }
    }
  });

  // Refusals outside a source's path are counted and logged too, under no source.
  const refuse = (c: Context<Env>, code: "method_not_allowed" | "not_found", message: string) => {
    deps.observer?.observe("", code, 0);
    logRejection(c, "", code, message);
    return fail(c, code, message, code === "method_not_allowed" ? { headers: { Allow: "POST" } } : {});
  };
  app.all("/webhooks/:source", (c) =>
    refuse(c, "method_not_allowed", `${c.req.method} is not allowed; providers POST`),
  );
  app.notFound((c) => refuse(c, "not_found", "no such route"));
  app.onError((error, c) => {
    deps.logger.error({ requestId: c.get("requestId"), err: error }, "unhandled error");
    return fail(c, "internal_error", "internal error");
  });
  return app;
}

/** `identity` (or an empty list of codings) is the only content coding accepted. */
function isIdentity(contentEncoding: string): boolean {
  return contentEncoding.split(",").every((c) => {
    const coding = c.trim().toLowerCase();
    return coding === "" || coding === "identity";
  });
}

function headersOf(c: Context<Env>): Record<string, string> {
  const incoming: IncomingMessage | undefined = c.env.incoming;
  if (incoming) return headersOfIncoming(incoming);
  const out: Record<string, string> = {};
  c.req.raw.headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

async function readBody(c: Context<Env>, deps: GatewayAppDeps): Promise<BodyResult> {
  const incoming = c.env.incoming;
  if (incoming) {
    return readRawBody(incoming, { maxBytes: deps.bodyLimitBytes, idleTimeoutMs: deps.bodyIdleTimeoutMs });
  }
  // app.request() in tests: no socket, the body is already in memory.
  const body = Buffer.from(await c.req.arrayBuffer());
  return body.length > deps.bodyLimitBytes ? { ok: false, reason: "body_too_large" } : { ok: true, body };
}
