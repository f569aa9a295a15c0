import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type IngestJob, ingestJobSchema } from "./catalog";
import { encodeIngestData, ingestBatchJobSchema, type OutgoingIngestJob } from "./ingest-batch";

/** Any string, including astral characters, quotes, backslashes and control characters. */
const text = fc.string({ unit: "binary", maxLength: 40 });
const outgoing: fc.Arbitrary<OutgoingIngestJob> = fc
  .record({
    eventId: text.filter((s) => s.length > 0),
    sourceId: text.filter((s) => s.length > 0),
    eventType: fc.option(text),
    dedupe: fc.oneof(
      fc.record({ dedupeKey: text.filter((s) => s.length > 0) }),
      fc.record({ dedupeFrom: fc.constant(["body" as const]) }),
      fc.record({ dedupeFrom: fc.constant([{ paths: [["data", "id"], ["é"]] }]) }),
    ),
    providerId: fc.option(text),
    receivedAt: fc.integer({ min: 0, max: 2 ** 42 }),
    // "__proto__" is left out: zod's record parse does not keep it as an ordinary key. The
    // encoding passes header names to JSON.stringify as BullMQ did, so it is no different there.
    headers: fc.dictionary(
      text.filter((name) => name !== "__proto__"),
      text,
      { maxKeys: 6 },
    ),
    contentType: fc.option(text),
    body: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    traceparent: fc.option(text, { nil: undefined }),
  })
  .map(({ dedupe, traceparent, ...rest }) => ({
    ...rest,
    ...dedupe,
    ...(traceparent === undefined ? {} : { traceparent }),
  }));

/** What the worker should read: the same job with its body in base64. */
const expected = (job: OutgoingIngestJob): IngestJob => ({ ...job, body: job.body.toString("base64") });

describe("encodeIngestData", () => {
  it("gives the JSON an ingest job's consumer parses, whatever the strings hold", () => {
    fc.assert(
      fc.property(outgoing, (job) => {
        const parsed = ingestJobSchema.parse(JSON.parse(encodeIngestData(job).toString("utf8")));
        expect(parsed).toEqual(expected(job));
      }),
      { numRuns: 500 },
    );
  });

  it("gives the JSON of an ingest-batch job for several events", () => {
    fc.assert(
      fc.property(fc.array(outgoing, { minLength: 1, maxLength: 5 }), (events) => {
        const parsed = ingestBatchJobSchema.parse(JSON.parse(encodeIngestData({ events }).toString("utf8")));
        expect(parsed).toEqual({ events: events.map(expected) });
      }),
      { numRuns: 200 },
    );
  });

  it("keeps a non-ASCII header as UTF-8 and an empty body as an empty string", () => {
    const job: OutgoingIngestJob = {
      eventId: "evt_1",
      sourceId: "s",
      eventType: "a.b",
      dedupeKey: "k",
      providerId: null,
      receivedAt: 1,
      headers: { "x-signature": "t=1,v1=abc…" },
      contentType: null,
      body: Buffer.alloc(0),
    };
    expect(encodeIngestData(job).toString("utf8")).toBe(
      '{"body":"","eventId":"evt_1","sourceId":"s","eventType":"a.b","dedupeKey":"k",' +
        '"providerId":null,"receivedAt":1,"headers":{"x-signature":"t=1,v1=abc…"},"contentType":null}',
    );
  });
});
