// What the dashboard's overview reads: counts over the last hour and day, and each target's
// health from its recent attempts. Everything comes from the statistics the database keeps in
// 5-minute buckets (stats.ts): two statements that read a few thousand rows at most, whatever the
// size of the history. Counting the tables themselves cost 0.65 s with 1,000,000 events stored
// (issue #15), and grows with the traffic of the day.
import type pg from "pg";
import type { DeliveryStatus } from "../schema/deliveries";
import { histogramQuantile, STATS_WINDOW } from "./stats";

export interface WindowCount {
  /** In the last hour (the 5-minute bucket in progress and the 11 before it). */
  readonly hour: number;
  /** In the last 24 hours (the bucket in progress and the 287 before it). */
  readonly day: number;
}

export interface Overview {
  /** Events received per source. */
  readonly eventsBySource: ReadonlyMap<string, WindowCount>;
  /** Deliveries whose last change (attempt, retry, success) falls in the window, by current status. */
  readonly deliveriesByStatus: ReadonlyMap<DeliveryStatus, WindowCount>;
  /** Events received per hour over the last 24 hours, oldest first: 24 buckets, the last one partial. */
  readonly eventsPerHour: readonly number[];
}

export interface TargetHealth {
  readonly targetId: string;
  /** Attempts started in the last hour, and how many of them got a 2xx. */
  readonly attempts: number;
  readonly succeeded: number;
  /**
   * 95th percentile attempt duration over the last hour, in ms, estimated from a histogram
   * (buckets 1-2-3-5-7 ms per decade, interpolated); null without finished attempts.
   */
  readonly p95Ms: number | null;
  /** The newest attempt (and 2xx) started in the last day. */
  readonly lastAttemptAt: Date | null;
  readonly lastSuccessAt: Date | null;
  /** Deliveries waiting for an attempt (pending or retrying), updated in the last day. */
  readonly backlog: number;
  /** Deliveries that failed for good, updated in the last day. */
  readonly failed: number;
}

interface StatRow {
  kind: string;
  subject: string;
  detail: string;
  hour: string;
  day: string;
  latest: Date | null;
}

/** Per kind, subject and detail: the sums over the last hour and day, and the newest `latest`. */
async function readStats(pool: pg.Pool, kinds: readonly string[]): Promise<StatRow[]> {
  const result = await pool.query<StatRow>({
    name: `hookline_stats_read_${kinds.join("_")}`,
    text: `select kind, subject, detail,
              coalesce(sum(n) filter (where in_hour), 0) as hour, sum(n) as day, max(latest) as latest
       from ${STATS_WINDOW} w
       where kind <> 'attempt_ms' or in_hour -- durations: the last hour's only
       group by kind, subject, detail`,
    values: [kinds],
  });
  return result.rows;
}

/** Counts per source and per delivery status over the last hour and day, and events per hour. */
export async function getOverview(pool: pg.Pool): Promise<Overview> {
  const [rows, hourly] = await Promise.all([
    readStats(pool, ["event", "delivery"]),
    pool.query<{ bucket: number; n: string }>({
      name: "hookline_stats_events_per_hour",
      // Hour 0 ends with the bucket in progress.
      text: `select floor(extract(epoch from (hookline_stats_bucket(now()) - bucket)) / 3600)::int as bucket,
              sum(n) as n
       from ${STATS_WINDOW} w
       group by 1`,
      values: [["event"]],
    }),
  ]);
  const sources = new Map<string, WindowCount>();
  const statuses = new Map<DeliveryStatus, WindowCount>();
  for (const r of rows) {
    if (r.kind === "event") {
      sources.set(r.subject, { hour: Number(r.hour), day: Number(r.day) });
    } else {
      const status = r.detail as DeliveryStatus;
      const sum = statuses.get(status) ?? { hour: 0, day: 0 };
      statuses.set(status, { hour: sum.hour + Number(r.hour), day: sum.day + Number(r.day) });
    }
  }
  const perHour = new Array<number>(24).fill(0);
  for (const r of hourly.rows) {
    const index = 23 - r.bucket;
    if (index >= 0 && index < 24) perHour[index] = Number(r.n);
  }
  const nonZero = <K>(m: Map<K, WindowCount>) => new Map([...m].filter(([, c]) => c.day !== 0));
  return {
    eventsBySource: new Map([...nonZero(sources)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    deliveriesByStatus: nonZero(statuses),
    eventsPerHour: perHour,
  };
}

/** Per target: the last hour's attempts (success rate, p95 duration) and the last day's backlog. */
export async function getTargetHealth(pool: pg.Pool): Promise<Map<string, TargetHealth>> {
  const rows = await readStats(pool, ["delivery", "attempt", "attempt_ms"]);
  const out = new Map<string, TargetHealth>();
  const histograms = new Map<string, Map<string, number>>();
  const entry = (targetId: string): TargetHealth => {
    const found = out.get(targetId);
    if (found) return found;
    const fresh: TargetHealth = {
      targetId,
      attempts: 0,
      succeeded: 0,
      p95Ms: null,
      lastAttemptAt: null,
      lastSuccessAt: null,
      backlog: 0,
      failed: 0,
    };
    out.set(targetId, fresh);
    return fresh;
  };
  const later = (a: Date | null, b: Date | null) => (a === null ? b : b === null || a > b ? a : b);
  for (const r of rows) {
    const hour = Number(r.hour);
    const day = Number(r.day);
    if (r.kind === "delivery") {
      if (day === 0 || r.detail === "succeeded") continue;
      const h = entry(r.subject);
      if (r.detail === "failed") out.set(r.subject, { ...h, failed: h.failed + day });
      else out.set(r.subject, { ...h, backlog: h.backlog + day });
    } else if (r.kind === "attempt") {
      const h = entry(r.subject);
      const ok = r.detail === "ok";
      out.set(r.subject, {
        ...h,
        attempts: h.attempts + hour,
        succeeded: h.succeeded + (ok ? hour : 0),
        lastAttemptAt: later(h.lastAttemptAt, r.latest),
        lastSuccessAt: ok ? later(h.lastSuccessAt, r.latest) : h.lastSuccessAt,
      });
    } else if (hour > 0) {
      const histogram = histograms.get(r.subject) ?? new Map<string, number>();
      histogram.set(r.detail, hour);
      histograms.set(r.subject, histogram);
    }
  }
  for (const [targetId, histogram] of histograms) {
    const p95 = histogramQuantile(0.95, histogram);
    out.set(targetId, { ...entry(targetId), p95Ms: p95 === null ? null : Math.round(p95) });
  }
  return out;
}

/** The event type of each of these events (one page of a delivery list), by primary key. */
export async function getEventTypes(
  pool: pg.Pool,
  eventIds: readonly string[],
): Promise<Map<string, string | null>> {
  if (eventIds.length === 0) return new Map();
  const result = await pool.query<{ id: string; event_type: string | null }>(
    "select id, event_type from events where id = any($1::text[])",
    [[...new Set(eventIds)]],
  );
  return new Map(result.rows.map((r) => [r.id, r.event_type]));
}
