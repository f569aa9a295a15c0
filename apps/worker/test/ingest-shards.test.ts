// `ingest.shards` on a single Redis: the gateway takes the shards in turn, and no change of the
// setting strands a job. A worker consumes every shard any process of the installation has
// used, so after `ingest.shards` is lowered the shards given up are still drained, and a shard
// a later gateway starts using is picked up by a running worker.
import { newId } from "@hookline/db";
import {
  bullPrefix,
  createProducerConnection,
  INGEST_JOB_NAME,
  INGEST_JOB_OPTIONS,
  type IngestJob,
  ingestQueueName,
  ingestQueueNames,
  queueKeys,
  type RedisConnection,
  raiseIngestShards,
} from "@hookline/queue";
import {
  clausumBody,
  clausumConfig,
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let iso: Isolated;
let sink: Sink;
let redis: RedisConnection;
const stacks: Stack[] = [];

const configWith = (shards: number) =>
  loadTestConfig(
    clausumConfig(
      `  - { id: sink, url: "${sink.url}/in" }`,
      "  - { source: clausum, targets: [sink] }",
      `ingest: { shards: ${shards} }`,
    ),
  );

beforeAll(async () => {
  iso = await isolate("ingestshards");
  sink = await startSink(() => ({ status: 200 }));
  redis = createProducerConnection(iso.redisUrl);
});

afterAll(async () => {
  await closeAll(...stacks, sink);
  redis?.disconnect();
  await iso?.cleanup();
});

/** What a gateway would have queued on `shard`, put there by hand. */
async function queueOnShard(shard: number): Promise<string> {
  const name = ingestQueueName(shard);
  const queue = new Queue<IngestJob>(name, { connection: redis, prefix: bullPrefix(iso.queuePrefix) });
  try {
    const eventId = newId("evt");
    await queue.add(
      INGEST_JOB_NAME,
      {
        eventId,
        sourceId: "clausum",
        eventType: "case.updated",
        dedupeKey: eventId,
        providerId: null,
        receivedAt: Date.now(),
        headers: { "content-type": "application/json" },
        contentType: "application/json",
        body: Buffer.from(clausumBody("case.updated", eventId)).toString("base64"),
      },
      INGEST_JOB_OPTIONS,
    );
    return eventId;
  } finally {
    await queue.close();
  }
}

const delivered = (eventId: string) =>
  eventually(() => sink.received.some((r) => r.headers["webhook-id"] === eventId), {
    timeoutMs: 20_000,
    what: `event ${eventId} delivered`,
  });

describe("ingest shards on a single Redis", () => {
  it("takes the shards in turn, under the one shared hash tag", async () => {
    const stack = await startStack(iso, configWith(3));
    stacks.push(stack);
    // One at a time, so each request is a job of its own.
    for (let i = 0; i < 6; i++) {
      const response = await sendSigned(stack, "clausum", clausumBody("case.updated", `c${i}`));
      expect(response.status).toBe(202);
    }
    await eventually(() => sink.received.length >= 6, { what: "6 deliveries" });
    const keys = queueKeys(iso.queuePrefix, "one-slot");
    for (const name of ingestQueueNames(3)) {
      expect(keys.prefix(name)).toBe(bullPrefix(iso.queuePrefix));
      expect(Number(await redis.get(`${keys.prefix(name)}:${name}:id`))).toBe(2);
    }
    await stack.close();
  });

  it("drains the shards given up after ingest.shards is lowered", async () => {
    // The gateway above recorded 3 shards; a job is left on the last one.
    const eventId = await queueOnShard(2);
    const stack = await startStack(iso, configWith(1));
    stacks.push(stack);
    await delivered(eventId);
    expect(stack.logs.text()).toContain("consuming more ingest shards than configured");
  });

  it("picks up a shard another process started using, while running", { timeout: 40_000 }, async () => {
    const stack = stacks[stacks.length - 1] as Stack;
    // A gateway with ingest.shards: 4 started: it records 4 before it queues anything there.
    expect(await raiseIngestShards(redis, queueKeys(iso.queuePrefix, "one-slot"), 4)).toBe(4);
    const eventId = await queueOnShard(3);
    await delivered(eventId);
    expect(stack.logs.text()).toContain('"shards":4,"msg":"consuming more ingest shards"');
  });
});
