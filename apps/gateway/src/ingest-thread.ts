// The ingest thread: verification and queueing run on a worker thread of the gateway process,
// so the HTTP thread only parses requests and writes answers. One process then uses a second
// core for what it spends most of its CPU on per request (bench/PROFILE.md, "Ingest on two
// threads"), with one V8 heap more instead of a process more (`server.workers`).
//
// The HTTP thread still reads the clock and starts the trace (so an injected clock and the
// tracer work as before), and answers 202 only when the thread says the event is in Redis. A
// thread that dies fails the requests it held with `enqueue_failed` (a 503: nothing accepted)
// and is started again; so does a thread that stops answering (a heartbeat), which is stopped.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { Batcher } from "@hookline/batch";
import type { Logger } from "@hookline/logger";
import type { SourceSpec } from "@hookline/verify";
import type { CheckRequest, IngestVerdict, VerifyAndQueue } from "./ingest";
import type { IngestQueueSettings } from "./ingest-queue";
import { withTimeout } from "./with-timeout";

/** What the thread is started with: plain data (a verifier is rebuilt there from its spec). */
export interface IngestThreadInit {
  readonly sources: readonly { readonly id: string; readonly spec: SourceSpec }[];
  readonly queue: IngestQueueSettings;
}

/** A verdict as it crosses threads: an Error does not, so its message does. */
export type WireVerdict =
  | Exclude<IngestVerdict, { readonly kind: "enqueue_failed" }>
  | { readonly kind: "enqueue_failed"; readonly message: string }
  /** The check threw (not expected): the request is answered 500, as on one thread. */
  | { readonly kind: "thrown"; readonly message: string };

export type ToThread =
  | { readonly kind: "check"; readonly id: number; readonly requests: readonly CheckRequest[] }
  | { readonly kind: "ping" }
  | { readonly kind: "close" };

export type FromThread =
  | { readonly kind: "ready" }
  | { readonly kind: "checked"; readonly id: number; readonly verdicts: readonly WireVerdict[] }
  | { readonly kind: "pong" };

export interface IngestThreadOptions {
  /**
   * A thread that has not answered a heartbeat for this long is stopped (and, like one that
   * died, replaced). Default: STUCK_AFTER_MS or twice the enqueue timeout, the longer.
   */
  readonly stuckAfterMs?: number;
}

export interface IngestThread {
  readonly verifyAndQueue: VerifyAndQueue;
  /** The running thread; null between a thread's end and its replacement (tests stop it). */
  current(): Worker | null;
  /** Lets queued writes finish, closes the thread's Redis connection and waits for it to exit. */
  close(): Promise<void>;
}

/**
 * Requests handed over in one message, at most. A message goes at the next turn of the event
 * loop while none is in flight, else once this many requests wait (Batcher: a full batch does
 * not wait). So at a moderate rate the requests that come while the thread works go together
 * (one message per request cost the gateway about a fifth more CPU at 2,000 events/s), and in a
 * burst the thread starts on the first sixteen while this thread parses the rest (with 64, the
 * ingest bench fell from 18,500 req/s to 10,000). Measured: bench/PROFILE.md.
 */
const MAX_REQUESTS_PER_MESSAGE = 16;
const RESTART_DELAY_MS = 1_000;
/**
 * A smaller young generation than V8's default for the thread: the gateway's peak RSS under the
 * ingest bench was 165 MB with it and 181-223 MB without, at the same requests per second
 * within the bench's noise (bench/PROFILE.md).
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 16 } as const;
const START_TIMEOUT_MS = 20_000;
/**
 * A thread whose event loop is blocked (a loop that never ends, a native call that never
 * returns) holds every request until its enqueue timeout, and would otherwise keep /readyz
 * green. A heartbeat goes every HEARTBEAT_MS; one unanswered for STUCK_AFTER_MS, or twice the
 * enqueue timeout when that is longer, ends the thread. Waiting on Redis does not block the
 * thread's event loop, so a slow Redis does not trip it. The heartbeat is answered after the
 * requests sent before it, so work queued for longer than that would trip it too; but then
 * every request it holds has waited past its enqueue timeout and been answered 503 already.
 */
const HEARTBEAT_MS = 1_000;
const STUCK_AFTER_MS = 10_000;
const CLOSE_TIMEOUT_MS = 10_000;

/** The reason of an `enqueue_failed` for requests held by a thread that stopped, or sent while none ran. */
export class IngestThreadDown extends Error {
  readonly code = "ingest_thread_down";
}

/** The reason of an `enqueue_failed` the thread gave (Redis refused or timed out), with its message. */
export class EnqueueFailedInThread extends Error {
  readonly code = "enqueue_failed";
}

/**
 * The thread's code: the compiled twin beside the bundle, or the TypeScript source loaded
 * through tsx (`pnpm dev`, the tests), whose loader a worker does not inherit on Node 20.
 */
function spawn(init: IngestThreadInit): Worker {
  const compiled = !import.meta.url.endsWith(".ts");
  if (compiled)
    return new Worker(new URL("./ingest-thread-entry.mjs", import.meta.url), {
      workerData: init,
      resourceLimits: THREAD_LIMITS,
    });
  const entry = new URL("./ingest-thread-entry.ts", import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: init, resourceLimits: THREAD_LIMITS });
}

/**
 * tsx's ESM API (`register()` makes the imports after it load TypeScript). Found through tsx's
 * own package.json: a require() resolve would give its CommonJS twin, which cannot register.
 */
function tsxApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("tsx/package.json");
  const { exports } = JSON.parse(readFileSync(manifest, "utf8")) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const file = exports["./esm/api"]?.import?.default;
  if (file === undefined) throw new Error("tsx does not export ./esm/api for import");
  return pathToFileURL(join(dirname(manifest), file)).href;
}

function verdictOf(wire: WireVerdict): IngestVerdict {
  if (wire.kind === "enqueue_failed")
    return { kind: "enqueue_failed", error: new EnqueueFailedInThread(wire.message) };
  if (wire.kind === "thrown") throw new Error(wire.message);
  return wire;
}

/** Starts the thread and resolves once it is ready to take requests. */
export async function startIngestThread(
  init: IngestThreadInit,
  logger: Logger,
  options: IngestThreadOptions = {},
): Promise<IngestThread> {
  const stuckAfterMs = options.stuckAfterMs ?? Math.max(STUCK_AFTER_MS, 2 * init.queue.enqueueTimeoutMs);
  // Counted in ticks, not by the clock: after this thread's own event loop was held up (a long
  // GC), the tick that comes first must not blame the ingest thread for the wait, and the pong
  // already waiting is read before the next tick.
  const tickMs = Math.min(HEARTBEAT_MS, stuckAfterMs / 2);
  const stuckAfterTicks = Math.ceil(stuckAfterMs / tickMs);
  let worker: Worker | null = null;
  /** The thread started last until it exits, ready or not (a start that takes too long is stopped). */
  let latest: Worker | null = null;
  let closing = false;
  let nextId = 0;
  const waiting = new Map<number, { resolve: (v: WireVerdict[]) => void; reject: (e: Error) => void }>();

  const failWaiting = (why: string) => {
    for (const [, w] of waiting) w.reject(new IngestThreadDown(why));
    waiting.clear();
  };

  const start = () =>
    new Promise<void>((ready, failed) => {
      const w = spawn(init);
      latest = w;
      let up = false;
      /** Ticks since the unanswered heartbeat went; null while none is unanswered. */
      let unansweredTicks: number | null = null;
      const heartbeat = setInterval(() => {
        if (!up) return;
        if (unansweredTicks === null) {
          unansweredTicks = 0;
          const ping: ToThread = { kind: "ping" };
          w.postMessage(ping);
        } else if (++unansweredTicks >= stuckAfterTicks) {
          clearInterval(heartbeat);
          logger.error(
            { silent_ms: unansweredTicks * tickMs },
            "ingest thread stopped answering; stopping it and starting another",
          );
          void w.terminate();
        }
      }, tickMs);
      heartbeat.unref();
      w.on("message", (message: FromThread) => {
        if (message.kind === "pong") {
          unansweredTicks = null;
          return;
        }
        if (message.kind === "ready") {
          up = true;
          worker = w;
          ready();
          return;
        }
        const entry = waiting.get(message.id);
        waiting.delete(message.id);
        entry?.resolve([...message.verdicts]);
      });
      w.on("error", (error) => logger.error({ err: error }, "ingest thread failed"));
      w.on("exit", (code) => {
        clearInterval(heartbeat);
        if (worker === w) worker = null;
        if (latest === w) latest = null;
        failWaiting(`the ingest thread stopped (exit code ${code})`);
        if (!up) {
          failed(new Error(`the ingest thread exited with code ${code} while starting`));
          return;
        }
        if (closing) return;
        logger.error({ code }, "ingest thread stopped; starting another");
        restart();
      });
    });
  // Tried again until it starts (or the gateway closes); until then requests are answered 503.
  const restart = (): void => {
    setTimeout(() => {
      if (closing) return;
      start().catch((error: unknown) => {
        logger.error({ err: error }, "ingest thread did not start; trying again");
        restart();
      });
    }, RESTART_DELAY_MS).unref();
  };

  let startTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    start(),
    new Promise<never>((_, reject) => {
      startTimer = setTimeout(() => {
        closing = true;
        void latest?.terminate();
        reject(new Error("the ingest thread did not start in time"));
      }, START_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(startTimer));

  const batcher = new Batcher<CheckRequest, WireVerdict>({
    write: (requests) =>
      new Promise<WireVerdict[]>((resolve, reject) => {
        if (worker === null) {
          reject(new IngestThreadDown("no ingest thread is running"));
          return;
        }
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        const message: ToThread = { kind: "check", id, requests };
        worker.postMessage(message);
      }),
    maxItems: MAX_REQUESTS_PER_MESSAGE,
    maxInFlight: 1,
  });

  return {
    current: () => worker,
    // The enqueue timeout counts from here: time spent waiting for the thread is part of it.
    verifyAndQueue: (request) =>
      withTimeout(batcher.call(request), init.queue.enqueueTimeoutMs, "enqueue").then(
        verdictOf,
        (error: unknown) => ({
          kind: "enqueue_failed" as const,
          error: error instanceof Error ? error : new Error(String(error)),
        }),
      ),
    close: async () => {
      closing = true;
      const w = latest;
      if (w === null) return;
      const exited = new Promise<void>((done) => w.once("exit", () => done()));
      // A thread still starting (a replacement) is stopped; a running one closes its queues first.
      if (w !== worker) void w.terminate();
      else {
        const message: ToThread = { kind: "close" };
        w.postMessage(message);
      }
      const timer = setTimeout(() => void w.terminate(), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
