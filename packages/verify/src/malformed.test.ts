// Malformed headers of every kind, per scheme family: each gets its precise reason code.
import { describe, expect, it } from "vitest";
import { utf8, verifyWith } from "./test-helpers.js";
import type { ReasonCode, SourceSpec } from "./types.js";

const NOW = 1_700_000_000_000;
const T = String(NOW / 1000);
const HEX64 = "ab".repeat(32);
const body = utf8("{}");

const cases: [string, SourceSpec, Record<string, string>, ReasonCode][] = [
  // Stripe-style t=,v1= (clausum, stripe)
  ["clausum: odd hex", spec("clausum"), { "x-clausum-signature": `t=${T},v1=abc` }, "signature_malformed"],
  [
    "clausum: not hex",
    spec("clausum"),
    { "x-clausum-signature": `t=${T},v1=${"zz".repeat(32)}` },
    "signature_malformed",
  ],
  ["clausum: empty", spec("clausum"), { "x-clausum-signature": "" }, "signature_malformed"],
  [
    "clausum: only v0",
    spec("clausum"),
    { "x-clausum-signature": `t=${T},v0=${HEX64}` },
    "signature_malformed",
  ],
  ["clausum: no t", spec("clausum"), { "x-clausum-signature": `v1=${HEX64}` }, "timestamp_missing"],
  [
    "clausum: t not a number",
    spec("clausum"),
    { "x-clausum-signature": `t=abc,v1=${HEX64}` },
    "timestamp_malformed",
  ],
  [
    "clausum: negative t",
    spec("clausum"),
    { "x-clausum-signature": `t=-5,v1=${HEX64}` },
    "timestamp_malformed",
  ],
  [
    "clausum: t in ms",
    spec("clausum"),
    { "x-clausum-signature": `t=${NOW},v1=${HEX64}` },
    "timestamp_out_of_tolerance",
  ],
  ["clausum: wrong", spec("clausum"), { "x-clausum-signature": `t=${T},v1=${HEX64}` }, "signature_mismatch"],
  [
    "clausum: spaces",
    spec("clausum"),
    { "x-clausum-signature": ` t=${T} , v1=${HEX64} ` },
    "signature_mismatch",
  ],
  ["stripe: missing", spec("stripe"), {}, "signature_missing"],
  ["stripe: garbage", spec("stripe"), { "stripe-signature": "garbage" }, "signature_malformed"],
  // prefix=hex (github, creditclaw, slack)
  ["github: empty after prefix", spec("github"), { "x-hub-signature-256": "sha256=" }, "signature_malformed"],
  ["github: no prefix", spec("github"), { "x-hub-signature-256": HEX64 }, "signature_malformed"],
  ["github: wrong prefix", spec("github"), { "x-hub-signature-256": `sha1=${HEX64}` }, "signature_malformed"],
  [
    "github: uppercase hex, wrong",
    spec("github"),
    { "x-hub-signature-256": `sha256=${HEX64.toUpperCase()}` },
    "signature_mismatch",
  ],
  [
    "github: truncated",
    spec("github"),
    { "x-hub-signature-256": `sha256=${HEX64.slice(2)}` },
    "signature_mismatch",
  ],
  ["creditclaw: missing", spec("creditclaw"), {}, "signature_missing"],
  ["slack: no timestamp", spec("slack"), { "x-slack-signature": `v0=${HEX64}` }, "timestamp_missing"],
  [
    "slack: empty timestamp",
    spec("slack"),
    { "x-slack-signature": `v0=${HEX64}`, "x-slack-request-timestamp": "" },
    "timestamp_malformed",
  ],
  [
    "slack: float timestamp",
    spec("slack"),
    { "x-slack-signature": `v0=${HEX64}`, "x-slack-request-timestamp": `${T}.5` },
    "timestamp_malformed",
  ],
  // base64 (shopify)
  ["shopify: bad base64", spec("shopify"), { "x-shopify-hmac-sha256": "not base64!" }, "signature_malformed"],
  ["shopify: unpadded", spec("shopify"), { "x-shopify-hmac-sha256": "YWJj" + "ZA" }, "signature_malformed"],
  ["shopify: url-safe alphabet", spec("shopify"), { "x-shopify-hmac-sha256": "ab-_" }, "signature_malformed"],
  // standard webhooks
  ["sw: v1 without value", spec("standard-webhooks"), sw("v1,"), "signature_malformed"],
  ["sw: spaces only", spec("standard-webhooks"), sw("   "), "signature_malformed"],
  ["sw: non-canonical base64", spec("standard-webhooks"), sw("v1,AB=="), "signature_malformed"],
  ["sw: wrong", spec("standard-webhooks"), sw(`v1,${"A".repeat(43)}=`), "signature_mismatch"],
  // ecdsa (clarion)
  [
    "clarion: odd hex",
    spec("clarion"),
    { "x-clarion-signature": "abc", "x-clarion-timestamp": String(NOW) },
    "signature_malformed",
  ],
  [
    "clarion: not DER, not 64 bytes",
    spec("clarion"),
    { "x-clarion-signature": HEX64.slice(0, 40), "x-clarion-timestamp": String(NOW) },
    "signature_mismatch",
  ],
  [
    "clarion: DER-looking junk",
    spec("clarion"),
    { "x-clarion-signature": `3045${"00".repeat(69)}`, "x-clarion-timestamp": String(NOW) },
    "signature_mismatch",
  ],
  [
    "clarion: timestamp in s",
    spec("clarion"),
    { "x-clarion-signature": HEX64, "x-clarion-timestamp": T },
    "timestamp_out_of_tolerance",
  ],
];

function spec(scheme: string): SourceSpec {
  const secrets =
    scheme === "standard-webhooks" ? ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] : ["s3kr1t-value"];
  return scheme === "clarion" ? { verify: { scheme } } : { verify: { scheme, secrets } };
}

function sw(signature: string): Record<string, string> {
  return { "webhook-id": "msg_1", "webhook-timestamp": T, "webhook-signature": signature };
}

describe("malformed headers", () => {
  it.each(cases)("%s", (_name, s, headers, reason) => {
    const result = verifyWith(s, body, headers, NOW);
    expect(result).toMatchObject({ ok: false, reason });
    if (!result.ok) expect(result.message).not.toContain("s3kr1t");
  });
});
