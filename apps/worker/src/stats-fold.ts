// The overview's statistics: every worker folds the deltas the database's triggers append
// (stats_deltas) into 5-minute buckets (stats_5m), so the overview reads a bounded number of
// rows. One fold at a time across all workers (an advisory lock; the others skip the tick), each
// one transaction: a worker killed mid-fold leaves the deltas for the next one.
import { type Database, foldStats } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import { type Periodic, runEvery } from "./periodic";

export function startStatsFold(pool: Database["pool"], intervalMs: number, logger: Logger): Periodic {
  return runEvery(
    intervalMs,
    () => foldStats(pool),
    (error) => logger.warn({ err: error }, "statistics fold failed; the next one takes its deltas"),
  );
}
