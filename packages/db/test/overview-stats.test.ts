// The overview reads statistics the database keeps (migration 0010), not the tables. After a mixed
// workload (batches recorded with and without first attempts, successes, retries, final
// failures, a manual retry, provider duplicates, rows backdated into earlier buckets and beyond
// the horizon, retention deleting events, deliveries and attempts inside the window, folds run
// concurrently and one killed halfway) its numbers equal a direct count over the tables.
import {
  type AttemptResult,
  closeAttempts,
  connectDatabase,
  convertToPartitioned,
  type Database,
  foldStats,
  getOverview,
  getTargetHealth,
  histogramQuantile,
  type IngestInput,
  newId,
  type Overview,
  openAttempts,
  purgeOlderThan,
  recordIngestedEvents,
  retryDelivery,
  type TargetHealth,
} from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let iso: Isolated;
let database: Database;
/** Set by overview-stats-partitioned.test.ts: the same workload on an install converted midway. */
const PARTITIONING = (globalThis as { hooklineStatsPartitioning?: "daily" }).hooklineStatsPartitioning;

beforeAll(async () => {
  iso = await isolate("dbstats");
  database = connectDatabase(iso.databaseUrl, { max: 6 });
});
afterAll(() => closeAll(database, iso));

const HOUR = 3_600_000;
const SOURCES = ["clausum", "stripe", "github"];
const TARGETS = ["a", "b", "c"];

const input = (n: number, receivedAt: Date, key = `k-${n}-${receivedAt.getTime()}`): IngestInput => ({
  eventId: newId("evt"),
  sourceId: SOURCES[n % SOURCES.length] as string,
  eventType: "case.created",
  dedupeKey: key,
  providerId: null,
  receivedAt,
  headers: {},
  body: Buffer.from(`{"n":${n}}`),
  contentType: "application/json",
  dedupeWindowMs: 24 * HOUR,
  targetIds: n % 3 === 0 ? ["a", "b"] : ["c"],
  // Half the deliveries have their first attempt opened with the delivery, as the worker does.
  firstAttempts: (n % 3 === 0 ? ["a", "b"] : ["c"]).map((_, i) =>
    (n + i) % 2 === 0 ? { attemptId: newId("att"), leaseUntil: new Date(Date.now() + 60_000) } : null,
  ),
});

/**
 * An attempt counts under the target it carries, or, written without one (before migration
 * 0011), under its delivery's while the delivery exists.
 */
const ATTEMPT_TARGET = "coalesce(a.target_id, d.target_id)";
const ATTEMPTS = `from delivery_attempts a left join deliveries d on d.id = a.delivery_id and a.target_id is null
     where ${ATTEMPT_TARGET} is not null and`;

