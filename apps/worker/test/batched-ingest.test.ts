// Concurrent requests reach Redis as batch jobs (see packages/batch and apps/gateway/src/ingest-queue.ts): every
// accepted event is still recorded once, de-duplicated, and forwarded once.
import { connectDatabase, type Database } from "@hookline/db";
import {
  closeAll,
  deliveryQueueIdle,
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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clausumBody, spineConfig } from "./helpers";

let iso: Isolated;
let sink: Sink;
let stack: Stack;
let database: Database;

beforeAll(async () => {
  iso = await isolate("batched");
  sink = await startSink();
  stack = await startStack(
    iso,
    loadTestConfig(
      spineConfig(
        { audit: { sink, extra: "    concurrency: 20\n" } },
        "  - { source: clausum, targets: [audit] }",
      ),
    ),
  );
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(stack, database, sink, iso));

describe("batched ingest", () => {
  it("records, de-duplicates and forwards each of many concurrent events exactly once", async () => {
    const unique = Array.from({ length: 150 }, (_, i) => clausumBody("case.created", `case-${i}`));
    // Every tenth event is also sent a second time by the provider, concurrently.
    const copies = unique.filter((_, i) => i % 10 === 0);
    const answers = await Promise.all(
      [...unique, ...copies].map((body) => sendSigned(stack, "clausum", body)),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const ids = await Promise.all(answers.map(async (a) => ((await a.json()) as { id: string }).id));
    expect(new Set(ids).size).toBe(ids.length);

    await sink.waitFor(unique.length, 30_000);
    const counts = await eventually(
      async () => {
        const r = await database.pool.query<{
          events: number;
          dups: number;
          succeeded: number;
          receipts: number;
        }>(
          `select (select count(*)::int from events) as events,
                  (select coalesce(sum(duplicate_count), 0)::int from events) as dups,
                  (select count(*)::int from deliveries where status = 'succeeded') as succeeded,
                  (select count(*)::int from event_duplicates) as receipts`,
        );
        const row = r.rows[0];
        return row && row.succeeded === unique.length && row.receipts === copies.length ? row : undefined;
      },
      { what: "every delivery succeeded and every duplicate counted" },
    );
    expect(counts).toEqual({ events: 150, dups: 15, succeeded: 150, receipts: 15 });
    // Forwarded once each: the sink saw each event id once and no duplicate's id at all.
    await deliveryQueueIdle(stack, "audit");
    const forwarded = sink.received.map((r) => r.headers["webhook-id"]);
    expect(forwarded).toHaveLength(unique.length);
    expect(new Set(forwarded).size).toBe(unique.length);
  });
});
