// The overview's statistics (schema/stats.ts, migration 0010). Triggers append every change to
// events, deliveries and delivery_attempts to `stats_deltas` in the writing transaction; this
// module folds those deltas into the 5-minute buckets of `stats_5m` and reads the two together.
import type pg from "pg";
import { transaction } from "../client";

/** Width of a statistics bucket: the overview's windows move in steps of this. */
export const STATS_BUCKET_MINUTES = 5;

/** Any constant will do: it only keeps two folds from waiting on each other's rows. */
const FOLD_LOCK = 0x686f6f6b; // "hook"

export interface FoldResult {
  /** Buckets written (each the sum of one or more deltas). */
  readonly buckets: number;
  /** Buckets dropped because they fell out of the 25 hours the overview can read. */
  readonly pruned: number;
}

/**
 * Moves every committed delta into its bucket and drops buckets older than the triggers count
 * (the horizon: 25 hours). One transaction: a fold that is killed halfway leaves the deltas where
 * they were, and a delta is in exactly one of the two tables at any instant, so a reader that
 * sums both in one statement is exact. Null when another process's fold holds the lock: its
 * fold takes these deltas too.
 */
export async function foldStats(pool: pg.Pool): Promise<FoldResult | null> {
  return transaction(pool, async (tx) => {
    const lock = await tx.query<{ ok: boolean }>("select pg_try_advisory_xact_lock($1) as ok", [FOLD_LOCK]);
    if (lock.rows[0]?.ok !== true) return null;
    // Deltas committed after this statement's snapshot stay for the next fold (DELETE only sees,
    // and so only moves, what was committed when it started).
    const folded = await tx.query({
      name: "hookline_stats_fold",
      text: `with moved as (
         delete from stats_deltas returning bucket, kind, subject, detail, n, latest
       )
       insert into stats_5m (bucket, kind, subject, detail, n, latest)
       select bucket, kind, subject, detail, sum(n), max(latest) from moved
       where bucket >= hookline_stats_bucket(hookline_stats_horizon())
       group by kind, bucket, subject, detail
       order by kind, bucket, subject, detail
       on conflict (kind, bucket, subject, detail) do update
         set n = stats_5m.n + excluded.n, latest = greatest(stats_5m.latest, excluded.latest)`,
    });
    const pruned = await tx.query({
      name: "hookline_stats_prune",
      text: `delete from stats_5m
       where kind = any(array['event', 'delivery', 'attempt', 'attempt_ms'])
         and bucket < hookline_stats_bucket(hookline_stats_horizon())`,
    });
    return { buckets: folded.rowCount ?? 0, pruned: pruned.rowCount ?? 0 };
  });
}

/**
 * The SQL of a statistics read: rows of the given kinds over the last day, from the folded
 * buckets and the deltas not yet folded. `$1` is the array of kinds. Columns: bucket, kind,
 * subject, detail, n, latest; and `in_hour` (the bucket is one of the last hour's).
 *
 * "The last hour" is the bucket in progress and the 11 before it (55 to 60 minutes); "the last
 * day" is the bucket in progress and the 287 before it.
 */
export const STATS_WINDOW = `(
  select s.*, s.bucket >= hookline_stats_bucket(now()) - interval '55 minutes' as in_hour
  from (
    select bucket, kind, subject, detail, n, latest from stats_5m
    where kind = any($1::text[]) and bucket >= hookline_stats_bucket(now()) - interval '23 hours 55 minutes'
    union all
    select bucket, kind, subject, detail, n, latest from stats_deltas
    where kind = any($1::text[]) and bucket >= hookline_stats_bucket(now()) - interval '23 hours 55 minutes'
  ) s
)`;

/** Upper bounds (ms) of the attempt-duration histogram's buckets, as hookline_stats_ms() has them. */
export const DURATION_BOUNDS_MS = [
  1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000, 7000,
  10000, 15000, 20000, 30000, 60000,
] as const;

/**
 * A quantile of the attempt-duration histogram (bucket upper bound, or `inf` -> count), linearly
 * interpolated inside its bucket as Prometheus's histogram_quantile does; above the last finite
 * bound, that bound. Null without observations.
 */
export function histogramQuantile(q: number, counts: ReadonlyMap<string, number>): number | null {
  const buckets = [...counts]
    .map(([bound, n]) => ({ upper: bound === "inf" ? Number.POSITIVE_INFINITY : Number(bound), n }))
    .filter((b) => b.n > 0 && !Number.isNaN(b.upper))
    .sort((a, b) => a.upper - b.upper);
  const total = buckets.reduce((sum, b) => sum + b.n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (const b of buckets) {
    if (below + b.n >= rank) {
      const lastFinite = DURATION_BOUNDS_MS[DURATION_BOUNDS_MS.length - 1] as number;
      if (!Number.isFinite(b.upper)) return lastFinite;
      const index = DURATION_BOUNDS_MS.indexOf(b.upper as (typeof DURATION_BOUNDS_MS)[number]);
      const lower = index > 0 ? (DURATION_BOUNDS_MS[index - 1] as number) : 0;
      return lower + (b.upper - lower) * ((rank - below) / b.n);
    }
    below += b.n;
  }
  return buckets[buckets.length - 1]?.upper ?? null;
}
