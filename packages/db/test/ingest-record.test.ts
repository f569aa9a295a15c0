import {
  connectDatabase,
  type Database,
  type IngestInput,
  type IngestOutcome,
  newId,
  recordIngestedEvent,
  recordIngestedEvents,
} from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let iso: Isolated;
let database: Database;

beforeAll(async () => {
  iso = await isolate("dbbatch");
  database = connectDatabase(iso.databaseUrl, { max: 8 });
});
afterAll(() => closeAll(database, iso));

const HOUR = 3_600_000;
const input = (
  eventId: string,
  dedupeKey: string,
  receivedAt: Date,
  targetIds = ["a", "b"],
): IngestInput => ({
  eventId,
  sourceId: "clausum",
  eventType: "fraud.detected",
  dedupeKey,
  providerId: null,
  receivedAt,
  headers: { "x-clausum-event": "fraud.detected", "x-odd": 'quote " and \\ backslash' },
  body: Buffer.from([0x7b, 0xff, 0x00, 0x7d, 0x2c, 0x22]), // not valid UTF-8: stored as bytes
  contentType: "application/json",
  dedupeWindowMs: HOUR,
  targetIds,
});

/** Kind, original and targets (route order when created; a re-run reads them back unordered). */
const shape = (o: IngestOutcome) =>
  o.kind === "created"
    ? { kind: o.kind, targets: o.deliveries.map((d) => d.targetId) }
    : o.kind === "rerun"
      ? { kind: o.kind, targets: o.deliveries.map((d) => d.targetId).sort() }
      : { kind: o.kind, original: o.originalEventId };

describe("recordIngestedEvents", () => {
  it("gives each event the outcome one-by-one recording would, in one transaction", async () => {
    const t0 = new Date("2026-04-01T00:00:00Z");
    const old = newId("evt");
    expect((await recordIngestedEvent(database.pool, input(old, "b-live", t0))).kind).toBe("created");
    const expired = newId("evt");
    expect((await recordIngestedEvent(database.pool, input(expired, "b-expired", t0))).kind).toBe("created");

    const at = new Date(t0.getTime() + 2 * HOUR); // past b-expired's one-hour window
    const live = new Date(t0.getTime() + 30 * 60_000);
    const ids = Array.from({ length: 6 }, () => newId("evt"));
    const batch = [
      input(ids[0] as string, "b-new", live, ["a", "b", "c"]),
      input(ids[1] as string, "b-live", live), // a provider duplicate of `old`
      input(ids[2] as string, "b-new", live), // a duplicate of ids[0], in the same batch
      input(ids[3] as string, "b-expired", at), // the old key's window has passed: a new event
      input(old, "b-live", t0), // our own re-run
      input(ids[4] as string, "b-other", live, []), // routed nowhere
    ];
    const outcomes = await recordIngestedEvents(database.pool, batch);
    expect(outcomes.map(shape)).toEqual([
      { kind: "created", targets: ["a", "b", "c"] },
      { kind: "duplicate", original: old },
      { kind: "duplicate", original: ids[0] },
      { kind: "created", targets: ["a", "b"] },
      { kind: "rerun", targets: ["a", "b"] },
      { kind: "created", targets: [] },
    ]);

    const counts = await database.pool.query<{
      id: string;
      duplicate_count: number;
      body: Buffer;
      headers: unknown;
    }>("select id, duplicate_count, body, headers from events where id = any($1) order by id", [
      [old, ids[0]],
    ]);
    expect(counts.rows.map((r) => r.duplicate_count)).toEqual([1, 1]);
    expect(counts.rows[0]?.body).toEqual(Buffer.from([0x7b, 0xff, 0x00, 0x7d, 0x2c, 0x22]));
    expect(counts.rows[0]?.headers).toEqual(batch[0]?.headers);

    // The whole batch again (a stalled job re-run): nothing new, nothing counted twice.
    const again = await recordIngestedEvents(database.pool, batch);
    expect(again.map(shape)).toEqual([
      { kind: "rerun", targets: ["a", "b", "c"] },
      { kind: "duplicate_rerun", original: old },
      { kind: "duplicate_rerun", original: ids[0] },
      { kind: "rerun", targets: ["a", "b"] },
      { kind: "rerun", targets: ["a", "b"] },
      { kind: "rerun", targets: [] },
    ]);
    const after = await database.pool.query(
      "select sum(duplicate_count)::int as n from events where id = any($1)",
      [[old, ids[0]]],
    );
    expect(after.rows[0].n).toBe(2);
  });

  it("lets exactly one copy through when concurrent batches carry the same keys", async () => {
    const t0 = new Date("2026-05-01T00:00:00Z");
    const keys = ["c1", "c2", "c3", "c4"];
    const batches = Array.from({ length: 6 }, (_, n) =>
      // Each batch names the keys in a different order: no deadlock, one winner per key.
      (n % 2 ? [...keys].reverse() : keys).map((k) => input(newId("evt"), k, t0)),
    );
    const results = (await Promise.all(batches.map((b) => recordIngestedEvents(database.pool, b)))).flat();
    expect(results.filter((o) => o.kind === "created")).toHaveLength(4);
    expect(results.filter((o) => o.kind === "duplicate")).toHaveLength(20);
    const r = await database.pool.query(
      "select sum(duplicate_count)::int as n, count(*)::int as events from events where dedupe_key = any($1)",
      [keys],
    );
    expect(r.rows[0]).toEqual({ n: 20, events: 4 });
  });
});
