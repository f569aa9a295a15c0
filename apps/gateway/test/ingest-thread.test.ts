// The ingest thread (src/ingest-thread.ts) against the real Redis: what it answers, and what
// happens to the requests it holds when it dies or stops answering.

import { Session } from "node:inspector/promises";
import type { Worker } from "node:worker_threads";
import { createLogger } from "@hookline/logger";
import { bullPrefix, INGEST_QUEUE, type IngestBatchJob, type IngestJob } from "@hookline/queue";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  sendSigned,
  startPrivateRedis,
  startStack,
} from "@hookline/testkit";
import { signRequest } from "@hookline/verify";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckRequest, IngestVerdict } from "../src/ingest";
import { type IngestThread, type IngestThreadOptions, startIngestThread } from "../src/ingest-thread";

const config = loadTestConfig(`
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }
`);
const spec = (config.sources[0] as (typeof config.sources)[number]).spec;

let iso: Isolated;
let thread: IngestThread;
let queue: Queue;

function signed(n: number, tamper = false): CheckRequest {
  const body = Buffer.from(JSON.stringify({ type: "export.ready", n }));
  const s = signRequest(spec, { body, nowMs: Date.now(), eventType: "export.ready" });
  if (!s.ok) throw new Error(s.message);
  return {
    sourceId: "klariqo",
    body: tamper ? Buffer.from(JSON.stringify({ type: "export.ready", n: -n })) : body,
    headers: { "content-type": "application/json", ...s.headers },
    url: "http://127.0.0.1/webhooks/klariqo",
    receivedAt: Date.now(),
    traceparent: null,
  };
}

/** A thread for the test's one source, queueing into `redisUrl` under the file's prefix. */
function startThread(redisUrl: string, enqueueTimeoutMs: number, options: IngestThreadOptions = {}) {
  return startIngestThread(
    {
      sources: [{ id: "klariqo", spec }],
      queue: { redis: redisUrl, queuePrefix: iso.queuePrefix, shards: 1, lingerMs: 2, enqueueTimeoutMs },
    },
    createLogger({ level: "silent", name: "test" }),
    options,
  );
}

/** Every event id in the ingest queue's jobs, plain and batched. */
async function queuedEventIds(): Promise<Set<string>> {
  const jobs = await queue.getJobs(["waiting", "active", "delayed", "prioritized", "completed"]);
  const ids = new Set<string>();
  for (const job of jobs) {
    const data = job.data as IngestJob | IngestBatchJob;
    for (const event of "events" in data ? data.events : [data]) ids.add(event.eventId);
  }
  return ids;
}

beforeAll(async () => {
  iso = await isolate("ingest-thread");
  thread = await startThread(iso.redisUrl, 2_000);
  queue = new Queue(INGEST_QUEUE, { connection: { url: iso.redisUrl }, prefix: bullPrefix(iso.queuePrefix) });
});

afterAll(async () => {
  await thread?.close();
  await queue?.close();
  await closeAll(iso);
});

describe("the ingest thread", () => {
  it("accepts a signed request only once its job is in Redis, and refuses a forged one with its reason", async () => {
    const accepted = await thread.verifyAndQueue(signed(1));
    expect(accepted).toMatchObject({ kind: "accepted", eventType: "export.ready" });
    if (accepted.kind !== "accepted") return;
    expect(await queuedEventIds()).toContain(accepted.eventId);
    const forged = await thread.verifyAndQueue(signed(2, true));
    expect(forged).toMatchObject({ kind: "verification_failed", failure: { reason: "signature_mismatch" } });
  });

  it("takes a burst of concurrent requests, each with its own event id, all queued", async () => {
    const verdicts = await Promise.all(
      Array.from({ length: 200 }, (_, i) => thread.verifyAndQueue(signed(100 + i))),
    );
    const ids = verdicts.map((v) => (v.kind === "accepted" ? v.eventId : v.kind));
    expect(new Set(ids).size).toBe(200);
    const queued = await queuedEventIds();
    for (const id of ids) expect(queued).toContain(id);
  });

  it("when it dies, fails what it held with enqueue_failed (never accepted without a job), and a new thread takes over", async () => {
    const dying = thread.current();
    expect(dying).not.toBeNull();
    const burst = Array.from({ length: 100 }, (_, i) => thread.verifyAndQueue(signed(1_000 + i)));
    await dying?.terminate();
    const verdicts: IngestVerdict[] = await Promise.all(burst);
    const queued = await queuedEventIds();
    let failed = 0;
    for (const v of verdicts) {
      if (v.kind === "accepted") expect(queued).toContain(v.eventId);
      else {
        expect(v.kind).toBe("enqueue_failed");
        failed++;
      }
    }
    // Some of the burst was still held when the thread ended (otherwise the test proved nothing).
    expect(failed).toBeGreaterThan(0);
    // Meanwhile requests are refused at once, not left waiting.
    expect(await thread.verifyAndQueue(signed(2_000))).toMatchObject({ kind: "enqueue_failed" });
    // A new thread is started (after a second) and accepts again.
    let after: IngestVerdict = { kind: "unknown_source" };
    for (let i = 0; i < 100 && after.kind !== "accepted"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await thread.verifyAndQueue(signed(3_000 + i));
    }
    expect(after.kind).toBe("accepted");
    expect(thread.current()).not.toBe(dying);
  });

  it("counts the wait for the thread in the enqueue timeout: a Redis that stalls gets 503s in time, not 202s later", async () => {
    // Our own Redis, paused for writes (CLIENT PAUSE would stall every test file on the shared one).
    const redis = await startPrivateRedis();
    const stalled = await startThread(redis.url, 300);
    const admin = new Redis(redis.url);
    try {
      await admin.call("CLIENT", "PAUSE", "450", "WRITE");
      // One request goes to the thread and stalls there; the next ones wait here for it (one
      // message in flight). Had the timeout run only in the thread, they would be sent when the
      // first times out (300 ms), find Redis back (450 ms) and be accepted half a second late.
      const first = stalled.verifyAndQueue(signed(5_000));
      await new Promise((r) => setTimeout(r, 50));
      const rest = Array.from({ length: 10 }, (_, i) => stalled.verifyAndQueue(signed(5_001 + i)));
      const verdicts = await Promise.all([first, ...rest]);
      expect(verdicts.map((v) => v.kind)).toEqual(verdicts.map(() => "enqueue_failed"));
    } finally {
      admin.disconnect();
      await stalled.close();
      await redis.stop();
    }
  });
});

