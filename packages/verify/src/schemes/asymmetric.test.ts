import { Buffer } from "node:buffer";
import { createPrivateKey, createPublicKey, sign as cryptoSign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CLARION_PUBLIC_KEY } from "../presets.js";
import { ed25519Pair, p256, roundTrip, signed, utf8, verifierFor, verifyWith } from "../test-helpers.js";
import type { SourceSpec } from "../types.js";
import { createVerifier } from "../verifier.js";

const NOW = 1_716_998_400_123;
const keys = p256();
const other = p256();
const body = '{"event":"payment.settled","id":"evt_9"}';

function clarionHeaders(privateKey: string, content: string, encoding: "der" | "ieee-p1363" = "der") {
  const signature = cryptoSign("sha256", Buffer.from(content), { key: privateKey, dsaEncoding: encoding });
  return signature.toString("hex");
}

describe("clarion", () => {
  const spec: SourceSpec = { verify: { scheme: "clarion", publicKey: keys.publicKey } };

  it("the default public key from Clarion's documentation parses", () => {
    const key = createPublicKey(CLARION_PUBLIC_KEY);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    const result = createVerifier({ verify: { scheme: "clarion" } });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.verifier.secretHeaders).toEqual(["x-clarion-secret"]);
      // A signature from any other key fails against the default key.
      const ts = String(NOW);
      const h = {
        "x-clarion-signature": clarionHeaders(keys.privateKey, `${ts}.${body}`),
        "x-clarion-timestamp": ts,
      };
      expect(result.verifier.verify({ body: utf8(body), headers: h }, NOW)).toMatchObject({
        reason: "signature_mismatch",
      });
    }
  });

  it("verifies hex DER and hex raw r||s over <ms>.<rawBody>", () => {
    const ts = String(NOW);
    for (const encoding of ["der", "ieee-p1363"] as const) {
      const h = {
        "x-clarion-signature": clarionHeaders(keys.privateKey, `${ts}.${body}`, encoding),
        "x-clarion-timestamp": ts,
      };
      expect(verifyWith(spec, utf8(body), h, NOW)).toEqual({
        ok: true,
        eventType: "payment.settled",
        dedupeKey: expect.stringMatching(/^json:[0-9a-f]{64}$/),
        providerId: null,
        timestampMs: NOW,
      });
    }
  });

  it("timestamps are milliseconds: tolerance applies in seconds", () => {
    const h = signed(spec, { body: utf8(body), nowMs: NOW, privateKey: keys.privateKey });
    expect(h["x-clarion-timestamp"]).toBe(String(NOW));
    expect(verifyWith(spec, utf8(body), h, NOW + 299_000).ok).toBe(true);
    expect(verifyWith(spec, utf8(body), h, NOW + 301_000)).toMatchObject({
      reason: "timestamp_out_of_tolerance",
    });
    expect(verifyWith(spec, utf8(body), h, NOW - 301_000)).toMatchObject({
      reason: "timestamp_out_of_tolerance",
    });
  });

  it("rejects another key's signature and a changed body", () => {
    const h = signed(spec, { body: utf8(body), nowMs: NOW, privateKey: other.privateKey });
    expect(verifyWith(spec, utf8(body), h, NOW)).toMatchObject({ reason: "signature_mismatch" });
    const mine = signed(spec, { body: utf8(body), nowMs: NOW, privateKey: keys.privateKey });
    expect(verifyWith(spec, utf8(`${body} `), mine, NOW)).toMatchObject({ reason: "signature_mismatch" });
  });

  it("checks X-Clarion-Secret in constant time when secrets are configured", () => {
    const withSecret: SourceSpec = {
      verify: { scheme: "clarion", publicKey: keys.publicKey, secrets: ["custom-1", "custom-2"] },
    };
    const h = signed(withSecret, { body: utf8(body), nowMs: NOW, privateKey: keys.privateKey });
    expect(h["x-clarion-secret"]).toBe("custom-1");
    expect(verifyWith(withSecret, utf8(body), h, NOW).ok).toBe(true);
    expect(verifyWith(withSecret, utf8(body), { ...h, "x-clarion-secret": "custom-2" }, NOW).ok).toBe(true);
    const { "x-clarion-secret": _, ...without } = h;
    expect(verifyWith(withSecret, utf8(body), without, NOW)).toMatchObject({ reason: "secret_missing" });
    const wrong = verifyWith(withSecret, utf8(body), { ...h, "x-clarion-secret": "custom-3" }, NOW);
    expect(wrong).toMatchObject({ reason: "secret_mismatch" });
    expect(JSON.stringify(wrong)).not.toContain("custom-1");
    // Without configured secrets the header is ignored.
    expect(verifyWith(spec, utf8(body), { ...h, "x-clarion-secret": "anything" }, NOW).ok).toBe(true);
  });

  it("refuses a non-P-256 or invalid public key", () => {
    const ed = ed25519Pair();
    expect(createVerifier({ verify: { scheme: "clarion", publicKey: ed.publicKey } })).toMatchObject({
      ok: false,
      errors: [{ path: "verify.public_key", message: expect.stringContaining("P-256") }],
    });
    expect(
      createVerifier({
        verify: {
          scheme: "clarion",
          publicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        },
      }),
    ).toMatchObject({
      ok: false,
      errors: [{ path: "verify.public_key" }],
    });
    expect(createVerifier({ verify: { scheme: "clarion", publicKey: keys.privateKey } }).ok).toBe(false);
  });

  it("accepts a PEM whose newlines are escaped (from an environment variable)", () => {
    const escaped = keys.publicKey.replaceAll("\n", "\\n");
    expect(
      roundTrip(
        { verify: { scheme: "clarion", publicKey: escaped } },
        { body: utf8(body), nowMs: NOW, privateKey: keys.privateKey },
      ).ok,
    ).toBe(true);
  });

  it("signing without a private key is refused with a message", () => {
    expect(createVerifier(spec).ok).toBe(true);
    const result = roundTripOrMessage(spec);
    expect(result).toContain("privateKey");
  });
});

