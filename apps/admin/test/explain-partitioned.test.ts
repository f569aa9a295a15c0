// explain.test.ts again, on an install converted to daily partitions (retention.partitioning)
// after seeding: the cookbook's and the API's queries must be served by indexes on both.
(globalThis as { hooklineExplainPartitioning?: "daily" }).hooklineExplainPartitioning = "daily";
await import("./explain.test");

export {};
