import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { roundTrip, signed, utf8, verifierFor, verifyWith } from "../test-helpers.js";
import type { SourceSpec } from "../types.js";
import { createVerifier } from "../verifier.js";

const NOW = 1_716_998_400_000;
const hex = (alg: string, key: string, data: string | Buffer) =>
  createHmac(alg, key).update(data).digest("hex");

describe("github", () => {
  const spec = (secret: string): SourceSpec => ({ verify: { scheme: "github", secrets: [secret] } });

  it("verifies the GitHub docs vector", () => {
    const result = verifyWith(
      spec("It's a Secret to Everybody"),
      utf8("Hello, World!"),
      { "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" },
      NOW,
    );
    expect(result).toMatchObject({ ok: true, timestampMs: null, eventType: null });
  });

  it("verifies the octokit vector, with event type and delivery id", () => {
    const result = verifyWith(
      spec("mysecret"),
      utf8('{"foo":"bar"}'),
      {
        "x-hub-signature-256": "sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3",
        "x-github-event": "push",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      },
      NOW,
    );
    expect(result).toEqual({
      ok: true,
      eventType: "push",
      dedupeKey: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      providerId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      timestampMs: null,
    });
  });

  it("what @octokit/webhooks-methods signs, we accept; what we sign, it accepts", async () => {
    const payload = '{"action":"opened","number":1}';
    const signature = await octokitSign("s3cr3t", payload);
    expect(verifyWith(spec("s3cr3t"), utf8(payload), { "x-hub-signature-256": signature }, NOW).ok).toBe(
      true,
    );
    const out = signed(spec("s3cr3t"), { body: utf8(payload), nowMs: NOW, eventType: "pull_request" });
    expect(await octokitVerify("s3cr3t", payload, out["x-hub-signature-256"] ?? "")).toBe(true);
    expect(out["x-github-event"]).toBe("pull_request");
    expect(out["x-github-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(out["x-hub-signature"]).toBe(`sha1=${hex("sha1", "s3cr3t", payload)}`);
  });

  it("prefers X-Hub-Signature-256 and uses the SHA-1 header only when it is absent", () => {
    const body = utf8("payload");
    const sha1 = `sha1=${hex("sha1", "k", "payload")}`;
    expect(verifyWith(spec("k"), body, { "x-hub-signature": sha1 }, NOW).ok).toBe(true);
    const wrong256 = { "x-hub-signature-256": `sha256=${"0".repeat(64)}`, "x-hub-signature": sha1 };
    expect(verifyWith(spec("k"), body, wrong256, NOW)).toMatchObject({ reason: "signature_mismatch" });
    expect(verifyWith(spec("k"), body, {}, NOW)).toMatchObject({
      reason: "signature_missing",
      message: "X-Hub-Signature-256 header is missing",
    });
  });

  it("rotation: any of several secrets", () => {
    const body = utf8("x");
    const h = { "x-hub-signature-256": `sha256=${hex("sha256", "new", "x")}` };
    expect(verifyWith({ verify: { scheme: "github", secrets: ["old", "new"] } }, body, h, NOW).ok).toBe(true);
    expect(verifyWith(spec("old"), body, h, NOW).ok).toBe(false);
  });

  it("rejects settings the preset fixes", () => {
    const result = createVerifier({ verify: { scheme: "github", secrets: ["s"], toleranceSeconds: 60 } });
    expect(result).toMatchObject({ ok: false, errors: [{ path: "verify.tolerance" }] });
  });
});

describe("stripe", () => {
  const secret = "whsec_test_secret_for_stripe_1234";
  const stripe = new Stripe("sk_test_dummy");
  const spec: SourceSpec = { verify: { scheme: "stripe", secrets: [secret] } };
  const payload = JSON.stringify({ id: "evt_1", object: "event", type: "invoice.paid" });

  it("what stripe-node signs, we accept (the secret is not base64-decoded)", () => {
    const now = Date.now();
    const header = stripe.webhooks.generateTestHeaderString({
      payload,
      secret,
      timestamp: Math.floor(now / 1000),
    });
    const result = verifyWith(spec, utf8(payload), { "stripe-signature": header }, now);
    expect(result).toMatchObject({ ok: true, eventType: "invoice.paid", providerId: "evt_1" });
    if (result.ok) expect(result.dedupeKey).toMatch(/^json:[0-9a-f]{64}$/);
  });

  it("what we sign, stripe-node accepts", () => {
    const out = signed(spec, { body: utf8(payload), nowMs: Date.now() });
    const event = stripe.webhooks.constructEvent(payload, out["stripe-signature"] ?? "", secret);
    expect(event.id).toBe("evt_1");
  });

  it("accepts any of repeated v1= entries and ignores v0", () => {
    const t = Math.floor(NOW / 1000);
    const good = hex("sha256", secret, `${t}.${payload}`);
    const header = `t=${t},v1=${"a".repeat(64)},v0=${"b".repeat(64)},v1=${good}`;
    expect(verifyWith(spec, utf8(payload), { "stripe-signature": header }, NOW).ok).toBe(true);
    const onlyV0 = `t=${t},v0=${good}`;
    expect(verifyWith(spec, utf8(payload), { "stripe-signature": onlyV0 }, NOW)).toMatchObject({
      reason: "signature_malformed",
    });
    expect(verifyWith(spec, utf8(payload), { "stripe-signature": `v1=${good}` }, NOW)).toMatchObject({
      reason: "timestamp_missing",
    });
  });

  it("refuses an API key in place of the signing secret", () => {
    expect(createVerifier({ verify: { scheme: "stripe", secrets: ["sk_live_abc"] } })).toMatchObject({
      ok: false,
      errors: [{ path: "verify.secrets[0]" }],
    });
  });
});

describe("clausum", () => {
  const secret = "clausum-signing-secret";
  const spec: SourceSpec = { verify: { scheme: "clausum", secrets: [secret] } };
  const body =
    '{"event":"fraud.detected","timestamp":"2026-05-29T18:30:00.000Z","data":{"case_id":"b1f2","reason":"chargeback"}}';

  it("verifies t=<s>,v1=<hex> over <t>.<rawBody> and reads the event header", () => {
    const t = NOW / 1000;
    const header = `t=${t},v1=${hex("sha256", secret, `${t}.${body}`)}`;
    const result = verifyWith(
      spec,
      utf8(body),
      { "x-clausum-signature": header, "x-clausum-event": "fraud.detected" },
      NOW,
    );
    expect(result).toMatchObject({
      ok: true,
      eventType: "fraud.detected",
      providerId: null,
      timestampMs: NOW,
    });
  });

  it("de-duplicates on event + timestamp + data, whatever else changes", () => {
    const other = body.replace('"data"', '"extra":1,"data"');
    const key = (b: string) => {
      const r = roundTrip(spec, { body: utf8(b), nowMs: NOW });
      return r.ok ? r.dedupeKey : r.reason;
    };
    expect(key(body)).toMatch(/^json:[0-9a-f]{64}$/);
    expect(key(body)).toBe(key(other));
    expect(key(body)).not.toBe(key(body.replace("b1f2", "b1f3")));
    expect(key("not json")).toMatch(/^body:[0-9a-f]{64}$/);
  });

  it("signs like Clausum: signature, event type and an ISO timestamp", () => {
    const out = signed(spec, { body: utf8(body), nowMs: NOW, eventType: "fraud.detected" });
    expect(out["x-clausum-signature"]).toMatch(/^t=1716998400,v1=[0-9a-f]{64}$/);
    expect(out["x-clausum-event"]).toBe("fraud.detected");
    expect(out["x-clausum-timestamp"]).toBe("2024-05-29T16:00:00Z");
  });

  it("the doc's bug: a different-length signature is a mismatch, not a throw", () => {
    const header = `t=${NOW / 1000},v1=abcd`;
    expect(verifyWith(spec, utf8(body), { "x-clausum-signature": header }, NOW)).toMatchObject({
      reason: "signature_mismatch",
    });
  });
});

describe("creditclaw", () => {
  const secret = "whsec_a1b2c3d4e5f6";
  const spec: SourceSpec = { verify: { scheme: "creditclaw", secrets: [secret] } };
  const body =
    '{"event":"purchase.approved","timestamp":"2025-01-15T10:30:00.000Z","data":{"checkout_id":"chk_abc123"}}';

  it("uses the whsec_ string as is (UTF-8), not base64-decoded", () => {
    const h = {
      "x-creditclaw-signature": `sha256=${hex("sha256", secret, body)}`,
      "x-creditclaw-event": "purchase.approved",
    };
    expect(verifyWith(spec, utf8(body), h, NOW)).toMatchObject({ ok: true, eventType: "purchase.approved" });
    const decodedKey = createHmac("sha256", Buffer.from(secret.slice(6), "base64"))
      .update(body)
      .digest("hex");
    expect(
      verifyWith(spec, utf8(body), { "x-creditclaw-signature": `sha256=${decodedKey}` }, NOW),
    ).toMatchObject({
      reason: "signature_mismatch",
    });
  });

  it("requires the sha256= prefix", () => {
    const h = { "x-creditclaw-signature": hex("sha256", secret, body) };
    expect(verifyWith(spec, utf8(body), h, NOW)).toMatchObject({ reason: "signature_malformed" });
  });

  it("has no timestamp: any clock verifies, tolerance is refused", () => {
    const out = signed(spec, { body: utf8(body), nowMs: NOW, eventType: "purchase.approved" });
    expect(Object.keys(out).sort()).toEqual(["x-creditclaw-event", "x-creditclaw-signature"]);
    expect(verifierFor(spec).verify({ body: utf8(body), headers: out }, 0).ok).toBe(true);
    expect(
      createVerifier({ verify: { scheme: "creditclaw", secrets: [secret], toleranceSeconds: 5 } }).ok,
    ).toBe(false);
  });
});

describe("shopify", () => {
  const spec: SourceSpec = { verify: { scheme: "shopify", secrets: ["shpss_secret"] } };
  const body = '{"id":820982911946154500}';
  const b64 = createHmac("sha256", "shpss_secret").update(body).digest("base64");

  it("accepts the prefixed and unprefixed header names and reads topic and event id", () => {
    const h = {
      "x-shopify-hmac-sha256": b64,
      "x-shopify-topic": "orders/create",
      "x-shopify-webhook-id": "wh-1",
      "x-shopify-event-id": "ev-1",
    };
    expect(verifyWith(spec, utf8(body), h, NOW)).toMatchObject({
      ok: true,
      eventType: "orders/create",
      dedupeKey: "ev-1",
      providerId: "ev-1",
    });
    const modern = {
      "shopify-hmac-sha256": b64,
      "shopify-topic": "orders/paid",
      "shopify-webhook-id": "wh-2",
    };
    expect(verifyWith(spec, utf8(body), modern, NOW)).toMatchObject({
      ok: true,
      eventType: "orders/paid",
      dedupeKey: "wh-2",
    });
  });

  it("rejects hex where base64 is expected", () => {
    // 64 hex digits happen to be valid base64 too: they decode to 48 bytes, which cannot match.
    const h = { "x-shopify-hmac-sha256": hex("sha256", "shpss_secret", body) };
    expect(verifyWith(spec, utf8(body), h, NOW)).toMatchObject({ reason: "signature_mismatch" });
    const odd = { "x-shopify-hmac-sha256": `${b64.slice(0, -1)}` };
    expect(verifyWith(spec, utf8(body), odd, NOW)).toMatchObject({ reason: "signature_malformed" });
  });
});

describe("slack", () => {
  const body =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
  const spec: SourceSpec = { verify: { scheme: "slack", secrets: ["8f742231b10e8888abcd99yyyzzz85a5"] } };
  const h = {
    "x-slack-signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    "x-slack-request-timestamp": "1531420618",
  };

  it("verifies the Slack docs vector", () => {
    const result = verifyWith(spec, utf8(body), h, 1531420618_000);
    expect(result).toMatchObject({ ok: true, eventType: null, timestampMs: 1531420618_000 });
    if (result.ok) expect(result.dedupeKey).toMatch(/^body:/);
  });

  it("applies the 5 minute window", () => {
    expect(verifyWith(spec, utf8(body), h, 1531420618_000 + 301_000)).toMatchObject({
      reason: "timestamp_out_of_tolerance",
    });
  });

  it("reads the Events API type", () => {
    const json = '{"type":"event_callback","event":{"type":"app_mention"}}';
    expect(roundTrip(spec, { body: utf8(json), nowMs: NOW })).toMatchObject({
      ok: true,
      eventType: "app_mention",
    });
  });
});

describe("generic hmac", () => {
  const base = {
    scheme: "hmac",
    secrets: ["acme-secret"],
    header: "X-Acme-Signature",
    algorithm: "sha256",
    encoding: "hex",
    prefix: "sha256=",
    signedContent: "{timestamp}.{body}",
    timestampHeader: "X-Acme-Timestamp",
    timestampUnit: "s",
    idHeader: "X-Acme-Delivery",
  } as const;

  it("verifies the README example by hand", () => {
    const body = '{"kind":"thing.created"}';
    const t = String(NOW / 1000);
    const h = {
      "x-acme-signature": `sha256=${hex("sha256", "acme-secret", `${t}.${body}`)}`,
      "x-acme-timestamp": t,
      "x-acme-delivery": "d-1",
      "x-acme-event": "thing.created",
    };
    const spec: SourceSpec = { verify: base, eventType: { header: "X-Acme-Event" } };
    expect(verifyWith(spec, utf8(body), h, NOW)).toEqual({
      ok: true,
      eventType: "thing.created",
      dedupeKey: "d-1",
      providerId: "d-1",
      timestampMs: NOW,
    });
    expect(verifierFor(spec).relevantHeaders).toEqual([
      "x-acme-signature",
      "x-acme-timestamp",
      "x-acme-delivery",
      "x-acme-event",
    ]);
  });

  it.each([
    ["sha1", "hex"],
    ["sha256", "base64"],
    ["sha512", "hex"],
    ["sha512", "base64"],
  ] as const)("round-trips %s/%s with {id} {url} and ms timestamps", (algorithm, encoding) => {
    const spec: SourceSpec = {
      verify: {
        ...base,
        algorithm,
        encoding,
        signedContent: "{id}:{timestamp}:{url}:{body}",
        timestampUnit: "ms",
      },
    };
    const input = { body: utf8("hello"), nowMs: NOW, id: "abc", url: "https://hooks.example/x?y=1" };
    expect(roundTrip(spec, input)).toMatchObject({ ok: true, providerId: "abc", timestampMs: NOW });
    const h = signed(spec, input);
    expect(verifyWith(spec, input.body, h, NOW, "https://hooks.example/other")).toMatchObject({
      reason: "signature_mismatch",
    });
    expect(verifyWith(spec, input.body, h, NOW)).toMatchObject({ reason: "signature_mismatch" });
    const { "x-acme-delivery": _, ...noId } = h;
    expect(verifyWith(spec, input.body, noId, NOW, input.url)).toMatchObject({ reason: "id_missing" });
  });

  it("a plain header may carry several signatures (repeated headers joined by Node)", () => {
    const spec: SourceSpec = { verify: { scheme: "hmac", secrets: ["k"], header: "X-Sig" } };
    const good = hex("sha256", "k", "b");
    expect(verifyWith(spec, utf8("b"), { "x-sig": `${"0".repeat(64)}, ${good}` }, NOW).ok).toBe(true);
  });

  it("more than 16 signatures in one header is malformed (bounds the work per request)", () => {
    const spec: SourceSpec = { verify: { scheme: "hmac", secrets: ["k"], header: "X-Sig" } };
    const good = hex("sha256", "k", "b");
    const many = [...Array.from({ length: 16 }, () => "0".repeat(64)), good].join(",");
    expect(verifyWith(spec, utf8("b"), { "x-sig": many }, NOW)).toMatchObject({
      reason: "signature_malformed",
    });
    const sixteen = [...Array.from({ length: 15 }, () => "0".repeat(64)), good].join(",");
    expect(verifyWith(spec, utf8("b"), { "x-sig": sixteen }, NOW).ok).toBe(true);
  });

  it("minimal config: header only, default sha256 hex over the body, dedupe on body", () => {
    const spec: SourceSpec = { verify: { scheme: "hmac", secrets: ["k"], header: "X-Sig" } };
    const result = verifyWith(spec, utf8("b"), { "X-Sig": hex("sha256", "k", "b") }, NOW);
    expect(result).toMatchObject({ ok: true, eventType: null, providerId: null, timestampMs: null });
    if (result.ok) expect(result.dedupeKey).toMatch(/^body:[0-9a-f]{64}$/);
  });
});
