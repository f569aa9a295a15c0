// Route filters end to end: an event reaches only the targets of routes whose filters match its
// body and headers; an event that no route delivers is kept, with no deliveries, and counted.
import { connectDatabase, type Database } from "@hookline/db";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  observeWorker,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spineConfig } from "./helpers";

let iso: Isolated;
let big: Sink;
let eu: Sink;
let stack: Stack;
let database: Database;
const unrouted = new Map<string, number>();

beforeAll(async () => {
  iso = await isolate("filters");
  big = await startSink();
  eu = await startSink();
  const config = loadTestConfig(
    spineConfig(
      { big: { sink: big }, eu: { sink: eu } },
      `  - source: clausum
    targets: [big]
    filter: { body: { data: { amount: { $gte: 100 }, currency: { $in: [eur, usd] } } } }
  - source: clausum
    targets: [eu]
    filter: { headers: { X-Region: eu }, body: { $not: { data: { test: true } } } }`,
    ),
  );
  stack = await startStack(iso, config, {
    workerObserver: observeWorker({
      eventsUnrouted: (source, count) => unrouted.set(source, (unrouted.get(source) ?? 0) + count),
    }),
  });
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(stack, database, big, eu, iso));

async function send(data: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const body = JSON.stringify({ event: "case.updated", timestamp: "2026-11-28T12:00:00.000Z", data });
  const res = await sendSigned(stack, "clausum", body, { extraHeaders: headers });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const targetsOf = async (eventId: string) =>
  (
    await database.pool.query<{ target_id: string }>(
      "select target_id from deliveries where event_id = $1 order by target_id",
      [eventId],
    )
  ).rows.map((r) => r.target_id);

describe("route filters", () => {
  it("deliver an event only to the routes whose filters match its body and headers", async () => {
    const both = await send({ amount: 150, currency: "eur", n: 1 }, { "x-region": "eu" });
    const bigOnly = await send({ amount: 150, currency: "usd", n: 2 });
    const euOnly = await send({ amount: 5, currency: "eur", n: 3 }, { "X-Region": "eu" });
    const neither = await send({ amount: 150, currency: "gbp", test: true, n: 4 }, { "x-region": "eu" });
    const sentinel = await send({ amount: 1_000, currency: "eur", n: 5 }, { "x-region": "eu" });
    await big.waitFor(3, 10_000);
    await eu.waitFor(3, 10_000);
    await eventually(async () => (await targetsOf(sentinel)).length === 2);
    // No barrier for the event no route takes: the gateway may queue it in another ingest job than
    // the sentinel's, and the worker handles ingest jobs concurrently. Its row is written in the
    // same transaction as any deliveries it would have, so once the row is there, none is missing.
    await eventually(
      async () => (await database.pool.query("select 1 from events where id = $1", [neither])).rowCount === 1,
    );

    expect(await targetsOf(both)).toEqual(["big", "eu"]);
    expect(await targetsOf(bigOnly)).toEqual(["big"]);
    expect(await targetsOf(euOnly)).toEqual(["eu"]);
    expect(await targetsOf(neither)).toEqual([]);
    // Sent concurrently (first attempts of one batch), so in any order.
    const ids = (sink: Sink) => sink.received.map((r) => String(r.headers["webhook-id"])).sort();
    expect(ids(big)).toEqual([both, bigOnly, sentinel].sort());
    expect(ids(eu)).toEqual([both, euOnly, sentinel].sort());

    // Kept (waited for above), with no deliveries, and counted.
    await eventually(async () => unrouted.get("clausum") === 1);
    expect(unrouted.get("clausum")).toBe(1);
  });
});
