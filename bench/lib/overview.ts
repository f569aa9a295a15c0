// The dashboard overview's latency: the database reads of `GET /` (apps/dashboard/src/mount.tsx),
// all six at once as the page makes them, timed from the bench process over a warm pool. Before
// issue #15 this was 0.63-0.68 s with 1,000,000 events stored, growing with history; rendering
// the page adds well under a millisecond.
import {
  connectDatabase,
  countIngestFailures,
  foldStats,
  getOverview,
  getTargetHealth,
  listIngestFailures,
  targetBacklogs,
  targetStates,
} from "@hookline/db";
import { percentile } from "./paced-load";

export interface OverviewTiming {
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly runs: number;
}

export async function measureOverview(databaseUrl: string, runs = 40): Promise<OverviewTiming> {
  const database = connectDatabase(databaseUrl, { max: 6, applicationName: "bench-overview" });
  const { pool } = database;
  try {
    // As a running worker would have: the statistics the seeding wrote, folded.
    await foldStats(pool);
    const page = () =>
      Promise.all([
        getOverview(pool),
        getTargetHealth(pool),
        listIngestFailures(pool, { limit: 5 }),
        countIngestFailures(pool),
        targetStates(pool),
        targetBacklogs(pool),
      ]);
    // Connections, prepared statements and the buckets in cache, as on a page someone keeps open.
    for (let i = 0; i < 3; i++) await page();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await page();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return { p50Ms: percentile(times, 50), p95Ms: percentile(times, 95), runs };
  } finally {
    await database.close();
  }
}
