// closeQueue against the real Redis: a queue closed while BullMQ's start-up check is in flight on
// a shared connection that is then disconnected (what the CLI does after a quick command).
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bullPrefix, closeQueue, createProducerConnection } from "../src/index";

let iso: Isolated;

beforeAll(async () => {
  iso = await isolate("close-queue");
});
afterAll(() => closeAll(iso));

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("closeQueue", () => {
  it("leaves no start-up error without a listener when the shared connection is closed right after", async () => {
    // BullMQ's own close() here left an 'error' with no listener, thrown inside its start-up's
    // promise (an unhandled rejection), when the queue closed a turn or more after it was made
    // and before the connection was ready.
    const unhandled: unknown[] = [];
    const record = (error: unknown) => unhandled.push(error);
    process.on("unhandledRejection", record);
    try {
      // 30 connections: the window is a few turns wide and where it falls varies.
      for (let n = 0; n < 30; n++) {
        const turns = n % 6;
        const redis = createProducerConnection(iso.redisUrl);
        const queue = new Queue(`q${n}`, { connection: redis, prefix: bullPrefix(iso.queuePrefix) });
        queue.on("error", () => {});
        for (let i = 0; i < turns; i++) await turn();
        await closeQueue(queue);
        redis.disconnect();
        for (let i = 0; i < 10; i++) await turn();
      }
    } finally {
      process.off("unhandledRejection", record);
    }
    expect(unhandled).toEqual([]);
  });
});
