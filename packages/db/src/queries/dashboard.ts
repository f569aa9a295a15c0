// What the dashboard's overview reads: counts over the last hour and day, and each target's
// health from its recent attempts. Every query is bounded by a time window on an indexed column
// (events.received_at, deliveries.updated_at, delivery_attempts.started_at), so the page costs
// the same whatever the size of the history.
import type pg from "pg";
import type { DeliveryStatus } from "../schema/deliveries";

export interface WindowCount {
  /** In the last hour. */
  readonly hour: number;
  /** In the last 24 hours. */
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
  /** 95th percentile attempt duration over the last hour, in ms; null without attempts. */
  readonly p95Ms: number | null;
  readonly lastAttemptAt: Date | null;
  readonly lastSuccessAt: Date | null;
  /** Deliveries waiting for an attempt (pending or retrying), updated in the last day. */
  readonly backlog: number;
  /** Deliveries that failed for good, updated in the last day. */
  readonly failed: number;
}

const HOUR = "interval '1 hour'";
const DAY = "interval '24 hours'";

/** Counts per source and per delivery status over the last hour and day, and events per hour. */
export async function getOverview(pool: pg.Pool): Promise<Overview> {
  const [sources, statuses, hourly] = await Promise.all([
    pool.query<{ source_id: string; hour: number; day: number }>(
      `select source_id,
              count(*) filter (where received_at >= now() - ${HOUR})::int as hour,
              count(*)::int as day
       from events where received_at >= now() - ${DAY}
       group by source_id order by source_id`,
    ),
    pool.query<{ status: DeliveryStatus; hour: number; day: number }>(
      `select status,
              count(*) filter (where updated_at >= now() - ${HOUR})::int as hour,
              count(*)::int as day
       from deliveries where updated_at >= now() - ${DAY}
       group by status`,
    ),
    pool.query<{ bucket: number; n: number }>(
      `select floor(extract(epoch from (now() - received_at)) / 3600)::int as bucket, count(*)::int as n
       from events where received_at >= now() - ${DAY}
       group by bucket`,
    ),
  ]);
  const perHour = new Array<number>(24).fill(0);
  for (const r of hourly.rows) {
    const index = 23 - r.bucket;
    if (index >= 0 && index < 24) perHour[index] = r.n;
  }
  return {
    eventsBySource: new Map(sources.rows.map((r) => [r.source_id, { hour: r.hour, day: r.day }])),
    deliveriesByStatus: new Map(statuses.rows.map((r) => [r.status, { hour: r.hour, day: r.day }])),
    eventsPerHour: perHour,
  };
}

/** Per target: the last hour's attempts (success rate, p95 duration) and the last day's backlog. */
export async function getTargetHealth(pool: pg.Pool): Promise<Map<string, TargetHealth>> {
  const [attempts, lastSeen, backlog] = await Promise.all([
    pool.query<{ target_id: string; attempts: number; succeeded: number; p95: number | null }>(
      `select d.target_id, count(*)::int as attempts,
              count(*) filter (where a.status_code between 200 and 299)::int as succeeded,
              percentile_cont(0.95) within group (order by a.duration_ms) as p95
       from delivery_attempts a join deliveries d on d.id = a.delivery_id
       where a.started_at >= now() - ${HOUR}
       group by d.target_id`,
    ),
    pool.query<{ target_id: string; last_attempt: Date | null; last_success: Date | null }>(
      `select d.target_id, max(a.started_at) as last_attempt,
              max(a.started_at) filter (where a.status_code between 200 and 299) as last_success
       from delivery_attempts a join deliveries d on d.id = a.delivery_id
       where a.started_at >= now() - ${DAY}
       group by d.target_id`,
    ),
    pool.query<{ target_id: string; backlog: number; failed: number }>(
      `select target_id,
              count(*) filter (where status in ('pending', 'retrying'))::int as backlog,
              count(*) filter (where status = 'failed')::int as failed
       from deliveries where updated_at >= now() - ${DAY} and status <> 'succeeded'
       group by target_id`,
    ),
  ]);
  const out = new Map<string, TargetHealth>();
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
  for (const r of attempts.rows) {
    out.set(r.target_id, {
      ...entry(r.target_id),
      attempts: r.attempts,
      succeeded: r.succeeded,
      p95Ms: r.p95 === null ? null : Math.round(Number(r.p95)),
    });
  }
  for (const r of lastSeen.rows) {
    out.set(r.target_id, {
      ...entry(r.target_id),
      lastAttemptAt: r.last_attempt,
      lastSuccessAt: r.last_success,
    });
  }
  for (const r of backlog.rows) {
    out.set(r.target_id, { ...entry(r.target_id), backlog: r.backlog, failed: r.failed });
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
