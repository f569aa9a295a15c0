import { Buffer } from "node:buffer";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect, it } from "vitest";
import { roundTrip, signed, utf8, verifierFor, verifyWith } from "../test-helpers.js";
import type { SourceSpec } from "../types.js";
import { createVerifier } from "../verifier.js";
import { signStandardWebhooks, validateStandardWebhooksSecret } from "./standard-webhooks.js";

// Vectors from research/signature-schemes.md (standard-webhooks webhook.test.ts; svix worker.rs).
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS = 1614265330;
const NOW = TS * 1000;
const BODY = utf8('{"test": 2432232314}');
const V1 = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const WHSK = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
const WHPK = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
const V1A = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==";
const OTHER = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

const sw = (extra: Partial<SourceSpec["verify"]> = {}): SourceSpec => ({
  verify: { scheme: "standard-webhooks", secrets: [SECRET], ...extra },
});
const headers = (signature: string, id = ID, ts = String(TS)) => ({
  "webhook-id": id,
  "webhook-timestamp": ts,
  "webhook-signature": signature,
});

describe("standard webhooks: published vectors", () => {
  it("verifies the v1 vector", () => {
    const result = verifyWith(sw(), BODY, headers(V1), NOW);
    expect(result).toEqual({ ok: true, eventType: null, dedupeKey: ID, providerId: ID, timestampMs: NOW });
  });

  it("signs the v1 vector", () => {
    expect(signStandardWebhooks([SECRET], ID, TS, BODY)).toBe(V1);
    expect(signed(sw(), { body: BODY, nowMs: NOW, id: ID })["webhook-signature"]).toBe(V1);
  });

  it("verifies the v1a vector with whpk_ and with the matching PEM", () => {
    expect(verifyWith(sw({ secrets: [], publicKey: WHPK }), BODY, headers(V1A), NOW).ok).toBe(true);
    expect(verifyWith({ verify: { scheme: "klariqo", publicKey: WHPK } }, BODY, headers(V1A), NOW).ok).toBe(
      true,
    );
  });

  it("signs the v1a vector from whsk_", () => {
    const out = signed(sw({ publicKey: WHPK }), { body: BODY, nowMs: NOW, id: ID, privateKey: WHSK });
    expect(out["webhook-signature"]).toBe(V1A);
  });

  it("accepts the v1a entry beside a stale v1 entry, and v1 beside an unknown version", () => {
    const spec = sw({ publicKey: WHPK, secrets: [OTHER] });
    expect(verifyWith(spec, BODY, headers(`v1,${"A".repeat(43)}= ${V1A}`), NOW).ok).toBe(true);
    expect(verifyWith(sw(), BODY, headers(`v2,abcd ${V1}`), NOW).ok).toBe(true);
  });

  it("does not accept a v1a signature as v1 or the reverse", () => {
    expect(verifyWith(sw(), BODY, headers(V1A), NOW)).toMatchObject({ reason: "signature_mismatch" });
    const v1aAsV1 = `v1,${V1A.slice(4)}`;
    expect(verifyWith(sw({ publicKey: WHPK }), BODY, headers(v1aAsV1), NOW)).toMatchObject({
      reason: "signature_mismatch",
    });
  });
});

