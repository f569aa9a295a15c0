// OpenTelemetry: one trace per event, from the ingest request through recording to every
// delivery attempt, the retry from the queue included (its context comes from the event's row),
// and the target sees each attempt's traceparent.
import { connectDatabase, type Database } from "@hookline/db";
import {
  CLAUSUM_SECRET,
  clausumBody,
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import {
  flushTracing,
  InMemorySpanExporter,
  type ReadableSpan,
  SpanKind,
  startTracing,
  type Tracing,
} from "@hookline/tracing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let iso: Isolated;
let sink: Sink;
let stack: Stack;
let database: Database;
let tracing: Tracing;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  iso = await isolate("tracing");
  tracing = startTracing({ exporter, serviceName: "hookline-test" });
  // The first try fails, so the second goes through the target's queue.
  sink = await startSink((_req, index) => (index === 0 ? { status: 500, body: "down" } : { status: 200 }));
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  const config = loadTestConfig(`
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
  - id: traced
    url: ${sink.url}/hooks
    retry: { schedule: [100ms] }
routes:
  - { source: clausum, targets: [traced] }
`);
  stack = await startStack(iso, config);
});

afterAll(async () => {
  await closeAll(stack, sink, database, iso);
  await tracing.shutdown();
});

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const traceOf = (s: ReadableSpan) => s.spanContext().traceId;

describe("tracing", () => {
  it("follows an event from the request to each attempt, the retry included", async () => {
    const res = await sendSigned(stack, "clausum", clausumBody("fraud.detected", "case_traced"));
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await sink.waitFor(2, 20_000);
    await eventually(
      async () => {
        await flushTracing();
        return exporter.getFinishedSpans().filter((s) => s.name === "hookline.deliver").length === 2;
      },
      { what: "two attempt spans" },
    );
    const spans = exporter.getFinishedSpans().filter((s) => s.attributes["hookline.event_id"] === id);
    const ingest = spans.filter((s) => s.name === "hookline.ingest");
    const record = spans.filter((s) => s.name === "hookline.record");
    const deliver = spans.filter((s) => s.name === "hookline.deliver");
    expect([ingest.length, record.length, deliver.length]).toEqual([1, 1, 2]);
    const root = ingest[0] as ReadableSpan;
    expect(root.kind).toBe(SpanKind.SERVER);
    expect(root.parentSpanContext).toBeUndefined();
    // One trace; recording and both attempts are children of the ingest request.
    for (const s of [...record, ...deliver]) {
      expect(traceOf(s)).toBe(traceOf(root));
      expect(parentOf(s)).toBe(root.spanContext().spanId);
    }
    expect(deliver.map((s) => s.attributes["hookline.outcome"]).sort()).toEqual(["retrying", "succeeded"]);
    expect(deliver.map((s) => s.attributes["http.response.status_code"]).sort()).toEqual([200, 500]);

    // Each request carried its own attempt's traceparent.
    const sent = sink.received.map((r) => r.headers.traceparent);
    const expected = deliver
      .sort((a, b) => Number(a.attributes["hookline.attempt"]) - Number(b.attributes["hookline.attempt"]))
      .map((s) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`);
    expect(sent).toEqual(expected);

    // The event's row keeps the trace, for attempts made from the queue, days later if need be.
    const row = await database.pool.query<{ traceparent: string }>(
      "select traceparent from events where id = $1",
      [id],
    );
    expect(row.rows[0]?.traceparent).toBe(`00-${traceOf(root)}-${root.spanContext().spanId}-01`);
  });
});
