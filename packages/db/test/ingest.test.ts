import {
  closeAttempt,
  connectDatabase,
  type Database,
  isNotDue,
  newId,
  openAttempt,
  postponeDelivery,
  recordIngestedEvent,
  retryDelivery,
} from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let iso: Isolated;
let database: Database;

beforeAll(async () => {
  iso = await isolate("dbingest");
  database = connectDatabase(iso.databaseUrl, { max: 4 });
});
afterAll(() => closeAll(database, iso));

const HOUR = 3_600_000;
const input = (eventId: string, dedupeKey: string, receivedAt: Date) => ({
  eventId,
  sourceId: "clausum",
  eventType: "fraud.detected",
  dedupeKey,
  providerId: null,
  receivedAt,
  headers: { "x-clausum-event": "fraud.detected" },
  body: Buffer.from([0x7b, 0xff, 0x00, 0x7d]), // not valid UTF-8: stored as bytes
  contentType: "application/json",
  dedupeWindowMs: HOUR,
  targetIds: ["a", "b"],
});

describe("recordIngestedEvent", () => {
  it("tells its own re-run from a provider duplicate", async () => {
    const t0 = new Date("2026-01-01T00:00:00Z");
    const first = newId("evt");
    const created = await recordIngestedEvent(database.pool, input(first, "k1", t0));
    expect(created.kind).toBe("created");
    if (created.kind !== "created") return;
    expect(created.deliveries.map((d) => d.targetId)).toEqual(["a", "b"]);

    // The same job again (a stalled job re-run): same rows, nothing new.
    const rerun = await recordIngestedEvent(database.pool, input(first, "k1", t0));
    expect(rerun.kind).toBe("rerun");
    if (rerun.kind !== "rerun") return;
    const byTarget = (l: readonly { targetId: string }[]) =>
      [...l].sort((x, y) => x.targetId.localeCompare(y.targetId));
    expect(byTarget(rerun.deliveries)).toEqual(byTarget(created.deliveries));

    // The provider sends it again: a new event id with the same key, inside the window.
    const dup = newId("evt");
    expect(
      await recordIngestedEvent(database.pool, input(dup, "k1", new Date(t0.getTime() + 60_000))),
    ).toEqual({
      kind: "duplicate",
      originalEventId: first,
    });
    // That duplicate's job re-run: not counted twice.
    expect(
      await recordIngestedEvent(database.pool, input(dup, "k1", new Date(t0.getTime() + 60_000))),
    ).toEqual({
      kind: "duplicate_rerun",
      originalEventId: first,
    });
    const rows = await database.pool.query(
      "select id, duplicate_count, body from events where dedupe_key = 'k1'",
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0].duplicate_count).toBe(1);
    expect(rows.rows[0].body).toEqual(Buffer.from([0x7b, 0xff, 0x00, 0x7d]));
    const deliveries = await database.pool.query(
      "select count(*)::int as n from deliveries where event_id = $1",
      [first],
    );
    expect(deliveries.rows[0].n).toBe(2);
  });

  it("accepts the same key again once the window has passed", async () => {
    const t0 = new Date("2026-02-01T00:00:00Z");
    expect((await recordIngestedEvent(database.pool, input(newId("evt"), "k2", t0))).kind).toBe("created");
    const later = new Date(t0.getTime() + HOUR + 1);
    expect((await recordIngestedEvent(database.pool, input(newId("evt"), "k2", later))).kind).toBe("created");
  });

  it("lets exactly one of many concurrent copies through", async () => {
    const t0 = new Date("2026-03-01T00:00:00Z");
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => recordIngestedEvent(database.pool, input(newId("evt"), "k3", t0))),
    );
    expect(outcomes.filter((o) => o.kind === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "duplicate")).toHaveLength(7);
    const r = await database.pool.query("select duplicate_count from events where dedupe_key = 'k3'");
    expect(r.rows).toEqual([{ duplicate_count: 7 }]);
  });
});

