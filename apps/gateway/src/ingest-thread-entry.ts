// What the ingest thread runs (see ingest-thread.ts): the sources' verifiers rebuilt from their
// specs, its own Redis connection and ingest queues, and the same `verifyAndQueue` as the HTTP
// thread would run itself.
import { parentPort, workerData } from "node:worker_threads";
import { newId } from "@hookline/db/ids";
import { createProducerConnection, readyOrLater } from "@hookline/queue";
import { createVerifier } from "@hookline/verify";
import { type VerifyingSource, verifyAndQueue } from "./ingest";
import { createIngestProducer, REDIS_START_WAIT_MS } from "./ingest-queue";
import type { FromThread, IngestThreadInit, ToThread, WireVerdict } from "./ingest-thread";

const port = parentPort;
if (port === null) throw new Error("ingest-thread-entry runs as a worker thread only");
const init = workerData as IngestThreadInit;

const sources = new Map<string, VerifyingSource>(
  init.sources.map(({ id, spec }) => {
    const compiled = createVerifier(spec);
    // The HTTP thread compiled the same spec when the config loaded.
    if (!compiled.ok) throw new Error(`source "${id}": its verifier does not compile`);
    return [id, { id, verifier: compiled.verifier }];
  }),
);
const redis = createProducerConnection(init.queue.redis);
const producer = createIngestProducer(init.queue, redis);
const check = verifyAndQueue({
  sources,
  enqueue: (job) => producer.enqueue(job),
  newEventId: () => newId("evt"),
});

async function checkOne(
  request: Extract<ToThread, { kind: "check" }>["requests"][number],
): Promise<WireVerdict> {
  // A Buffer arrives as a plain Uint8Array.
  const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  try {
    const verdict = await check({ ...request, body });
    return verdict.kind === "enqueue_failed"
      ? { kind: "enqueue_failed", message: verdict.error.message }
      : verdict;
  } catch (error) {
    return { kind: "thrown", message: error instanceof Error ? error.message : String(error) };
  }
}

port.on("message", (message: ToThread) => {
  if (message.kind === "ping") {
    const pong: FromThread = { kind: "pong" };
    port.postMessage(pong);
    return;
  }
  if (message.kind === "close") {
    void producer.close().finally(() => {
      redis.disconnect();
      port.close();
    });
    return;
  }
  void Promise.all(message.requests.map(checkOne)).then((verdicts) => {
    const answer: FromThread = { kind: "checked", id: message.id, verdicts };
    port.postMessage(answer);
  });
});
// As the HTTP thread does at start: give Redis a moment to connect before taking requests; if it
// is down, requests are answered 503 until it is up.
await readyOrLater(redis, REDIS_START_WAIT_MS);
const ready: FromThread = { kind: "ready" };
port.postMessage(ready);