/** What the overview shows, counted straight from the tables with the same windows. */
async function directCounts(): Promise<{ overview: Overview; health: Map<string, TargetHealth> }> {
  const q = async <R extends object>(sql: string) => (await database.pool.query<R>(sql)).rows;
  const win = (column: string) =>
    `${column} >= hookline_stats_bucket(now()) - interval '23 hours 55 minutes'`;
  const inHour = (column: string) => `${column} >= hookline_stats_bucket(now()) - interval '55 minutes'`;
  const sources = await q<{ source_id: string; hour: number; day: number }>(
    `select source_id, count(*) filter (where ${inHour("received_at")})::int as hour, count(*)::int as day
     from events where ${win("received_at")} group by source_id order by source_id`,
  );
  const perHour = await q<{ h: number; n: number }>(
    `select floor(extract(epoch from (hookline_stats_bucket(now()) - hookline_stats_bucket(received_at))) / 3600)::int as h,
            count(*)::int as n
     from events where ${win("received_at")} group by 1`,
  );
  const deliveries = await q<{ target_id: string; status: string; hour: number; day: number }>(
    `select target_id, status, count(*) filter (where ${inHour("updated_at")})::int as hour, count(*)::int as day
     from deliveries where ${win("updated_at")} group by 1, 2`,
  );
  const attempts = await q<{
    target_id: string;
    attempts: number;
    succeeded: number;
    last_attempt: Date | null;
    last_success: Date | null;
  }>(
    `select ${ATTEMPT_TARGET} as target_id, count(*) filter (where ${inHour("a.started_at")})::int as attempts,
            count(*) filter (where ${inHour("a.started_at")} and a.status_code between 200 and 299)::int as succeeded,
            max(a.started_at) as last_attempt,
            max(a.started_at) filter (where a.status_code between 200 and 299) as last_success
     ${ATTEMPTS} ${win("a.started_at")} group by 1`,
  );
  const histogram = await q<{ target_id: string; bound: string; n: number }>(
    `select ${ATTEMPT_TARGET} as target_id, hookline_stats_ms(a.duration_ms) as bound, count(*)::int as n
     ${ATTEMPTS} ${inHour("a.started_at")} and a.duration_ms is not null group by 1, 2`,
  );

  const chart = new Array<number>(24).fill(0);
  for (const r of perHour) chart[23 - r.h] = r.n;
  const byStatus = new Map<string, { hour: number; day: number }>();
  for (const r of deliveries) {
    const s = byStatus.get(r.status) ?? { hour: 0, day: 0 };
    byStatus.set(r.status, { hour: s.hour + r.hour, day: s.day + r.day });
  }
  const health = new Map<string, TargetHealth>();
  const blank = (targetId: string): TargetHealth =>
    health.get(targetId) ?? {
      targetId,
      attempts: 0,
      succeeded: 0,
      p95Ms: null,
      lastAttemptAt: null,
      lastSuccessAt: null,
      backlog: 0,
      failed: 0,
    };
  for (const r of deliveries) {
    if (r.status === "succeeded") continue;
    const h = blank(r.target_id);
    health.set(r.target_id, {
      ...h,
      backlog: h.backlog + (r.status === "failed" ? 0 : r.day),
      failed: h.failed + (r.status === "failed" ? r.day : 0),
    });
  }
  for (const r of attempts) {
    health.set(r.target_id, {
      ...blank(r.target_id),
      attempts: r.attempts,
      succeeded: r.succeeded,
      lastAttemptAt: r.last_attempt,
      lastSuccessAt: r.last_success,
    });
  }
  const histograms = new Map<string, Map<string, number>>();
  for (const r of histogram)
    histograms.set(r.target_id, (histograms.get(r.target_id) ?? new Map()).set(r.bound, r.n));
  for (const [t, h] of histograms) {
    const p95 = histogramQuantile(0.95, h);
    health.set(t, { ...blank(t), p95Ms: p95 === null ? null : Math.round(p95) });
  }
  return {
    overview: {
      eventsBySource: new Map(sources.map((r) => [r.source_id, { hour: r.hour, day: r.day }])),
      deliveriesByStatus: new Map(
        [...byStatus].map(([s, c]) => [s as "pending" | "retrying" | "succeeded" | "failed", c]),
      ),
      eventsPerHour: chart,
    },
    health,
  };
}

const bucketNow = async () =>
  (await database.pool.query<{ b: Date }>("select hookline_stats_bucket(now()) as b")).rows[0]?.b.getTime();

/**
 * The overview equals the direct count (read again if a 5-minute boundary passed in between).
 * Newest-attempt times are never taken back (a delete or a hand-made change can only leave one
 * newer than what the table still holds); until `latestExact` is false they must match too.
 */
async function expectExact(latestExact = true): Promise<void> {
  for (let tries = 0; ; tries++) {
    const before = await bucketNow();
    const [overview, health, direct] = await Promise.all([
      getOverview(database.pool),
      getTargetHealth(database.pool),
      directCounts(),
    ]);
    if ((await bucketNow()) !== before && tries < 3) continue;
    expect(overview).toEqual(direct.overview);
    const sorted = (m: Map<string, TargetHealth>) => [...m].sort(([a], [b]) => a.localeCompare(b));
    const counts = (m: Map<string, TargetHealth>) =>
      sorted(m).map(([t, { lastAttemptAt: _a, lastSuccessAt: _s, ...rest }]) => [t, rest]);
    expect(counts(health)).toEqual(counts(direct.health));
    for (const [t, d] of direct.health) {
      const h = health.get(t);
      for (const key of ["lastAttemptAt", "lastSuccessAt"] as const) {
        const want = d[key];
        const got = h?.[key] ?? null;
        if (latestExact) expect(got, `${t} ${key}`).toEqual(want);
        else if (want !== null) expect(got?.getTime(), `${t} ${key}`).toBeGreaterThanOrEqual(want.getTime());
      }
    }
    return;
  }
}

async function openAndClose(
  deliveries: ReadonlyArray<{ id: string; runNumber: number }>,
  outcome: (i: number) => Pick<AttemptResult, "statusCode" | "status" | "error"> & { ms: number },
  now = new Date(),
): Promise<void> {
  const opened = await openAttempts(
    database.pool,
    deliveries.map((d) => ({ deliveryId: d.id, runNumber: d.runNumber, attemptId: newId("att"), now })),
  );
  const results: AttemptResult[] = [];
  opened.forEach((o, i) => {
    const d = deliveries[i];
    if (!o || !d || "notDueUntil" in o) return;
    const out = outcome(i);
    results.push({
      attemptId: o.attemptId,
      deliveryId: d.id,
      runNumber: d.runNumber,
      durationMs: out.ms,
      statusCode: out.statusCode,
      responseBody: null,
      error: out.error,
      status: out.status,
      nextAttemptAt: out.status === "retrying" ? new Date(Date.now() + 60_000) : null,
    });
  });
  await closeAttempts(database.pool, results);
}

