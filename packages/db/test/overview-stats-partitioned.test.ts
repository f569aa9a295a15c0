// overview-stats.test.ts again, with the install converted to daily partitions midway
// (retention.partitioning): the statistics triggers move to the partitioned tables.
(globalThis as { hooklineStatsPartitioning?: "daily" }).hooklineStatsPartitioning = "daily";
await import("./overview-stats.test");

export {};
