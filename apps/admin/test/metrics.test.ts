import { type RunningAdminServer, startAdminServer } from "@hookline/admin";
import { type RunningGateway, startGateway } from "@hookline/gateway";
import { createLogger } from "@hookline/logger";
import { createMetrics } from "@hookline/metrics";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  startSink,
} from "@hookline/testkit";
import { signRequest } from "@hookline/verify";
import { type RunningWorker, startWorker } from "@hookline/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminConfig, clausumBody } from "./helpers";

let iso: Isolated;
let sink: Sink;
let gateway: RunningGateway;
let worker: RunningWorker;
let admin: RunningAdminServer;

const config = () =>
  loadTestConfig(adminConfig({ t: { sink } }, `  - { source: clausum, events: ["*"], targets: [t] }`));

async function post(body: string, headers: Record<string, string>, source = "clausum"): Promise<number> {
  const res = await fetch(`${gateway.url}/webhooks/${source}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  return res.status;
}

async function signed(body: string): Promise<Record<string, string>> {
  const source = config().sources[0];
  if (!source) throw new Error("no source");
  const result = signRequest(source.spec, {
    body: Buffer.from(body),
    nowMs: Date.now(),
    eventType: "order.created",
  });
  if (!result.ok) throw new Error(result.message);
  return result.headers;
}

beforeAll(async () => {
  iso = await isolate("admin-metrics");
  // The first request fails, every later one succeeds: one retried attempt, then successes.
  sink = await startSink((_req, i) => (i === 0 ? { status: 500, body: "boom" } : { status: 200 }));
  const cfg = config();
  const logger = createLogger({ level: "silent", name: "test" });
  // One registry for the whole process, as `hookline start` has it.
  const metrics = createMetrics({
    sources: cfg.sources.map((s) => s.id),
    targets: cfg.targets.map((t) => t.id),
  });
  const common = {
    config: cfg,
    databaseUrl: iso.databaseUrl,
    redis: iso.redisUrl,
    queuePrefix: iso.queuePrefix,
    logger,
  };
  gateway = await startGateway({ ...common, port: 0, host: "127.0.0.1", observer: metrics.ingest });
  worker = await startWorker({ ...common, observer: metrics.worker });
  admin = await startAdminServer({ ...common, adminToken: null, metrics, port: 0, host: "127.0.0.1" });
});

afterAll(() => closeAll(admin, gateway, worker, sink, iso));

describe("GET /metrics", () => {
  it("reports ingest, queues, attempts, latency, lag and circuits after traffic", async () => {
    for (const n of [1, 2]) {
      const body = clausumBody("order.created", `m-${n}`);
      expect(await post(body, await signed(body))).toBe(202);
    }
    const forged = clausumBody("order.created", "forged");
    const headers = await signed(clausumBody("order.created", "other"));
    expect(await post(forged, headers)).toBe(401);
    expect(await post(forged, {})).toBe(401);
    expect(await post(forged, {}, "no-such-source")).toBe(404);
    await sink.waitFor(3);

    const scrape = async () => {
      const res = await fetch(`${admin.url}/metrics`);
      expect(res.status).toBe(200);
      return res.text();
    };
    const text = await eventually(async () => {
      const t = await scrape();
      return t.includes('hookline_delivery_attempts_total{target="t",outcome="succeeded"} 2') && t;
    });
    expect(text).toContain('hookline_ingest_requests_total{source="clausum",outcome="accepted"} 2');
    expect(text).toMatch(/hookline_ingest_requests_total\{source="clausum",outcome="signature_\w+"\} 1/);
    expect(text).toContain('hookline_ingest_requests_total{source="_unknown",outcome="unknown_source"} 1');
    expect(text).toMatch(/hookline_ingest_duration_seconds_count\{source="clausum"\} 4/);
    expect(text).toContain('hookline_delivery_attempts_total{target="t",outcome="retrying"} 1');
    expect(text).toContain('hookline_delivery_duration_seconds_count{target="t"} 3');
    // Both deliveries count toward the lag, the one that needed a retry too.
    expect(text).toContain('hookline_delivery_lag_seconds_count{target="t"} 2');
    expect(text).toContain('hookline_circuit_state{target="t",state="closed"} 1');
    expect(text).toContain('hookline_queue_depth{queue="ingest",state="waiting"} 0');
    expect(text).toContain('hookline_queue_depth{queue="deliver-t",state="active"}');
    expect(text).toMatch(/hookline_queue_oldest_job_age_seconds\{queue="deliver-t"\} \d/);
    expect(text).toContain("hookline_process_resident_memory_bytes");
    // Both first attempts went out from the ingest worker; the retry went through the queue.
    expect(text).toContain('hookline_first_attempts_total{target="t",path="inline"} 2');
    expect(text).toContain('hookline_target_paused{target="t"} 0');
    expect(text).toContain('hookline_target_backlog{target="t"} 0');
    expect(text).toContain('hookline_target_oldest_pending_seconds{target="t"} 0');
  });

  it("reports a backlog's depth and age while the worker is stopped", async () => {
    await worker.close();
    for (const n of [1, 2, 3]) {
      const body = clausumBody("order.created", `backlog-${n}`);
      expect(await post(body, await signed(body))).toBe(202);
    }
    await new Promise((r) => setTimeout(r, 1_100));
    const text = await (await fetch(`${admin.url}/metrics`)).text();
    expect(text).toContain('hookline_queue_depth{queue="ingest",state="waiting"} 3');
    const age = /hookline_queue_oldest_job_age_seconds\{queue="ingest"\} ([\d.]+)/.exec(text);
    expect(Number(age?.[1])).toBeGreaterThanOrEqual(1);
  });
});