function roundTripOrMessage(spec: SourceSpec): string {
  try {
    roundTrip(spec, { body: utf8(body), nowMs: NOW });
    return "signed";
  } catch (error) {
    return String(error);
  }
}

describe("generic ecdsa", () => {
  it.each(["hex", "base64"] as const)("round-trips with %s and verifies raw r||s too", (encoding) => {
    const spec: SourceSpec = {
      verify: {
        scheme: "ecdsa",
        publicKey: keys.publicKey,
        header: "X-Sig",
        encoding,
        timestampHeader: "X-Ts",
      },
    };
    expect(roundTrip(spec, { body: utf8(body), nowMs: NOW, privateKey: keys.privateKey }).ok).toBe(true);
    const ts = String(Math.floor(NOW / 1000));
    const raw = cryptoSign("sha256", Buffer.from(`${ts}.${body}`), {
      key: keys.privateKey,
      dsaEncoding: "ieee-p1363",
    });
    expect(raw.length).toBe(64);
    expect(verifyWith(spec, utf8(body), { "x-sig": raw.toString(encoding), "x-ts": ts }, NOW).ok).toBe(true);
  });

  it("a malleated signature (r, n-s) still verifies: never de-duplicate on signatures", () => {
    const spec: SourceSpec = { verify: { scheme: "ecdsa", publicKey: keys.publicKey, header: "X-Sig" } };
    const raw = cryptoSign("sha256", Buffer.from(body), { key: keys.privateKey, dsaEncoding: "ieee-p1363" });
    const n = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    const s = BigInt(`0x${raw.subarray(32).toString("hex")}`);
    const flipped = Buffer.concat([
      raw.subarray(0, 32),
      Buffer.from((n - s).toString(16).padStart(64, "0"), "hex"),
    ]);
    const a = verifyWith(spec, utf8(body), { "x-sig": raw.toString("hex") }, NOW);
    const b = verifyWith(spec, utf8(body), { "x-sig": flipped.toString("hex") }, NOW);
    expect(a.ok && b.ok && a.dedupeKey === b.dedupeKey).toBe(true);
  });

  it("requires a public key and a header", () => {
    const result = createVerifier({ verify: { scheme: "ecdsa" } });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors.map((e) => e.path).sort()).toEqual(["verify.header", "verify.public_key"]);
  });

  it("refuses secrets (not used by the scheme)", () => {
    expect(
      createVerifier({
        verify: { scheme: "ecdsa", publicKey: keys.publicKey, header: "X-Sig", secrets: ["x"] },
      }),
    ).toMatchObject({
      ok: false,
      errors: [{ path: "verify.secrets", message: "is not used by the ecdsa scheme" }],
    });
  });
});

describe("generic ed25519", () => {
  const pair = ed25519Pair();
  const raw = createPublicKey(pair.publicKey)
    .export({ format: "der", type: "spki" })
    .subarray(12)
    .toString("base64");

  it.each([
    ["PEM", pair.publicKey],
    ["raw base64", raw],
    ["whpk_", `whpk_${raw}`],
    ["hex (Discord-style)", Buffer.from(raw, "base64").toString("hex")],
  ])("verifies with a %s public key", (_name, publicKey) => {
    const spec: SourceSpec = {
      verify: {
        scheme: "ed25519",
        publicKey,
        header: "X-Signature-Ed25519",
        timestampHeader: "X-Signature-Timestamp",
        signedContent: "{timestamp}{body}",
      },
    };
    const result = roundTrip(spec, { body: utf8(body), nowMs: NOW, privateKey: pair.privateKey });
    expect(result).toMatchObject({ ok: true, timestampMs: Math.floor(NOW / 1000) * 1000 });
  });

  it("accepts whsk_ private keys for signing", () => {
    const seed = createPrivateKey(pair.privateKey).export({ format: "der", type: "pkcs8" }).subarray(16);
    const spec: SourceSpec = { verify: { scheme: "ed25519", publicKey: pair.publicKey, header: "X-Sig" } };
    const whsk = `whsk_${Buffer.concat([seed, Buffer.from(raw, "base64")]).toString("base64")}`;
    expect(roundTrip(spec, { body: utf8(body), nowMs: NOW, privateKey: whsk }).ok).toBe(true);
  });

  it("rejects a signature from another key and wrong-length signatures", () => {
    const spec: SourceSpec = { verify: { scheme: "ed25519", publicKey: pair.publicKey, header: "X-Sig" } };
    const h = signed(spec, { body: utf8(body), nowMs: NOW, privateKey: ed25519Pair().privateKey });
    expect(verifyWith(spec, utf8(body), h, NOW)).toMatchObject({ reason: "signature_mismatch" });
    expect(verifyWith(spec, utf8(body), { "x-sig": "AAAA" }, NOW)).toMatchObject({
      reason: "signature_mismatch",
    });
    expect(verifierFor(spec).relevantHeaders).toEqual(["x-sig"]);
  });

  it("refuses an ECDSA key and a short raw key", () => {
    expect(createVerifier({ verify: { scheme: "ed25519", publicKey: keys.publicKey, header: "X" } }).ok).toBe(
      false,
    );
    expect(createVerifier({ verify: { scheme: "ed25519", publicKey: "AAAA", header: "X" } })).toMatchObject({
      ok: false,
      errors: [{ path: "verify.public_key", message: expect.stringContaining("32") }],
    });
  });
});