describe("standard webhooks: failures", () => {
  const cases: [string, Record<string, string>, string][] = [
    ["no signature header", { "webhook-id": ID, "webhook-timestamp": String(TS) }, "signature_missing"],
    ["no id", { "webhook-timestamp": String(TS), "webhook-signature": V1 }, "id_missing"],
    ["no timestamp", { "webhook-id": ID, "webhook-signature": V1 }, "timestamp_missing"],
    ["timestamp not a number", headers(V1, ID, "16142653x0"), "timestamp_malformed"],
    ["timestamp in ms", headers(V1, ID, `${TS}000`), "timestamp_out_of_tolerance"],
    ["empty signature", headers(""), "signature_malformed"],
    ["no comma", headers("v1g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), "signature_malformed"],
    ["bad base64", headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"), "signature_malformed"],
    ["another id", headers(V1, "msg_other"), "signature_mismatch"],
    [
      "unknown version only",
      headers("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
      "signature_mismatch",
    ],
  ];
  it.each(cases)("%s", (_name, h, reason) => {
    expect(verifyWith(sw(), BODY, h, NOW)).toMatchObject({ ok: false, reason });
  });

  it("rejects the past and the future outside the tolerance, with the skew", () => {
    const past = verifyWith(sw(), BODY, headers(V1), NOW + 301_000);
    expect(past).toMatchObject({ reason: "timestamp_out_of_tolerance", skewSeconds: -301 });
    const future = verifyWith(sw(), BODY, headers(V1), NOW - 301_000);
    expect(future).toMatchObject({ reason: "timestamp_out_of_tolerance", skewSeconds: 301 });
    expect(verifyWith(sw(), BODY, headers(V1), NOW + 300_000).ok).toBe(true);
    expect(verifyWith(sw(), BODY, headers(V1), NOW - 300_000).ok).toBe(true);
    expect(verifyWith(sw({ toleranceSeconds: 30 }), BODY, headers(V1), NOW + 31_000).ok).toBe(false);
  });

  it("messages never contain the secret or the expected signature", () => {
    const result = verifyWith(sw(), BODY, headers("v1,AAAA"), NOW);
    expect(result.ok).toBe(false);
    const text = JSON.stringify(result);
    expect(text).not.toContain(SECRET.slice(6));
    expect(text).not.toContain(V1.slice(3));
  });
});

describe("standard webhooks: rotation", () => {
  it("accepts any configured secret and any signature in the list", () => {
    const signature = signStandardWebhooks([OTHER, SECRET], ID, TS, BODY);
    expect(signature.split(" ")).toHaveLength(2);
    expect(verifyWith(sw(), BODY, headers(signature), NOW).ok).toBe(true);
    expect(verifyWith(sw({ secrets: [OTHER] }), BODY, headers(V1), NOW).ok).toBe(false);
    expect(verifyWith(sw({ secrets: [OTHER, SECRET] }), BODY, headers(V1), NOW).ok).toBe(true);
  });

  it('copes with repeated headers joined by Node with ", "', () => {
    const joined = `v1,${"B".repeat(43)}=, ${V1}`;
    expect(verifyWith(sw(), BODY, headers(joined), NOW).ok).toBe(true);
  });
});

describe("svix preset", () => {
  const svix: SourceSpec = { verify: { scheme: "svix", secrets: [SECRET] } };
  it("reads svix-* headers, and svix-* wins over webhook-*", () => {
    const h = { "svix-id": ID, "svix-timestamp": String(TS), "svix-signature": V1 };
    expect(verifyWith(svix, BODY, h, NOW)).toMatchObject({ ok: true, dedupeKey: ID });
    const both = { ...h, "webhook-id": "msg_other", "webhook-signature": "v1,AAAA" };
    expect(verifyWith(svix, BODY, both, NOW).ok).toBe(true);
    expect(verifyWith(svix, BODY, headers(V1), NOW).ok).toBe(true);
  });
});

describe("cross-checks with the official libraries", () => {
  const body = '{"type":"invoice.paid","data":{"id":42}}';
  const now = Date.now();
  const timestamp = Math.floor(now / 1000);

  it("what standardwebhooks signs, we accept", () => {
    const lib = new StandardWebhook(SECRET);
    const signature = lib.sign(ID, new Date(now), body);
    const result = verifyWith(sw(), utf8(body), headers(signature, ID, String(timestamp)), now);
    expect(result).toMatchObject({ ok: true, eventType: "invoice.paid", providerId: ID });
  });

  it("what we sign, standardwebhooks and svix accept", () => {
    const out = signed(sw(), { body: utf8(body), nowMs: now });
    expect(new StandardWebhook(SECRET).verify(body, out)).toEqual(JSON.parse(body));
    const svixOut = signed(
      { verify: { scheme: "svix", secrets: [SECRET] } },
      { body: utf8(body), nowMs: now },
    );
    expect(new SvixWebhook(SECRET).verify(body, svixOut)).toEqual(JSON.parse(body));
  });

  it("outbound rotation headers are accepted by the library with either secret", () => {
    const signature = signStandardWebhooks([OTHER, SECRET], ID, timestamp, utf8(body));
    const h = headers(signature, ID, String(timestamp));
    expect(new StandardWebhook(SECRET).verify(body, h)).toBeTruthy();
    expect(new StandardWebhook(OTHER).verify(body, h)).toBeTruthy();
  });

  it("what svix signs, we accept through the svix preset", () => {
    const signature = new SvixWebhook(SECRET).sign(ID, new Date(now), body);
    const h = { "svix-id": ID, "svix-timestamp": String(timestamp), "svix-signature": signature };
    expect(verifyWith({ verify: { scheme: "svix", secrets: [SECRET] } }, utf8(body), h, now).ok).toBe(true);
  });

  it("round-trips v1a with a generated key", () => {
    const out = roundTrip(sw({ secrets: [], publicKey: WHPK }), { body: BODY, nowMs: NOW, privateKey: WHSK });
    expect(out.ok).toBe(true);
  });
});

describe("validateStandardWebhooksSecret", () => {
  it.each([
    [SECRET, null],
    [OTHER, null],
    ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".replace(/=+$/, ""), null],
    ["", "is empty"],
    ["v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "signature"],
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_"],
    ["whsec_abc", "bytes"],
    ["whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "bytes"],
    ["whsec_!!!!", "base64"],
    [" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whitespace"],
  ])("%j", (secret, expected) => {
    const message = validateStandardWebhooksSecret(secret);
    if (expected === null) expect(message).toBeNull();
    else expect(message).toContain(expected);
  });

  it("signStandardWebhooks refuses an invalid secret without printing it", () => {
    expect(() => signStandardWebhooks(["whsec_tiny"], ID, TS, BODY)).toThrow(/bytes/);
    expect(() => signStandardWebhooks(["whsec_tiny"], ID, TS, BODY)).not.toThrow(/tiny/);
  });

  it("createVerifier reports each bad secret with its path", () => {
    const result = createVerifier(sw({ secrets: [SECRET, "v1,abc", "whsec_abc"] }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.path)).toEqual(["verify.secrets[1]", "verify.secrets[2]"]);
    expect(JSON.stringify(result.errors)).not.toContain("abc");
  });

  it("needs a secret or a public key", () => {
    expect(createVerifier(sw({ secrets: [] }))).toMatchObject({
      ok: false,
      errors: [{ path: "verify.secrets" }],
    });
    expect(createVerifier(sw({ publicKey: "whpk_AAAA" }))).toMatchObject({
      ok: false,
      errors: [{ path: "verify.public_key" }],
    });
    expect(createVerifier(sw({ publicKey: WHSK }))).toMatchObject({
      ok: false,
      errors: [{ path: "verify.public_key" }],
    });
  });

  it("lists its headers", () => {
    expect(verifierFor(sw()).relevantHeaders).toEqual([
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
    ]);
    expect(verifierFor(sw()).secretHeaders).toEqual([]);
  });
});
