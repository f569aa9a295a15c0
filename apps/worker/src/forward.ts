import { StringDecoder } from "node:string_decoder";
import { Agent, errors, request } from "undici";

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
      readonly code: "timeout" | "connect_timeout" | "connection_error" | "broker_refused";
      readonly message: string;
      readonly durationMs: number;
    };

export interface ForwardRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly timeoutMs: number;
}

/** One connection pool per target, sized to its concurrency, with its connect timeout. */
export function createTargetAgent(concurrency: number, connectTimeoutMs: number): Agent {
  return new Agent({
    connections: concurrency,
    connect: { timeout: connectTimeoutMs },
    keepAliveTimeout: 4_000,
  });
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
    return { ...describeError(error, req.timeoutMs), durationMs: elapsed() };
  }
}

function describeError(
  error: unknown,
  timeoutMs: number,
): { kind: "error"; code: "timeout" | "connect_timeout" | "connection_error"; message: string } {
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
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: { code?: unknown } }).cause?.code;
  const name = typeof code === "string" ? code : typeof cause === "string" ? cause : "network error";
  return { kind: "error", code: "connection_error", message: `connection error (${name})` };
}
