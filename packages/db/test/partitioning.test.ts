// retention.partitioning: converting an install in place, partitions ahead, retention by
// partition, and de-duplication across partitions, on real Postgres.
import { randomBytes } from "node:crypto";
import {
  boundId,
  connectDatabase,
  convertToPartitioned,
  type Database,
  dropExpiredPartitions,
  ensurePartitions,
  type IngestInput,
  listPartitions,
  nextBoundary,
  partitionedTables,
  purgeOlderThan,
  recordIngestedEvent,
} from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Today's start and "now" as the tests see it: fixed, so partition names are known. */
const NOW = new Date(Math.floor(Date.now() / DAY) * DAY + 12 * HOUR);
const day = (n: number) => Math.floor(NOW.getTime() / DAY) * DAY + n * DAY;

/** An id made at `ms`, as ids.ts makes them (UUIDv7 after the prefix). */
const idAt = (prefix: "evt" | "att", ms: number) =>
  `${boundId(prefix, ms)}7${randomBytes(10).toString("hex").slice(0, 19)}`;

const input = (eventId: string, dedupeKey: string, receivedAt: Date, targetIds = ["a"]): IngestInput => ({
  eventId,
  sourceId: "clausum",
  eventType: "fraud.detected",
  dedupeKey,
  providerId: null,
  receivedAt,
  headers: { "content-type": "application/json" },
  body: Buffer.from('{"n":1}'),
  contentType: "application/json",
  dedupeWindowMs: 72 * HOUR,
  targetIds,
});

/** An event received at `ms` with one delivery to `a` in `status` and one attempt at `ms`. */
async function seed(db: Database, ms: number, key: string, status = "succeeded"): Promise<string> {
  const id = idAt("evt", ms);
  const outcome = await recordIngestedEvent(db.pool, input(id, key, new Date(ms)));
  if (outcome.kind !== "created") throw new Error(`seed ${key}: ${outcome.kind}`);
  const delivery = outcome.deliveries[0]?.id as string;
  await db.pool.query("update deliveries set status = $2 where id = $1", [delivery, status]);
  await db.pool.query(
    `insert into delivery_attempts (id, delivery_id, attempt_number, started_at, status_code)
     values ($1, $2, 1, $3, 200)`,
    [idAt("att", ms), delivery, new Date(ms)],
  );
  return id;
}

interface Counts {
  events: number;
  deliveries: number;
  attempts: number;
  dedupe_keys: number;
}

async function counts(db: Database): Promise<Counts> {
  const r = await db.pool.query<Counts>(
    `select (select count(*) from events)::int as events, (select count(*) from deliveries)::int as deliveries,
            (select count(*) from delivery_attempts)::int as attempts,
            (select count(*) from dedupe_keys)::int as dedupe_keys`,
  );
  return r.rows[0] as Counts;
}

const partitionOf = async (db: Database, table: string, id: string) =>
  (
    await db.pool.query<{ p: string }>(`select tableoid::regclass::text as p from ${table} where id = $1`, [
      id,
    ])
  ).rows[0]?.p;

