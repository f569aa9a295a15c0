import { StringDecoder } from "node:string_decoder";
import type { TargetTls } from "@hookline/config";
import { Agent, buildConnector, errors, request } from "undici";

export const RESPONSE_EXCERPT_BYTES = 4096;

/** Complete UTF-8 characters only: a character cut by `max` is left out, not mangled. */
function utf8Prefix(bytes: Buffer, max: number): string {
  return new StringDecoder("utf8").write(bytes.subarray(0, max));
}

/**
 * The start of a target's answer as text Postgres can store: at most 4 KiB of UTF-8, cut at a
 * character boundary, invalid bytes and NULs (which a text column refuses) replaced by U+FFFD.
 * An answer that could not be stored would fail the job after the request was sent, and the
 * retry would send the event again, for ever.
 */
export function responseExcerpt(bytes: Buffer): string {
  const text = utf8Prefix(bytes, RESPONSE_EXCERPT_BYTES).replaceAll("\u0000", "\uFFFD");
  const encoded = Buffer.from(text, "utf8");
  return encoded.length <= RESPONSE_EXCERPT_BYTES ? text : utf8Prefix(encoded, RESPONSE_EXCERPT_BYTES);
}

export type ForwardResult =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly bodyExcerpt: string;
      /** From Retry-After (seconds or an HTTP date), when the target sent one. */
      readonly retryAfterMs: number | null;
      readonly durationMs: number;
    }
  | {
      /** A broker took the message: RabbitMQ's publisher confirm, NATS JetStream's ack. */
      readonly kind: "ack";
      /** What the broker answered, as stored in `response_body`. */
      readonly answer: string;
      readonly durationMs: number;
    }
  | {
      readonly kind: "error";
      readonly code: "timeout" | "connect_timeout" | "connection_error" | "tls_error" | "broker_refused";
      readonly message: string;
      readonly durationMs: number;
    };

export interface ForwardRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly timeoutMs: number;
}

/**
 * What a target's connections said about TLS that undici's errors lose. With TLS 1.3 a server
 * that refuses the client certificate says so only after the client has sent its request; undici
 * then reports the close as "other side closed" (its own error replaces the TLS one). Alerts are
 * kept here by the connection's local port, for forward() to record as the reason.
 */
class TlsNotes {
  readonly #alerts = new Map<number, string>();

  constructor(readonly clientCertificate: boolean) {}

  record(port: number, text: string): void {
    this.#alerts.set(port, text);
    setTimeout(() => this.#alerts.delete(port), 10_000).unref();
  }

  take(port: unknown): string | null {
    if (typeof port !== "number") return null;
    const text = this.#alerts.get(port) ?? null;
    this.#alerts.delete(port);
    return text;
  }
}

const tlsNotes = new WeakMap<Agent, TlsNotes>();

/**
 * One connection pool per target, sized to its concurrency, with its connect timeout and, for
 * `tls`, its CA and client certificate. A configured CA replaces the default roots (as Node's
 * `ca` does): a target behind an internal CA trusts that CA, not the public ones. Certificates
 * are always verified.
 */
export function createTargetAgent(
  concurrency: number,
  connectTimeoutMs: number,
  tls: TargetTls | null = null,
): Agent {
  const connector = buildConnector({
    timeout: connectTimeoutMs,
    ...(tls?.ca ? { ca: tls.ca } : {}),
    ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key.pem() } : {}),
  });
  const notes = new TlsNotes(Boolean(tls?.cert && tls.key));
  const agent = new Agent({
    connections: concurrency,
    connect: (options, callback) =>
      connector(options, (...outcome) => {
        const socket = outcome[1];
        socket?.on("error", (e: Error) => {
          const text = tlsFailure(e);
          if (text !== null && socket.localPort !== undefined) notes.record(socket.localPort, text);
        });
        callback(...outcome);
      }),
    keepAliveTimeout: 4_000,
  });
  tlsNotes.set(agent, notes);
  return agent;
}