describe("the overview's statistics", () => {
  it("equal a direct count over the tables after a mixed workload", async () => {
    const now = Date.now();
    // Recorded now, earlier today (other buckets and hours), and 30 h ago (beyond the horizon).
    const ages = [0, 0, 0, 20 * 60_000, 2 * HOUR, 10 * HOUR, 23 * HOUR, 30 * HOUR];
    const inputs = Array.from({ length: 160 }, (_, n) =>
      input(n, new Date(now - (ages[n % ages.length] ?? 0))),
    );
    for (let i = 0; i < inputs.length; i += 40)
      await recordIngestedEvents(database.pool, inputs.slice(i, i + 40));
    // Provider duplicates: new ids, keys already held (bumps events.duplicate_count).
    await recordIngestedEvents(
      database.pool,
      inputs.slice(0, 10).map((e, n) => ({ ...input(n, e.receivedAt, e.dedupeKey), sourceId: e.sourceId })),
    );
    await expectExact();
    if (PARTITIONING !== undefined) {
      // Converted as of yesterday: today's rows move from the legacy table into a day partition
      // (counted out there, in here), and the triggers must follow the tables to their parents.
      await convertToPartitioned(database.pool, { period: PARTITIONING, now: new Date(now - 24 * HOUR) });
      await expectExact();
    }

    // Attempts written by the release before migration 0011 carry no target: the triggers look
    // their delivery's up (clearing it changes no count), also as they close and are deleted below.
    await database.pool.query(
      "update delivery_attempts set target_id = null where id in (select id from delivery_attempts order by id desc limit 15)",
    );
    await expectExact();

    // Close the first attempts opened on the way in: most succeed, some are to be retried.
    const inline = await database.pool.query<{ attempt_id: string; delivery_id: string; run_number: number }>(
      `select a.id as attempt_id, d.id as delivery_id, d.run_number from delivery_attempts a
       join deliveries d on d.id = a.delivery_id where a.status_code is null and a.duration_ms is null`,
    );
    await closeAttempts(
      database.pool,
      inline.rows.map((r, i) => ({
        attemptId: r.attempt_id,
        deliveryId: r.delivery_id,
        runNumber: r.run_number,
        durationMs: 3 + ((i * 37) % 400),
        statusCode: i % 5 === 0 ? 503 : 200,
        responseBody: null,
        error: i % 5 === 0 ? "http_503" : null,
        status: i % 5 === 0 ? "retrying" : "succeeded",
        nextAttemptAt: i % 5 === 0 ? new Date(Date.now() + 60_000) : null,
      })),
    );
    await foldStats(database.pool);
    await expectExact();

    // The others: attempted now; 200, 503 (retrying), 400 (failed at once).
    const pending = await database.pool.query<{ id: string; run_number: number }>(
      "select id, run_number from deliveries where status = 'pending' and attempt_count = 0 order by id",
    );
    await openAndClose(
      pending.rows.map((r) => ({ id: r.id, runNumber: r.run_number })),
      (i) =>
        i % 7 === 0
          ? { statusCode: 400, status: "failed", error: "http_400", ms: 15 }
          : i % 4 === 0
            ? { statusCode: 503, status: "retrying", error: "http_503", ms: 2_500 }
            : { statusCode: 200, status: "succeeded", error: null, ms: 20 + (i % 90) },
    );
    // Two folds at once: one takes the lock, the other has nothing to do.
    await Promise.all([foldStats(database.pool), foldStats(database.pool)]);
    await expectExact();

    // Retries, as if two minutes later: some succeed, some fail for good, some wait again.
    const retrying = await database.pool.query<{ id: string; run_number: number }>(
      "select id, run_number from deliveries where status = 'retrying' order by id",
    );
    await openAndClose(
      retrying.rows.map((r) => ({ id: r.id, runNumber: r.run_number })),
      (i) =>
        i % 3 === 0
          ? { statusCode: 200, status: "succeeded", error: null, ms: 70_000 }
          : i % 3 === 1
            ? { statusCode: 500, status: "failed", error: "http_500", ms: 900 }
            : { statusCode: 503, status: "retrying", error: "http_503", ms: 1_200 },
      new Date(Date.now() + 120_000),
    );
    // A manual retry of a failed delivery starts a new run (pending again).
    const failed = await database.pool.query<{ id: string }>(
      "select id from deliveries where status = 'failed' limit 1",
    );
    await retryDelivery(database.pool, failed.rows[0]?.id as string, ["failed"], TARGETS);
    await expectExact();

    // Rows written by hand, as ops might: a delivery and attempts in earlier buckets.
    await database.pool.query(
      `update deliveries set updated_at = now() - interval '3 hours' where id in (select id from deliveries order by id limit 5)`,
    );
    await database.pool.query(
      `update delivery_attempts set started_at = now() - interval '30 minutes'
       where id in (select id from delivery_attempts order by id limit 5)`,
    );
    await expectExact(false);

    // Retention: events received over 5 h ago go with their deliveries and attempts (which
    // changed just now, inside the window), and attempts started over 10 minutes ago.
    const purged = await purgeOlderThan(database.pool, {
      eventsBefore: new Date(Date.now() - 5 * HOUR),
      attemptsBefore: new Date(Date.now() - 10 * 60_000),
      batchSize: 25,
    });
    expect(purged.events).toBeGreaterThan(0);
    expect(purged.delivery_attempts).toBeGreaterThan(0);
    await expectExact(false);

    // Deliveries deleted by hand, some with attempts that carry no target: their attempts go by
    // cascade (on a partitioned install, which has no foreign keys, they stay and count on).
    const gone = await database.pool.query(
      `delete from deliveries where id in (
         (select delivery_id from delivery_attempts where target_id is null order by id limit 3)
         union all (select delivery_id from delivery_attempts where target_id is not null order by id limit 3))`,
    );
    expect(gone.rowCount).toBeGreaterThanOrEqual(4);
    await expectExact(false);

    // A fold killed halfway (its connection dies while it waits on a row lock) changes nothing;
    // the next one folds everything once.
    await recordIngestedEvents(database.pool, [input(1000, new Date()), input(1001, new Date())]);
    const victim = connectDatabase(iso.databaseUrl, { max: 1, applicationName: "stats-fold-victim" });
    victim.pool.on("error", () => {});
    const blocker = await database.pool.connect();
    try {
      await blocker.query("begin");
      await blocker.query("select 1 from stats_5m where kind = 'event' for update");
      const folding = foldStats(victim.pool).then(
        () => "finished",
        () => "killed",
      );
      for (let i = 0; i < 100; i++) {
        const waiting = await database.pool.query(
          `select pid from pg_stat_activity where application_name = 'stats-fold-victim' and wait_event_type = 'Lock'`,
        );
        if ((waiting.rowCount ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await database.pool.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'stats-fold-victim'",
      );
      expect(await folding).toBe("killed");
      await blocker.query("commit");
    } finally {
      blocker.release();
      await victim.close().catch(() => {});
    }
    await expectExact(false);
    await foldStats(database.pool);
    await expectExact(false);
    const left = await database.pool.query<{ n: string }>("select count(*) as n from stats_deltas");
    expect(Number(left.rows[0]?.n)).toBe(0);

    // The whole picture is not empty: every kind of number was exercised.
    const overview = await getOverview(database.pool);
    expect([...overview.deliveriesByStatus.keys()].sort()).toEqual([
      "failed",
      "pending",
      "retrying",
      "succeeded",
    ]);
    expect(overview.eventsPerHour.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    const health = await getTargetHealth(database.pool);
    expect(health.get("c")?.p95Ms).toBeGreaterThan(0);
  });

  it("empties a table's counts when the table is truncated", async () => {
    // All three named: a partitioned install has no foreign keys for a cascade to follow.
    await database.pool.query("truncate events, deliveries, delivery_attempts cascade");
    await expectExact();
    const rows = await database.pool.query<{ n: string }>(
      "select (select count(*) from stats_5m) + (select count(*) from stats_deltas) as n",
    );
    expect(Number(rows.rows[0]?.n)).toBe(0);
  });
});

describe("histogramQuantile", () => {
  it("interpolates inside the bucket that holds the rank", () => {
    expect(histogramQuantile(0.95, new Map())).toBeNull();
    // 100 observations in (10, 15]: the 95th is 95% of the way through it.
    expect(histogramQuantile(0.95, new Map([["15", 100]]))).toBeCloseTo(14.75);
    expect(
      histogramQuantile(
        0.5,
        new Map([
          ["1", 50],
          ["2", 50],
        ]),
      ),
    ).toBeCloseTo(1);
    expect(histogramQuantile(0.95, new Map([["inf", 3]]))).toBe(60_000);
  });
});
