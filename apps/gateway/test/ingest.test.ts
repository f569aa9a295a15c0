import { connect } from "node:net";
import {
  bullPrefix,
  createProducerConnection,
  INGEST_QUEUE,
  type IngestJob,
  ingestJobSchema,
} from "@hookline/queue";
import {
  closeAll,
  type Isolated,
  isolate,
  loadTestConfig,
  type Stack,
  sendSigned,
  startStack,
} from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CONFIG = `
server: { body_limit: 64kb }
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }
`;

let iso: Isolated;
let stack: Stack;
let offline: Stack;
let noPostgres: Stack;

beforeAll(async () => {
  iso = await isolate("gateway");
  const config = loadTestConfig(CONFIG);
  stack = await startStack(iso, config, { withWorker: false });
  // Nothing listens on port 1: the queue is unreachable.
  // It also answers with the configured Retry-After and enqueue timeout.
  offline = await startStack(
    iso,
    loadTestConfig(
      CONFIG.replace(
        "server: { body_limit: 64kb }",
        "server: { body_limit: 64kb, retry_after: 7s, enqueue_timeout: 1s }",
      ),
    ),
    { withWorker: false, redis: "redis://127.0.0.1:1" },
  );
  // Nor on this one: Postgres is down.
  noPostgres = await startStack(iso, config, {
    withWorker: false,
    databaseUrl: "postgres://postgres@127.0.0.1:1/hookline",
  });
});

afterAll(() => closeAll(stack, offline, noPostgres, iso));

/** Sends a request over a raw socket and returns what the server answered, even mid-upload. */
function rawRequest(port: number, head: string, bodyBytes: number, chunkSize = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.on("data", (d) => {
      answer += d.toString("latin1");
    });
    socket.on("error", (e) => (answer ? resolve(answer) : reject(e)));
    socket.on("close", () => resolve(answer));
    socket.on("connect", async () => {
      socket.write(head);
      let sent = 0;
      const chunk = Buffer.alloc(chunkSize, 0x61);
      while (sent < bodyBytes && !socket.destroyed && !answer) {
        const ok = socket.write(chunk.subarray(0, Math.min(chunkSize, bodyBytes - sent)));
        sent += chunkSize;
        if (!ok) await new Promise((r) => socket.once("drain", r));
      }
      setTimeout(() => socket.end(), 200);
    });
  });
}

describe("ingest", () => {
  it("answers 202 with the event id once queued: the event is in Redis when the answer arrives", async () => {
    const body = '{"type":"export.ready","n":"queued-check"}';
    const res = await sendSigned(stack, "klariqo", body);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/^evt_/);
    // No worker runs here: the job must already be in the ingest queue, alone or in a batch.
    const connection = createProducerConnection(iso.redisUrl);
    const queue = new Queue(INGEST_QUEUE, { connection, prefix: bullPrefix(iso.queuePrefix) });
    try {
      const jobs = await queue.getJobs(["wait", "prioritized", "delayed", "active"]);
      const queued = jobs.flatMap((job) => {
        const data = job.data as IngestJob | { events: IngestJob[] };
        return "events" in data ? data.events : [data];
      });
      const event = queued.find((e) => e.eventId === id);
      // As the worker reads it (the gateway writes the job's JSON itself: BytesQueue).
      expect(ingestJobSchema.safeParse(event).success).toBe(true);
      expect(event && Buffer.from(event.body, "base64").toString("utf8")).toBe(body);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it("answers 503 with Retry-After when the queue is unreachable, and never 202", async () => {
    const res = await sendSigned(offline, "klariqo", '{"type":"export.ready"}');
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(((await res.json()) as { code: string }).code).toBe("queue_unavailable");
    const ready = await fetch(`${offline.gateway.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ redis: "down", postgres: "up" });
  });

  it("stays ready (200) while Postgres is down, says so in the body, and keeps accepting", async () => {
    const ready = await fetch(`${noPostgres.gateway.url}/readyz`);
    expect(await ready.json()).toMatchObject({ status: "ready", redis: "up", postgres: "down" });
    expect(ready.status).toBe(200);
    expect((await sendSigned(noPostgres, "klariqo", '{"type":"export.ready"}')).status).toBe(202);
  });

  it("413s a declared oversized body, and the client reads the answer (real socket)", async () => {
    const size = 2 * 1024 * 1024;
    for (let i = 0; i < 5; i++) {
      const answer = await rawRequest(
        stack.gateway.port,
        `POST /webhooks/klariqo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
        size,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 413/);
      expect(answer).toContain("body_too_large");
    }
  });

  it("413s a chunked body once it passes the limit while reading", async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x62);
    let hex = "";
    for (let i = 0; i < 10; i++) hex += `${chunk.length.toString(16)}\r\n${chunk.toString("latin1")}\r\n`;
    const answer = await rawRequest(
      stack.gateway.port,
      `POST /webhooks/klariqo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${hex}0\r\n\r\n`,
      0,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
  });
});
