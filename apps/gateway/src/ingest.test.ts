import type { SourceConfig } from "@hookline/config";
import type { OutgoingIngestJob } from "@hookline/queue";
import { REDACTED } from "@hookline/redact";
import type { Verifier, VerifyResult } from "@hookline/verify";
import { describe, expect, it } from "vitest";
import { ingest, storedHeaders, verifyAndQueue } from "./ingest";
import { LogLimiter } from "./log-limiter";

const verifier = (result: VerifyResult): Verifier => ({
  scheme: "test",
  verify: () => result,
  secretHeaders: ["x-clarion-secret"],
  signatureHeaders: ["x-clarion-signature"],
  relevantHeaders: [],
  bodyDedupe: null,
});
const source = (result: VerifyResult): SourceConfig => ({
  id: "s",
  spec: { verify: { scheme: "none" } },
  verifier: verifier(result),
  dedupeWindowMs: 1,
  allowIps: null,
});
const ok: VerifyResult = { ok: true, eventType: "a.b", dedupeKey: "k", providerId: "p", timestampMs: null };

function deps(result: VerifyResult, enqueue: (job: OutgoingIngestJob) => Promise<void>) {
  const sources = new Map([["s", source(result)]]);
  return {
    sources,
    now: () => 42,
    verifyAndQueue: verifyAndQueue({ sources, enqueue, newEventId: () => "evt_x" }),
  };
}
const request = {
  sourceId: "s",
  body: Buffer.from([1, 2, 255]),
  headers: { "content-type": "text/plain", authorization: "Bearer t" },
  url: "http://x/webhooks/s",
};

describe("ingest", () => {
  it("accepts only after the enqueue resolved, with the raw body and redacted headers", async () => {
    const jobs: OutgoingIngestJob[] = [];
    const outcome = await ingest(
      deps(ok, async (j) => void jobs.push(j)),
      request,
    );
    expect(outcome).toEqual({ kind: "accepted", eventId: "evt_x", eventType: "a.b" });
    expect(jobs[0]).toMatchObject({
      eventId: "evt_x",
      sourceId: "s",
      receivedAt: 42,
      dedupeKey: "k",
      providerId: "p",
      contentType: "text/plain",
    });
    expect(jobs[0]?.body).toEqual(Buffer.from([1, 2, 255]));
    expect(jobs[0]?.headers.authorization).toBe(REDACTED);
  });
  it("reports an enqueue failure instead of accepting", async () => {
    const outcome = await ingest(
      deps(ok, () => Promise.reject(new Error("redis down"))),
      request,
    );
    expect(outcome).toMatchObject({ kind: "enqueue_failed" });
  });
  it("never enqueues what failed verification or has no source", async () => {
    let called = false;
    const fail: VerifyResult = { ok: false, reason: "signature_mismatch", message: "no" };
    expect(
      (
        await ingest(
          deps(fail, async () => {
            called = true;
          }),
          request,
        )
      ).kind,
    ).toBe("verification_failed");
    expect(
      (
        await ingest(
          deps(ok, async () => {
            called = true;
          }),
          { ...request, sourceId: "other" },
        )
      ).kind,
    ).toBe("unknown_source");
    expect(called).toBe(false);
  });
});

describe("storedHeaders", () => {
  const roles = { secretHeaders: ["x-clarion-secret"], signatureHeaders: ["x-clarion-signature"] };
  it("drops hop-by-hop headers and redacts credentials and the scheme's secret headers", () => {
    expect(
      storedHeaders(
        {
          connection: "keep-alive",
          "content-length": "3",
          cookie: "c",
          "x-clarion-secret": "s3cret",
          "x-clarion-signature": "ab",
        },
        roles,
      ),
    ).toEqual({ cookie: REDACTED, "x-clarion-secret": REDACTED, "x-clarion-signature": "ab" });
  });

  it("keeps only a prefix of the scheme's signature headers and of any header named like one", () => {
    const long = `sha256=${"a1".repeat(32)}`;
    expect(
      storedHeaders(
        {
          "x-clarion-signature": long,
          "x-hub-signature": `sha1=${"b2".repeat(20)}`,
          "x-custom-hmac": "c".repeat(64),
          "x-request-id": "r".repeat(64),
        },
        roles,
      ),
    ).toEqual({
      "x-clarion-signature": "sha256=a1a1a1a1a…",
      "x-hub-signature": "sha1=b2b2b2b2b2b…",
      "x-custom-hmac": "cccccccccccccccc…",
      "x-request-id": "r".repeat(64),
    });
  });
});

describe("metadata that cannot be recorded", () => {
  const outcomeFor = (verdict: VerifyResult) =>
    ingest(
      deps(verdict, async () => {}),
      request,
    );
  const queuedKey = async (dedupeKey: string) => {
    let key = "";
    await ingest(
      deps({ ...ok, dedupeKey }, async (job) => {
        key = job.dedupeKey ?? "";
      }),
      request,
    );
    return key;
  };

  it.each([
    ["a NUL in the event type", { eventType: "x.a\u0000b" }, "event_type_invalid"],
    ["a control character in the event type", { eventType: "x.a\nb" }, "event_type_invalid"],
    ["an 8 KB event type", { eventType: "t".repeat(8192) }, "event_type_invalid"],
    ["a NUL in the provider id", { providerId: "evt_\u0000" }, "event_id_invalid"],
    ["a 4 KB provider id", { providerId: "i".repeat(4096) }, "event_id_invalid"],
  ])("%s is refused with its reason code, before the enqueue", async (_name, patch, reason) => {
    let enqueued = false;
    const outcome = await ingest(
      deps({ ...ok, ...patch }, async () => {
        enqueued = true;
      }),
      request,
    );
    expect(outcome).toMatchObject({ kind: "invalid_metadata", reason });
    expect(enqueued).toBe(false);
  });

  it("a long or NUL-holding de-duplication key is queued as a stable digest; a normal one as it is", async () => {
    const long = "k".repeat(8192);
    expect(await queuedKey(long)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await queuedKey(long)).toBe(await queuedKey(long));
    expect(await queuedKey("k\u0000")).toMatch(/^sha256:/);
    expect(await queuedKey("evt_123")).toBe("evt_123");
    expect((await outcomeFor(ok)).kind).toBe("accepted");
  });
});

describe("LogLimiter", () => {
  it("lets a few lines per window through and reports how many it suppressed", () => {
    const l = new LogLimiter(2, 1_000);
    expect([l.admit("k", 0), l.admit("k", 1), l.admit("k", 2), l.admit("k", 3)]).toEqual([0, 0, null, null]);
    expect(l.admit("other", 3)).toBe(0);
    expect(l.admit("k", 1_000)).toBe(2);
  });
});