export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/**
 * POSTs the event to a target. Never throws: every outcome is a value. Redirects are not
 * followed (undici's request does not follow them), and only the first 4 KiB of the answer
 * is read.
 */
export async function forward(
  agent: Agent,
  req: ForwardRequest,
  now: () => number = Date.now,
): Promise<ForwardResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(req.timeoutMs);
  try {
    const res = await request(req.url, {
      method: "POST",
      headers: req.headers,
      body: req.body,
      dispatcher: agent,
      signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        chunks.push(buf);
        size += buf.length;
        if (size >= RESPONSE_EXCERPT_BYTES) break;
      }
    } catch {
      // A body cut short still leaves the status, which is what decides the outcome.
    }
    if (size >= RESPONSE_EXCERPT_BYTES) res.body.destroy();
    const excerpt = responseExcerpt(Buffer.concat(chunks));
    return {
      kind: "response",
      status: res.statusCode,
      bodyExcerpt: excerpt,
      retryAfterMs: parseRetryAfter(res.headers["retry-after"], now()),
      durationMs: elapsed(),
    };
  } catch (error) {
    return { ...describeFailure(agent, error, req.timeoutMs), durationMs: elapsed() };
  }
}

type FailureCode = "timeout" | "connect_timeout" | "connection_error" | "tls_error";

function describeFailure(
  agent: Agent,
  error: unknown,
  timeoutMs: number,
): { kind: "error"; code: FailureCode; message: string } {
  const notes = tlsNotes.get(agent);
  const { code, socket } = error as { code?: unknown; socket?: { localPort?: unknown; bytesRead?: unknown } };
  const alert = notes?.take(socket?.localPort);
  if (alert) return { kind: "error", code: "tls_error", message: `TLS error (${alert})` };
  // Some servers (Node's among them) refuse a client certificate by closing without an alert.
  if (notes?.clientCertificate && code === "UND_ERR_SOCKET" && socket?.bytesRead === 0) {
    return {
      kind: "error",
      code: "connection_error",
      message:
        "connection error (UND_ERR_SOCKET): the server closed the connection without answering; a server that refuses the client certificate may do this",
    };
  }
  return describeError(error, timeoutMs);
}

/**
 * Certificate verification codes (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `CERT_HAS_EXPIRED`...), Node's
 * `ERR_TLS_*` (`ERR_TLS_CERT_ALTNAME_INVALID`) and OpenSSL's `ERR_SSL_*` (an alert from the
 * server, e.g. `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED` when it wants a client certificate).
 */
const TLS_CODE =
  /^ERR_(?:SSL|TLS)_|CERT|CRL|^UNABLE_TO_|^INVALID_(?:CA|PURPOSE)$|^PATH_LENGTH_EXCEEDED$|^HOSTNAME_MISMATCH$/;

/** The TLS failure behind an error (undici may wrap it as the cause), as "CODE: what OpenSSL said". */
function tlsFailure(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // OpenSSL's errors carry a short `reason` ("tlsv13 alert certificate required"); its message is a dump.
    const reason = (e as { reason?: unknown }).reason;
    if (typeof code === "string" && TLS_CODE.test(code))
      return `${code}: ${typeof reason === "string" ? reason : e.message}`;
  }
  return null;
}

function describeError(
  error: unknown,
  timeoutMs: number,
): { kind: "error"; code: FailureCode; message: string } {
  if (error instanceof errors.ConnectTimeoutError) {
    return { kind: "error", code: "connect_timeout", message: "connect timeout" };
  }
  if (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
  ) {
    return { kind: "error", code: "timeout", message: `timeout after ${timeoutMs} ms` };
  }
  // Retried like a connection error: a certificate can be renewed or a CA fixed in the meantime.
  const tls = tlsFailure(error);
  if (tls !== null) return { kind: "error", code: "tls_error", message: `TLS error (${tls})` };
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: { code?: unknown } }).cause?.code;
  const name = typeof code === "string" ? code : typeof cause === "string" ? cause : "network error";
  return { kind: "error", code: "connection_error", message: `connection error (${name})` };
}