/**
 * Makes `worker`'s event loop spin forever, from outside, through the inspector: a thread that
 * is alive but never answers, as a loop with no end in a verifier would leave it.
 */
async function hang(worker: Worker): Promise<void> {
  const session = new Session();
  session.connect();
  try {
    const attached = new Promise<string>((resolve) => {
      session.on("NodeWorker.attachedToWorker", (event) => {
        const { sessionId, workerInfo } = event.params;
        // The inspector's workerId is its own numbering; the title carries the thread id.
        if (workerInfo.title === `[worker ${worker.threadId}]`) resolve(sessionId);
      });
    });
    await session.post("NodeWorker.enable", { waitForDebuggerOnStart: false });
    const sessionId = await attached;
    const spin = {
      id: 1,
      method: "Runtime.evaluate",
      params: { expression: "setTimeout(() => { for (;;) {} }, 0)" },
    };
    await session.post("NodeWorker.sendMessageToWorker", { sessionId, message: JSON.stringify(spin) });
  } finally {
    session.disconnect();
  }
}

describe("an ingest thread that stops answering", () => {
  it("is stopped and replaced; what it held is refused, never accepted", async () => {
    const watched = await startThread(iso.redisUrl, 5_000, { stuckAfterMs: 500 });
    try {
      expect((await watched.verifyAndQueue(signed(7_000))).kind).toBe("accepted");
      const stuck = watched.current();
      expect(stuck).not.toBeNull();
      await hang(stuck as Worker);
      // Held by the hung thread: refused when it is stopped, well before the enqueue timeout.
      const started = Date.now();
      const held = await watched.verifyAndQueue(signed(7_001));
      expect(held.kind).toBe("enqueue_failed");
      expect(Date.now() - started).toBeLessThan(4_000);
      await eventually(async () => (await watched.verifyAndQueue(signed(7_002))).kind === "accepted", {
        timeoutMs: 10_000,
        what: "a new thread accepts",
      });
      expect(watched.current()).not.toBe(stuck);
    } finally {
      await watched.close();
    }
  });
});

describe("a gateway whose ingest thread dies", () => {
  it("answers 503, never 202, and is not ready until the next thread runs; then accepts again", async () => {
    const stack = await startStack(iso, config, { withWorker: false });
    try {
      const thread = stack.gateway.ingestThread;
      expect(thread).not.toBeNull();
      const ready = async () => {
        const res = await fetch(`${stack.gateway.url}/readyz`);
        return { status: res.status, body: (await res.json()) as Record<string, string> };
      };
      expect(await ready()).toMatchObject({ status: 200, body: { status: "ready", ingest_thread: "up" } });
      await thread?.current()?.terminate();
      expect(await ready()).toMatchObject({
        status: 503,
        body: { status: "not_ready", ingest_thread: "down" },
      });
      const refused = await sendSigned(stack, "klariqo", '{"type":"export.ready","n":"while down"}');
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { code: string }).code).toBe("queue_unavailable");
      await eventually(async () => (await ready()).status === 200, {
        timeoutMs: 10_000,
        what: "ready again",
      });
      expect((await sendSigned(stack, "klariqo", '{"type":"export.ready","n":"after"}')).status).toBe(202);
    } finally {
      await stack.close();
    }
  });
});
