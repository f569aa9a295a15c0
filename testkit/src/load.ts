// A provider that sends signed webhooks and retries until it gets a 202, and a target that
// records what reaches it and can be taken down: the two ends of an end-to-end fault test.
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import type { SourceConfig } from "@hookline/config";
import { signRequest } from "@hookline/verify";

export interface TargetHit {
  /** The Hookline event id (webhook-id). */
  readonly webhookId: string;
  readonly attempt: number;
  readonly at: number;
  readonly body: string;
  /** What the target answered. */
  readonly status: number;
}

export interface RecordingTarget {
  readonly url: string;
  readonly port: number;
  readonly hits: TargetHit[];
  /** Requests per webhook-id. */
  readonly counts: ReadonlyMap<string, number>;
  readonly isUp: boolean;
  /** Stops listening and drops every connection: connects are refused until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A target on loopback that answers (after `delayMs`) and records every request: 200, or what
 * `status` decides for the request (decided as it arrives, in arrival order).
 */
export async function startRecordingTarget(
  options: {
    readonly delayMs?: number;
    readonly status?: (webhookId: string) => number;
    /** The address to listen on (default 127.0.0.1): another host's view of this machine. */
    readonly host?: string;
  } = {},
): Promise<RecordingTarget> {
  const host = options.host ?? "127.0.0.1";
  const hits: TargetHit[] = [];
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const listen = async () => {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const webhookId = String(req.headers["webhook-id"] ?? "");
        const status = options.status?.(webhookId) ?? 200;
        hits.push({
          webhookId,
          attempt: Number(req.headers["hookline-attempt"] ?? 0),
          at: Date.now(),
          body: Buffer.concat(chunks).toString("utf8"),
          status,
        });
        counts.set(webhookId, (counts.get(webhookId) ?? 0) + 1);
        const answer = () => {
          res.writeHead(status, { "content-type": "text/plain" });
          res.end(status < 300 ? "ok" : "failed");
        };
        if (options.delayMs) setTimeout(answer, options.delayMs);
        else answer();
      });
    });
    s.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, host, () => resolve());
    });
    const address = s.address();
    if (address !== null && typeof address === "object") port = address.port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = null;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen();
  return {
    get url() {
      return `http://${host}:${port}`;
    },
    get port() {
      return port;
    },
    hits,
    counts,
    get isUp() {
      return server !== null;
    },
    down: stop,
    up: async () => {
      if (!server) await listen();
    },
    close: stop,
  };
}

export interface ProviderMessage {
  /** The provider's own id: the same on every retry of this message. */
  readonly id: string;
  readonly body: Buffer;
  readonly eventType?: string;
}

export type SendOutcome =
  | { readonly kind: "accepted"; readonly eventId: string }
  | { readonly kind: "refused"; readonly status: number; readonly code: string }
  | { readonly kind: "error"; readonly code: string };

/** Signs a message exactly as the source's provider would (fresh timestamp each send) and POSTs it. */
export async function sendMessage(
  baseUrl: string,
  source: SourceConfig,
  message: ProviderMessage,
  timeoutMs = 10_000,
): Promise<SendOutcome> {
  const signed = signRequest(source.spec, {
    body: message.body,
    nowMs: Date.now(),
    id: message.id,
    ...(message.eventType ? { eventType: message.eventType } : {}),
  });
  if (!signed.ok) throw new Error(signed.message);
  try {
    const res = await fetch(`${baseUrl}/webhooks/${source.id}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signed.headers },
      body: message.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: { id?: string; code?: string } = {};
    try {
      parsed = JSON.parse(text) as { id?: string; code?: string };
    } catch {
      // not JSON: keep the status
    }
    if (res.status === 202 && parsed.id) return { kind: "accepted", eventId: parsed.id };
    return { kind: "refused", status: res.status, code: parsed.code ?? "" };
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    const name = (error as { name?: unknown }).name;
    return {
      kind: "error",
      code: typeof cause === "string" ? cause : typeof name === "string" ? name : "error",
    };
  }
}

export interface Accepted {
  readonly messageId: string;
  readonly eventId: string;
  /** When the accepted request was sent, and when its 202 arrived. */
  readonly sentAt: number;
  readonly at: number;
}

export interface LoadStats {
  readonly accepted: Accepted[];
  /** Answers other than 202, by status and code (e.g. "503 queue_unavailable"). */
  readonly refused: Map<string, number>;
  /** Transport errors by code (ECONNREFUSED, TimeoutError, ...). */
  readonly errors: Map<string, number>;
}

export interface LoadOptions {
  readonly baseUrl: () => string;
  readonly source: SourceConfig;
  readonly concurrency: number;
  /** Messages started per second at most (0 = as fast as the gateway answers). */
  readonly ratePerSecond?: number;
  /** Pause before a refused or failed message is sent again (a provider's retry). */
  readonly retryDelayMs?: number;
}

export interface LoadRun {
  readonly stats: LoadStats;
  /** Messages not yet accepted (including those waiting to be retried). */
  readonly outstanding: number;
  /** Stops starting sends (sends in flight finish); resume() carries on. */
  pause(): void;
  resume(): void;
  /** Resolves when every message has been accepted. */
  done(): Promise<void>;
}

/**
 * Sends every message until the gateway accepts it, as a provider does: a 202 is final; any
 * other answer or a transport error means "try again later" (the same message, re-signed).
 */
export function runLoad(messages: readonly ProviderMessage[], options: LoadOptions): LoadRun {
  const stats: LoadStats = { accepted: [], refused: new Map(), errors: new Map() };
  const queue = [...messages];
  let outstanding = messages.length;
  let paused = false;
  const waiting: Array<() => void> = [];
  const interval = options.ratePerSecond ? 1000 / options.ratePerSecond : 0;
  let nextStart = Date.now();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  const lane = async (): Promise<void> => {
    for (;;) {
      while (paused) await new Promise<void>((r) => waiting.push(r));
      const message = queue.shift();
      if (!message) {
        if (outstanding === 0) return;
        await new Promise((r) => setTimeout(r, 50)); // others are still retrying
        continue;
      }
      if (interval > 0) {
        const wait = nextStart - Date.now();
        nextStart = Math.max(nextStart, Date.now()) + interval;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const sentAt = Date.now();
      const outcome = await sendMessage(options.baseUrl(), options.source, message);
      if (outcome.kind === "accepted") {
        stats.accepted.push({ messageId: message.id, eventId: outcome.eventId, sentAt, at: Date.now() });
        outstanding--;
        continue;
      }
      if (outcome.kind === "refused") bump(stats.refused, `${outcome.status} ${outcome.code}`);
      else bump(stats.errors, outcome.code);
      // Try this one again later, without holding up the lane.
      setTimeout(() => queue.push(message), options.retryDelayMs ?? 500);
    }
  };
  const lanes = Promise.all(Array.from({ length: options.concurrency }, lane));
  return {
    stats,
    get outstanding() {
      return outstanding;
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      for (const r of waiting.splice(0)) r();
    },
    done: () => lanes.then(() => undefined),
  };
}