describe("converting an install in place", () => {
  let iso: Isolated;
  let db: Database;
  const old: string[] = [];

  beforeAll(async () => {
    iso = await isolate("partition");
    db = connectDatabase(iso.databaseUrl, { max: 4 });
    for (let n = 0; n < 20; n++) old.push(await seed(db, day(-40) + n * HOUR, `old-${n}`));
    for (let n = 0; n < 5; n++) await seed(db, NOW.getTime() - n * HOUR, `new-${n}`);
    // A hand-made id sorts after every time-ordered one: it must not be lost in the conversion.
    await db.pool.query(
      `insert into events (id, source_id, dedupe_key, headers, body) values ('evt_zzz', 'clausum', 'z', '{}', '\\x00')`,
    );
  });
  afterAll(() => closeAll(db, iso));

  it("keeps every row, name, key and index, and makes the partitions ahead", async () => {
    const before = await counts(db);
    const indexes = async () =>
      (
        await db.pool.query<{ name: string }>(
          `select indexname as name from pg_indexes where tablename in ('events', 'delivery_attempts') order by 1`,
        )
      ).rows.map((r) => r.name);
    const indexNames = await indexes();
    const report = await convertToPartitioned(db.pool, { period: "daily", now: NOW });
    expect(report.converted).toEqual(["events", "delivery_attempts"]);
    expect(await partitionedTables(db.pool)).toEqual({ events: true, delivery_attempts: true });
    expect(await counts(db)).toEqual(before);
    expect(await indexes()).toEqual(indexNames);

    const names = (await listPartitions(db.pool, "events")).map((p) => p.name);
    const ahead = Array.from({ length: 7 }, (_, n) => {
      const d = new Date(day(n + 1)).toISOString().slice(0, 10).replaceAll("-", "");
      return `events_p${d}`;
    });
    expect(names.sort()).toEqual(["events_default", "events_legacy", ...ahead].sort());
    expect(await partitionOf(db, "events", old[0] as string)).toBe("events_legacy");
    expect(await partitionOf(db, "events", "evt_zzz")).toBe("events_default");
  });

  it("is a no-op when run again", async () => {
    const before = await counts(db);
    expect(await convertToPartitioned(db.pool, { period: "daily", now: NOW })).toEqual({
      converted: [],
      created: [],
    });
    expect(await counts(db)).toEqual(before);
  });

  it("routes new rows by the time in their id, and the lookups by id prune to one partition", async () => {
    const id = await seed(db, day(2) + HOUR, "tomorrow-and-one");
    const p = `events_p${new Date(day(2)).toISOString().slice(0, 10).replaceAll("-", "")}`;
    expect(await partitionOf(db, "events", id)).toBe(p);
    const plan = await db.pool.query<{ "QUERY PLAN": string }>("explain select * from events where id = $1", [
      id,
    ]);
    const text = plan.rows.map((r) => r["QUERY PLAN"]).join("\n");
    expect(text).toContain(p);
    expect(text).not.toContain("events_legacy");
  });

  it("retention drops the old rows' partition once its last event is past the cutoff", async () => {
    // The legacy partition ends tomorrow; a cutoff past that takes it, except what is live.
    const before = await counts(db);
    const report = await dropExpiredPartitions(db.pool, {
      eventsBefore: new Date(day(1)),
      attemptsBefore: new Date(day(1)),
    });
    expect(report.dropped.sort()).toEqual(["delivery_attempts_legacy", "events_legacy"]);
    expect(report.deliveries).toBe(25);
    const after = await counts(db);
    expect(after.events).toBe(before.events - 25);
    expect(after.deliveries).toBe(before.deliveries - 25);
    expect(after.attempts).toBe(before.attempts - 25);
  });
});