describe("closeAttempt", () => {
  it("does not overwrite a manual retry that started while the attempt was in flight", async () => {
    const created = await recordIngestedEvent(database.pool, input(newId("evt"), "race", new Date()));
    if (created.kind !== "created") throw new Error(created.kind);
    const delivery = created.deliveries[0];
    if (!delivery) throw new Error("no delivery");
    const opened = await openAttempt(database.pool, {
      deliveryId: delivery.id,
      runNumber: 1,
      attemptId: newId("att"),
      now: new Date(),
    });
    if (!opened || isNotDue(opened)) throw new Error("not opened");
    // An operator retries while run 1's attempt is still waiting for the target.
    const retried = await retryDelivery(
      database.pool,
      delivery.id,
      ["pending", "retrying", "failed"],
      ["a", "b"],
    );
    expect(retried.kind).toBe("retried");
    await closeAttempt(database.pool, {
      attemptId: opened.attemptId,
      deliveryId: delivery.id,
      runNumber: 1,
      durationMs: 5,
      statusCode: 500,
      responseBody: "late",
      error: "HTTP 500; no attempts left",
      status: "failed",
      nextAttemptAt: null,
    });
    const row = await database.pool.query("select status, run_number from deliveries where id = $1", [
      delivery.id,
    ]);
    expect(row.rows[0]).toEqual({ status: "pending", run_number: 2 });
    // The try itself is still recorded.
    const attempt = await database.pool.query("select status_code from delivery_attempts where id = $1", [
      opened.attemptId,
    ]);
    expect(attempt.rows[0]).toEqual({ status_code: 500 });
  });
});

/** A fresh event with one live delivery (to target "a"). */
async function liveDelivery(): Promise<string> {
  const created = await recordIngestedEvent(database.pool, {
    ...input(newId("evt"), newId("evt"), new Date()),
    targetIds: ["a"],
  });
  if (created.kind !== "created" || !created.deliveries[0]) throw new Error("no delivery");
  return created.deliveries[0].id;
}

const deliveryRow = async (id: string) =>
  (
    await database.pool.query<{ status: string; attempt_count: number; next_attempt_at: Date | null }>(
      "select status, attempt_count, next_attempt_at from deliveries where id = $1",
      [id],
    )
  ).rows[0];

describe("openAttempt", () => {
  it("does not open an attempt before the delivery's next_attempt_at: the job is told when it is due", async () => {
    const id = await liveDelivery();
    const due = new Date(Date.now() + 60_000);
    await database.pool.query(
      "update deliveries set status = 'retrying', next_attempt_at = $2 where id = $1",
      [id, due],
    );
    const early = await openAttempt(database.pool, {
      deliveryId: id,
      runNumber: 1,
      attemptId: newId("att"),
      now: new Date(),
    });
    expect(early).toEqual({ notDueUntil: due });
    expect((await deliveryRow(id))?.attempt_count).toBe(0);
    const onTime = await openAttempt(database.pool, {
      deliveryId: id,
      runNumber: 1,
      attemptId: newId("att"),
      now: new Date(due.getTime() + 1),
    });
    expect(onTime !== null && !isNotDue(onTime) && onTime.attemptNumber).toBe(1);
  });
});

describe("postponeDelivery", () => {
  it("stamps a live delivery of the job's run, and nothing that is final or superseded", async () => {
    const at = new Date(Date.now() + 30_000);
    const live = await liveDelivery();
    expect(await postponeDelivery(database.pool, live, 1, at)).toBe(true);
    expect((await deliveryRow(live))?.next_attempt_at).toEqual(at);

    const final = await liveDelivery();
    await database.pool.query("update deliveries set status = 'succeeded' where id = $1", [final]);
    expect(await postponeDelivery(database.pool, final, 1, at)).toBe(false);
    expect((await deliveryRow(final))?.next_attempt_at).toBeNull();

    const superseded = await liveDelivery();
    await database.pool.query("update deliveries set run_number = 2 where id = $1", [superseded]);
    expect(await postponeDelivery(database.pool, superseded, 1, at)).toBe(false);
    expect((await deliveryRow(superseded))?.next_attempt_at).toBeNull();
  });
});
