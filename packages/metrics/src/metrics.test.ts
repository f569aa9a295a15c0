import { describe, expect, it } from "vitest";
import { createMetrics, type WatchedQueue } from "./metrics";

function fakeQueue(counts: Record<string, number>, oldest: { timestamp: number; delay?: number } | null) {
  const queue: WatchedQueue["queue"] = {
    getJobCounts: async () => counts,
    getJobs: async () => (oldest ? [{ timestamp: oldest.timestamp, delay: oldest.delay ?? 0 }] : []),
  } as unknown as WatchedQueue["queue"];
  return queue;
}

describe("metrics", () => {
  it("counts ingest requests by source and outcome, folding unknown sources into one label", async () => {
    const m = createMetrics({ sources: ["clausum"], defaultMetrics: false });
    m.ingest.observe("clausum", "accepted", 0.002);
    m.ingest.observe("clausum", "signature_mismatch", 0.001);
    m.ingest.observe("../../etc/passwd", "unknown_source", 0.0001);
    m.ingest.observe("not-configured", "accepted", 0.0001);
    const text = await m.registry.metrics();
    expect(text).toContain('hookline_ingest_requests_total{source="clausum",outcome="accepted"} 1');
    expect(text).toContain('hookline_ingest_requests_total{source="clausum",outcome="signature_mismatch"} 1');
    expect(text).toContain('hookline_ingest_requests_total{source="_unknown",outcome="unknown_source"} 1');
    expect(text).not.toContain("passwd");
    expect(text).toContain('hookline_ingest_duration_seconds_bucket{le="0.0025",source="clausum"} 2');
  });

  it("records attempts, lag and one-hot circuit state per target", async () => {
    const m = createMetrics({ targets: ["fraud", "audit"], defaultMetrics: false });
    m.worker.attempt("fraud", "retrying", 0.3);
    m.worker.attempt("fraud", "succeeded", 0.02);
    m.worker.firstSuccess("fraud", 1.5);
    m.worker.circuit("audit", "open");
    const text = await m.registry.metrics();
    expect(text).toContain('hookline_delivery_attempts_total{target="fraud",outcome="retrying"} 1');
    expect(text).toContain('hookline_delivery_duration_seconds_count{target="fraud"} 2');
    expect(text).toContain('hookline_delivery_lag_seconds_sum{target="fraud"} 1.5');
    expect(text).toContain('hookline_circuit_state{target="fraud",state="closed"} 1');
    expect(text).toContain('hookline_circuit_state{target="audit",state="open"} 1');
    expect(text).toContain('hookline_circuit_state{target="audit",state="closed"} 0');
  });

  it("reads queue depth and the oldest waiting job's age at scrape time", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const now = Date.now();
    m.watchQueues(() => [
      {
        name: "ingest",
        queue: fakeQueue({ waiting: 3, active: 1, delayed: 0, failed: 0 }, { timestamp: now - 10_000 }),
      },
      { name: "deliver-x", queue: fakeQueue({ waiting: 0, active: 0, delayed: 2, failed: 0 }, null) },
    ]);
    const text = await m.registry.metrics();
    expect(text).toContain('hookline_queue_depth{queue="ingest",state="waiting"} 3');
    expect(text).toContain('hookline_queue_depth{queue="deliver-x",state="delayed"} 2');
    const age = /hookline_queue_oldest_job_age_seconds\{queue="ingest"\} ([\d.]+)/.exec(text);
    expect(Number(age?.[1])).toBeGreaterThanOrEqual(10);
    expect(text).toContain('hookline_queue_oldest_job_age_seconds{queue="deliver-x"} 0');
  });

  it("a queue that cannot be read leaves the scrape working", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const broken = {
      getJobCounts: async () => {
        throw new Error("redis down");
      },
      getJobs: async () => [],
    } as unknown as WatchedQueue["queue"];
    m.watchQueues(() => [{ name: "ingest", queue: broken }]);
    const text = await m.registry.metrics();
    expect(text).toContain("# TYPE hookline_queue_depth gauge");
    expect(text).not.toContain('queue="ingest"');
  });
});