describe("a partitioned install", () => {
  let iso: Isolated;
  let db: Database;

  beforeAll(async () => {
    iso = await isolate("partitioned");
    db = connectDatabase(iso.databaseUrl, { max: 4 });
    await convertToPartitioned(db.pool, { period: "daily", now: NOW });
  });
  afterAll(() => closeAll(db, iso));

  it("de-duplicates across partitions, and after retention dropped the original as a plain install does", async () => {
    // The same provider event, sent a minute before midnight and again a minute after it.
    const first = idAt("evt", day(2) - 60_000);
    expect((await recordIngestedEvent(db.pool, input(first, "k-1", new Date(day(2) - 60_000)))).kind).toBe(
      "created",
    );
    const again = idAt("evt", day(2) + 60_000);
    expect(await recordIngestedEvent(db.pool, input(again, "k-1", new Date(day(2) + 60_000)))).toEqual({
      kind: "duplicate",
      originalEventId: first,
    });
    const dayOne = `events_p${new Date(day(1)).toISOString().slice(0, 10).replaceAll("-", "")}`;
    expect(await partitionOf(db, "events", first)).toBe(dayOne);
    const count = await db.pool.query<{ duplicate_count: number }>(
      "select duplicate_count from events where id = $1",
      [first],
    );
    expect(count.rows[0]?.duplicate_count).toBe(1);

    await db.pool.query("update deliveries set status = 'succeeded' where event_id = $1", [first]);
    // Retention takes the original's day; its key holds for its window (docs/guarantees.md),
    // so a copy inside the window is still a duplicate, and one after it is a new event.
    const report = await dropExpiredPartitions(db.pool, {
      eventsBefore: new Date(day(2)),
      attemptsBefore: null,
    });
    expect(report.dropped).toContain(dayOne);
    expect(await partitionOf(db, "events", first)).toBeUndefined();
    const inWindow = new Date(day(3));
    expect(await recordIngestedEvent(db.pool, input(idAt("evt", day(3)), "k-1", inWindow))).toEqual({
      kind: "duplicate",
      originalEventId: first,
    });
    const afterWindow = new Date(day(2) - 60_000 + 72 * HOUR + 1);
    const late = idAt("evt", afterWindow.getTime());
    expect((await recordIngestedEvent(db.pool, input(late, "k-1", afterWindow))).kind).toBe("created");
  });

  it("keeps a partition that holds a delivery in progress; the batched purge keeps just that event", async () => {
    const d = day(5);
    const done = [await seed(db, d + HOUR, "d-1"), await seed(db, d + 2 * HOUR, "d-2")];
    const busy = await seed(db, d + 3 * HOUR, "d-3", "retrying");
    const name = `events_p${new Date(d).toISOString().slice(0, 10).replaceAll("-", "")}`;
    const report = await dropExpiredPartitions(db.pool, {
      eventsBefore: new Date(d + DAY),
      attemptsBefore: null,
    });
    expect(report.kept).toContain(name);
    expect(await partitionOf(db, "events", busy)).toBe(name);
    await purgeOlderThan(db.pool, { eventsBefore: new Date(d + DAY), attemptsBefore: null, now: NOW });
    for (const id of done) expect(await partitionOf(db, "events", id)).toBeUndefined();
    expect(await partitionOf(db, "events", busy)).toBe(name);
    const left = await db.pool.query("select 1 from deliveries where event_id = any($1)", [done]);
    expect(left.rowCount).toBe(0);
  });

  it("moves rows that landed in the default partition into the partition made for them", async () => {
    const far = day(30) + HOUR;
    const id = await seed(db, far, "far-ahead");
    expect(await partitionOf(db, "events", id)).toBe("events_default");
    const created = await ensurePartitions(db.pool, { period: "daily", now: new Date(far) });
    const name = `events_p${new Date(day(30)).toISOString().slice(0, 10).replaceAll("-", "")}`;
    expect(created).toContain(name);
    expect(await partitionOf(db, "events", id)).toBe(name);
    const stray = await db.pool.query("select 1 from events_default");
    expect(stray.rowCount).toBe(0);
  });

  it("makes weekly partitions after daily ones when the period changes", async () => {
    const last = Math.max(...(await listPartitions(db.pool, "events")).map((p) => p.toMs ?? 0));
    const created = await ensurePartitions(db.pool, { period: "weekly", now: new Date(last), ahead: 1 });
    expect(created.length).toBeGreaterThan(0);
    const partitions = await listPartitions(db.pool, "events");
    const next = partitions.find((p) => p.from === boundId("evt", last));
    expect(next?.toMs).toBe(nextBoundary(last, "weekly"));
  });
});

describe("a conversion interrupted midway", () => {
  let iso: Isolated;
  let db: Database;

  beforeAll(async () => {
    iso = await isolate("partcrash");
    db = connectDatabase(iso.databaseUrl, { max: 4 });
    for (let n = 0; n < 10; n++) await seed(db, NOW.getTime() - n * DAY, `c-${n}`);
  });
  afterAll(() => closeAll(db, iso));

  it("leaves the install as it was, and a re-run finishes it", async () => {
    const before = await counts(db);
    // Something reading delivery_attempts holds the conversion midway (after it changed deliveries).
    const blocker = await db.pool.connect();
    try {
      await blocker.query("begin");
      await blocker.query("select 1 from delivery_attempts limit 1");
      const converting = convertToPartitioned(db.pool, { period: "daily", now: NOW });
      const pid = await (async () => {
        for (let n = 0; n < 200; n++) {
          const r = await db.pool.query<{ pid: number }>(
            `select pid from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
          );
          if (r.rows[0]) return r.rows[0].pid;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error("the conversion never waited");
      })();
      // The server side of a kill -9: the session goes, its transaction with it.
      await db.pool.query("select pg_terminate_backend($1)", [pid]);
      await expect(converting).rejects.toThrow();
      await blocker.query("commit");
    } finally {
      blocker.release();
    }
    expect(await partitionedTables(db.pool)).toEqual({ events: false, delivery_attempts: false });
    expect(await counts(db)).toEqual(before);
    const fks = await db.pool.query(
      "select 1 from pg_constraint where contype = 'f' and conname like 'deliver%'",
    );
    expect(fks.rowCount).toBe(2);

    expect((await convertToPartitioned(db.pool, { period: "daily", now: NOW })).converted).toHaveLength(2);
    expect(await counts(db)).toEqual(before);
  });
});
