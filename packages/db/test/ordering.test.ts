// The ordering queries against a real Postgres: which held deliveries are heads, that releasing
// re-checks the floor and the key's earlier deliveries, and that a head's close names its
// successor.
import {
  closeAttempt,
  connectDatabase,
  type Database,
  heldHeads,
  heldHeadsByKey,
  newId,
  recordIngestedEvents,
  releaseHeads,
} from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderedEvent } from "./ordered-event";

let iso: Isolated;
let database: Database;

beforeAll(async () => {
  iso = await isolate("dbordering");
  database = connectDatabase(iso.databaseUrl, { max: 4 });
});
afterAll(() => closeAll(database, iso));

/** Records one event per (key, seq), to target "t", ordered by `key` (null: no key). */
async function record(events: readonly { key: string | null; seq: bigint }[]) {
  const outcomes = await recordIngestedEvents(
    database.pool,
    events.map(({ key, seq }) => orderedEvent(key, seq)),
  );
  return outcomes.map((o) => {
    if (o.kind !== "created") throw new Error(`not created: ${o.kind}`);
    const [delivery] = o.deliveries;
    if (!delivery) throw new Error("no delivery");
    return delivery;
  });
}

const ids = (list: readonly { id: string }[]) => list.map((d) => d.id).sort();

describe("ordering queries", () => {
  it("creates keyed deliveries held and finds the heads below the floor", async () => {
    const [a1, a2, b1, none] = await record([
      { key: "a", seq: 100n },
      { key: "a", seq: 200n },
      { key: "b", seq: 300n },
      { key: null, seq: 400n },
    ]);
    expect([a1?.held, a2?.held, b1?.held, none?.held]).toEqual([true, true, true, false]);

    // Below 250 only a's first; a's second waits behind it; b is above the floor.
    expect(ids(await heldHeads(database.pool, { fromSeq: 0n, belowSeq: 250n, limit: 10 }))).toEqual([a1?.id]);
    expect(ids(await heldHeadsByKey(database.pool, 250n, 10))).toEqual([a1?.id]);
    expect(ids(await heldHeadsByKey(database.pool, 1_000n, 10))).toEqual(ids([a1, b1] as { id: string }[]));
    // A range that starts past a's first sees nothing: a's second is not a head.
    expect(await heldHeads(database.pool, { fromSeq: 150n, belowSeq: 250n, limit: 10 })).toEqual([]);

    // Releasing re-checks: above the floor, or behind a live delivery, nothing happens.
    const refused = await releaseHeads(
      database.pool,
      [
        { deliveryId: b1?.id as string, attemptId: null, leaseUntil: null },
        { deliveryId: a2?.id as string, attemptId: null, leaseUntil: null },
      ],
      250n,
    );
    expect(refused).toEqual([null, null]);

    // a's first goes with an attempt opened under a lease; the same release again is a no-op.
    const attemptId = newId("att");
    const lease = new Date(Date.now() + 30_000);
    const [opened] = await releaseHeads(
      database.pool,
      [{ deliveryId: a1?.id as string, attemptId, leaseUntil: lease }],
      250n,
    );
    expect(opened).toMatchObject({ kind: "opened", runNumber: 1, attempt: { attemptId, attemptNumber: 1 } });
    expect(
      await releaseHeads(
        database.pool,
        [{ deliveryId: a1?.id as string, attemptId: null, leaseUntil: null }],
        250n,
      ),
    ).toEqual([null]);
    const row = await database.pool.query(
      "select held, attempt_count, next_attempt_at from deliveries where id = $1",
      [a1?.id],
    );
    expect(row.rows[0]).toMatchObject({ held: false, attempt_count: 1, next_attempt_at: lease });

    // While a1 is live (in flight), a2 is no head even once the floor passes it.
    expect(ids(await heldHeadsByKey(database.pool, 1_000n, 10))).toEqual([b1?.id]);

    // Its close names the successor, which may now go.
    const successors = await closeAttempt(database.pool, {
      attemptId,
      deliveryId: a1?.id as string,
      runNumber: 1,
      durationMs: 3,
      statusCode: 200,
      responseBody: "ok",
      error: null,
      status: "succeeded",
      nextAttemptAt: null,
    });
    expect(successors).toEqual([{ id: a2?.id, targetId: "t", runNumber: 1, seq: 200n }]);
    const [queued] = await releaseHeads(
      database.pool,
      [{ deliveryId: a2?.id as string, attemptId: null, leaseUntil: null }],
      1_000n,
    );
    expect(queued).toEqual({ kind: "queue", runNumber: 1 });
  });

  it("names no successor for a retry, nor for an unordered delivery", async () => {
    const [c1, c2] = await record([
      { key: "c", seq: 1_000n },
      { key: "c", seq: 1_100n },
    ]);
    const attemptId = newId("att");
    await releaseHeads(
      database.pool,
      [{ deliveryId: c1?.id as string, attemptId, leaseUntil: new Date(Date.now() + 30_000) }],
      2_000n,
    );
    const retrying = await closeAttempt(database.pool, {
      attemptId,
      deliveryId: c1?.id as string,
      runNumber: 1,
      durationMs: 3,
      statusCode: 503,
      responseBody: "",
      error: "HTTP 503",
      status: "retrying",
      nextAttemptAt: new Date(Date.now() + 60_000),
    });
    expect(retrying).toEqual([]);
    expect(ids(await heldHeadsByKey(database.pool, 2_000n, 10))).not.toContain(c2?.id);
  });
});
