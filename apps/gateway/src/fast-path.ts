// The hot path: a POST to a configured source that verifies and is queued is answered here,
// straight on node:http, without building a Fetch Request/Response for the Hono app (about a
// sixth of the gateway's CPU per request under load). Every other request, and every
// request of this kind that is not accepted, goes to the Hono app as before; what the fast
// path already did (the body read, the ingest outcome) is handed over, never done twice.
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { AddressList } from "@hookline/config";
import { clientAllowed } from "@hookline/config";
import type { IngestObserver } from "./app";
import { type BodyResult, readRawBody } from "./body";
import { clientOf } from "./client-address";
import { type IngestDeps, type IngestVerdict, ingest } from "./ingest";

export interface FastPathDeps extends IngestDeps {
  readonly bodyLimitBytes: number;
  readonly bodyIdleTimeoutMs: number;
  readonly observer?: IngestObserver;
  readonly trustedProxies: AddressList | null;
}

/** What the fast path did before handing a request to the app. */
export interface HandedOver {
  readonly body: BodyResult;
  readonly outcome?: IngestVerdict;
}

const handedOver = new WeakMap<IncomingMessage, HandedOver>();

/** The body (and ingest outcome) the fast path already has for this request, if any. */
export function takeHandedOver(incoming: IncomingMessage): HandedOver | undefined {
  const found = handedOver.get(incoming);
  handedOver.delete(incoming);
  return found;
}

const PREFIX = "/webhooks/";
/** Paths and hosts the app's adapter would use as they are (no URL normalisation). */
const SIMPLE_SOURCE = /^[A-Za-z0-9_-]{1,64}$/;
const SIMPLE_HOST = /^[a-z0-9._-]+(?::\d{1,5})?$/;

export function withFastPath(deps: FastPathDeps, app: RequestListener): RequestListener {
  return (req, res) => {
    const url = req.url ?? "";
    const host = req.headers.host;
    if (
      req.method !== "POST" ||
      !url.startsWith(PREFIX) ||
      req.headers["content-encoding"] !== undefined ||
      host === undefined ||
      !SIMPLE_HOST.test(host) ||
      (req.socket as Partial<TLSSocket>).encrypted
    ) {
      return app(req, res);
    }
    const sourceId = url.slice(PREFIX.length);
    const source = SIMPLE_SOURCE.test(sourceId) ? deps.sources.get(sourceId) : undefined;
    if (source === undefined) return app(req, res);
    // A client the source does not take is the app's to refuse (403), before its body is read.
    if (source.allowIps !== null && !clientAllowed(source.allowIps, clientOf(req, deps.trustedProxies)))
      return app(req, res);
    accept(deps, app, req, res, sourceId, `http://${host}${url}`).catch(() => {
      // Not expected (reading and ingesting report outcomes as values); never answer twice.
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end('{"code":"internal_error","message":"internal error"}');
      }
    });
  };
}

async function accept(
  deps: FastPathDeps,
  app: RequestListener,
  req: IncomingMessage,
  res: ServerResponse,
  sourceId: string,
  url: string,
): Promise<void> {
  const started = performance.now();
  const body = await readRawBody(req, {
    maxBytes: deps.bodyLimitBytes,
    idleTimeoutMs: deps.bodyIdleTimeoutMs,
  });
  if (!body.ok) {
    handedOver.set(req, { body });
    app(req, res);
    return;
  }
  const outcome = await ingest(deps, { sourceId, body: body.body, headers: headersOf(req), url });
  if (outcome.kind !== "accepted") {
    handedOver.set(req, { body, outcome });
    app(req, res);
    return;
  }
  deps.observer?.observe(sourceId, "accepted", (performance.now() - started) / 1000);
  const answer = `{"id":${JSON.stringify(outcome.eventId)}}`;
  res.writeHead(202, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
  res.end(answer);
}

/** Lower-cased names; repeated headers joined with ", " (the app reads them the same way). */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}
