import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createVerifier, dedupeKeyOfBody, PRESET_NAMES, SCHEME_NAMES, signRequest } from "./index.js";
import { EXAMPLES, edKeys, roundTrip, signed, utf8, verifierFor, verifyWith } from "./test-helpers.js";
import type { HeaderMap, SourceSpec, VerifyRequest, VerifySpec } from "./types.js";

const NOW = 1_750_000_000_000;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
describe("catalogue", () => {
  it("exports every preset and generic scheme name", () => {
    expect(PRESET_NAMES).toEqual([
      "clausum",
      "clarion",
      "klariqo",
      "creditclaw",
      "standard-webhooks",
      "svix",
      "stripe",
      "github",
      "shopify",
      "slack",
    ]);
    expect([...SCHEME_NAMES].sort()).toEqual(Object.keys(EXAMPLES).sort());
  });

  it.each(Object.entries(EXAMPLES))(
    "%s: sign → verify round-trips, and the verifier names its headers",
    (name, ex) => {
      const body = utf8('{"type":"a.b","event":"a.b","id":"evt_1","timestamp":"t","data":{}}');
      const input = {
        body,
        nowMs: NOW,
        eventType: "a.b",
        ...(ex.privateKey ? { privateKey: ex.privateKey } : {}),
      };
      const result = roundTrip(ex.spec, input);
      expect(result).toMatchObject({ ok: true });
      const verifier = verifierFor(ex.spec);
      expect(verifier.scheme).toBe(name);
      const headers = signed(ex.spec, input);
      for (const header of Object.keys(headers)) {
        if (!header.endsWith("-at")) expect(verifier.relevantHeaders).toContain(header);
      }
      // Generic schemes have no default event-type location (the hmac example configures one).
      const generic = ["ecdsa", "ed25519", "shared-secret", "basic", "bearer", "none"].includes(name);
      if (result.ok) expect(result.eventType).toBe(generic ? null : "a.b");
    },
  );

  it.each(Object.entries(EXAMPLES).filter(([n]) => n !== "none"))("%s: a changed body fails", (_name, ex) => {
    const input = {
      body: utf8("original"),
      nowMs: NOW,
      ...(ex.privateKey ? { privateKey: ex.privateKey } : {}),
    };
    const headers = signed(ex.spec, input);
    const result = verifyWith(ex.spec, utf8("originaL"), headers, NOW);
    if (["shared-secret", "basic", "bearer"].includes(_name)) expect(result.ok).toBe(true);
    else expect(result).toMatchObject({ ok: false, reason: "signature_mismatch" });
  });
});

describe("createVerifier validation", () => {
  const errorsOf = (spec: unknown) => {
    const result = createVerifier(spec as SourceSpec);
    return result.ok ? [] : result.errors;
  };

  it.each<[string, unknown, string, RegExp]>([
    ["unknown scheme", { verify: { scheme: "hmca" } }, "verify.scheme", /unknown scheme "hmca".*hmac/],
    ["missing scheme", { verify: {} }, "verify.scheme", /required/],
    ["missing verify", {}, "verify", /required/],
    ["missing secrets", { verify: { scheme: "clausum" } }, "verify.secrets", /at least one/],
    ["empty secrets", { verify: { scheme: "github", secrets: [] } }, "verify.secrets", /at least one/],
    ["empty secret", { verify: { scheme: "github", secrets: ["a", ""] } }, "verify.secrets[1]", /empty/],
    [
      "unresolved environment reference",
      { verify: { scheme: "github", secrets: [`$${"{GH}"}`] } },
      "verify.secrets[0]",
      /environment/,
    ],
    ["whitespace", { verify: { scheme: "github", secrets: ["abc\n"] } }, "verify.secrets[0]", /whitespace/],
    [
      "short whsec_",
      { verify: { scheme: "klariqo", secrets: ["whsec_AAAA"] } },
      "verify.secrets[0]",
      /3 bytes/,
    ],
    ["v1, pasted", { verify: { scheme: "svix", secrets: ["v1,abc="] } }, "verify.secrets[0]", /signature/],
    [
      "bad template",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X", signedContent: "{bdy}" } },
      "verify.signed_content",
      /unknown placeholder/,
    ],
    [
      "template without body",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X", signedContent: "{id}" } },
      "verify.signed_content",
      /\{body\}/,
    ],
    [
      "unclosed",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X", signedContent: "{body" } },
      "verify.signed_content",
      /unclosed/,
    ],
    [
      "{timestamp} without header",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X", signedContent: "{timestamp}.{body}" } },
      "verify.signed_content",
      /timestamp_header/,
    ],
    [
      "unsigned timestamp",
      {
        verify: {
          scheme: "hmac",
          secrets: ["k"],
          header: "X",
          timestampHeader: "T",
          signedContent: "{body}",
        },
      },
      "verify.timestamp_header",
      /not signed/,
    ],
    [
      "{id} without header",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X", signedContent: "{id}{body}" } },
      "verify.signed_content",
      /id_header/,
    ],
    [
      "bad algorithm",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X", algorithm: "md5" } },
      "verify.algorithm",
      /sha1/,
    ],
    [
      "bad encoding",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X", encoding: "base32" } },
      "verify.encoding",
      /hex/,
    ],
    [
      "bad unit",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X", timestampHeader: "T", timestampUnit: "us" } },
      "verify.timestamp_unit",
      /s or ms/,
    ],
    [
      "bad header name",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X Sig" } },
      "verify.header",
      /header name/,
    ],
    ["missing header", { verify: { scheme: "hmac", secrets: ["k"] } }, "verify.header", /required/],
    [
      "tolerance without timestamp",
      { verify: { scheme: "hmac", secrets: ["k"], header: "X", toleranceSeconds: 60 } },
      "verify.tolerance",
      /no timestamp/,
    ],
    [
      "negative tolerance",
      { verify: { scheme: "clausum", secrets: ["k"], toleranceSeconds: -1 } },
      "verify.tolerance",
      /positive/,
    ],
    [
      "field fixed by preset",
      { verify: { scheme: "clausum", secrets: ["k"], header: "X" } },
      "verify.header",
      /fixed by the clausum preset/,
    ],
    [
      "unknown setting",
      { verify: { scheme: "clausum", secrets: ["k"], secret: "k" } },
      "verify.secret",
      /not a known setting/,
    ],
    ["bad PEM", { verify: { scheme: "clarion", publicKey: "not a key" } }, "verify.public_key", /PEM/],
    ["bad event_type", { verify: { scheme: "none" }, eventType: { json: "" } }, "event_type", /dotted path/],
    [
      "bad event_type header",
      { verify: { scheme: "none" }, eventType: { header: "a b" } },
      "event_type",
      /header name/,
    ],
    ["bad dedupe", { verify: { scheme: "none" }, dedupeKey: { json: [] } }, "dedupe.key", /non-empty/],
    ["bad dedupe kind", { verify: { scheme: "none" }, dedupeKey: "hash" }, "dedupe.key", /body/],
  ])("%s", (_name, spec, path, message) => {
    const errors = errorsOf(spec);
    expect(errors.map((e) => e.path)).toContain(path);
    expect(errors.find((e) => e.path === path)?.message).toMatch(message);
  });

  it("reports every error at once and never echoes a secret", () => {
    const errors = errorsOf({
      verify: {
        scheme: "standard-webhooks",
        secrets: ["whsec_c2hvcnQ=", "v1,Zm9vYmFy"],
        toleranceSeconds: 0,
      },
    });
    expect(errors.map((e) => e.path)).toEqual(["verify.secrets[0]", "verify.secrets[1]", "verify.tolerance"]);
    expect(JSON.stringify(errors)).not.toMatch(/c2hvcnQ|Zm9vYmFy/);
  });

  it("signRequest reports spec errors as a message", () => {
    const result = signRequest({ verify: { scheme: "nope" } } as SourceSpec, { body: utf8(""), nowMs: NOW });
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining("verify.scheme") });
    const ecdsa = signRequest(EXAMPLES.ecdsa?.spec as SourceSpec, { body: utf8(""), nowMs: NOW });
    expect(ecdsa).toMatchObject({ ok: false, message: expect.stringContaining("privateKey") });
    const wrongKey = signRequest(EXAMPLES.ecdsa?.spec as SourceSpec, {
      body: utf8(""),
      nowMs: NOW,
      privateKey: edKeys.privateKey,
    });
    expect(wrongKey).toMatchObject({ ok: false });
  });
});

describe("event type and de-duplication", () => {
  const none = (extra: Partial<SourceSpec> = {}): SourceSpec => ({ verify: { scheme: "none" }, ...extra });
  const run = (spec: SourceSpec, body: string, headers: HeaderMap = {}) => {
    const result = verifyWith(spec, utf8(body), headers, NOW);
    if (!result.ok) throw new Error(result.reason);
    return result;
  };

  it("json paths are dotted; non-strings and non-JSON give null, never a throw", () => {
    const spec = none({ eventType: { json: "data.kind" } });
    expect(run(spec, '{"data":{"kind":"x.y"}}').eventType).toBe("x.y");
    expect(run(spec, '{"data":{"kind":5}}').eventType).toBeNull();
    expect(run(spec, '{"data":null}').eventType).toBeNull();
    expect(run(spec, "not json").eventType).toBeNull();
    expect(run(spec, "").eventType).toBeNull();
    expect(run(spec, `${"[".repeat(100_000)}`).eventType).toBeNull();
    expect(run(spec, '{"__proto__":{"kind":"polluted"}}').eventType).toBeNull();
  });

  it("header event type", () => {
    const spec = none({ eventType: { header: "X-Event" } });
    expect(run(spec, "", { "x-event": "a" }).eventType).toBe("a");
    expect(run(spec, "", { "X-Event": "b" }).eventType).toBe("b");
    expect(run(spec, "").eventType).toBeNull();
  });

  it("json key: sha256 of the JSON array of values, undefined → null; all absent → body", () => {
    const spec = none({ dedupeKey: { json: ["event", "data.id", "missing"] } });
    expect(run(spec, '{"event":"e","data":{"id":7}}').dedupeKey).toBe(`json:${sha('["e",7,null]')}`);
    expect(run(spec, '{"other":1}').dedupeKey).toBe(`body:${sha('{"other":1}')}`);
    expect(run(spec, "plain").dedupeKey).toBe(`body:${sha("plain")}`);
  });

  it("json key of values nested too deeply to serialise: the body hash, and never a throw", () => {
    // JSON.parse takes this; JSON.stringify of it overflows the stack.
    const deep = `{"event":"e","data":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    const spec = none({ dedupeKey: { json: ["event", "data"] } });
    expect(run(spec, deep).dedupeKey).toBe(`body:${sha(deep)}`);
    const verifier = verifierFor(spec);
    const chain = verifier.bodyDedupe;
    expect(chain).not.toBeNull();
    if (chain) expect(dedupeKeyOfBody(utf8(deep), chain)).toBe(`body:${sha(deep)}`);
  });

  it("header key with body fallback; explicit body", () => {
    const spec = none({ dedupeKey: { header: "X-Id" } });
    expect(run(spec, "b", { "x-id": "abc" }).dedupeKey).toBe("abc");
    expect(run(spec, "b").dedupeKey).toBe(`body:${sha("b")}`);
    expect(run(none({ dedupeKey: "body" }), "b", { "x-id": "abc" }).dedupeKey).toBe(`body:${sha("b")}`);
  });

  it("overrides a preset's defaults", () => {
    const spec: SourceSpec = {
      verify: { scheme: "github", secrets: ["gh"] },
      eventType: { json: "action" },
      dedupeKey: { json: ["action"] },
    };
    const body = utf8('{"action":"opened"}');
    const result = roundTrip(spec, { body, nowMs: NOW, eventType: "pull_request" });
    expect(result).toMatchObject({ ok: true, eventType: "opened", dedupeKey: `json:${sha('["opened"]')}` });
  });

  it("Clarion: a JSON id when there is one, else the body hash", () => {
    const ex = EXAMPLES.clarion as { spec: SourceSpec; privateKey: string };
    const key = (b: string) => {
      const r = roundTrip(ex.spec, { body: utf8(b), nowMs: NOW, privateKey: ex.privateKey });
      return r.ok ? r.dedupeKey : r.reason;
    };
    expect(key('{"id":"c1"}')).toBe(`json:${sha('["c1"]')}`);
    expect(key('{"x":1}')).toBe(`body:${sha('{"x":1}')}`);
  });
});

describe("never throws", () => {
  const verifiers = Object.values(EXAMPLES).map((ex) => verifierFor(ex.spec));
  const weird: unknown[] = [
    null,
    undefined,
    {},
    { body: "string body", headers: {} },
    { body: utf8("x"), headers: null },
    { body: utf8("x"), headers: { "x-sig": ["a", "b"], "webhook-signature": 5, "stripe-signature": null } },
    { body: new Uint8Array(0), headers: Object.create(null) },
    { body: utf8("x"), headers: { constructor: "x", __proto__: "y", toString: "z" } },
  ];
  it.each(weird.map((w, i) => [i, w]))("weird request #%i", (_i, request) => {
    for (const verifier of verifiers) {
      expect(() => verifier.verify(request as VerifyRequest, NOW)).not.toThrow();
      expect(() => verifier.verify(request as VerifyRequest, Number.NaN)).not.toThrow();
    }
  });

  it("a NaN clock never passes a timestamp check", () => {
    const spec = EXAMPLES.clausum?.spec as SourceSpec;
    const headers = signed(spec, { body: utf8("x"), nowMs: NOW });
    expect(verifyWith(spec, utf8("x"), headers, Number.NaN).ok).toBe(false);
  });

  it("createVerifier and signRequest never throw on junk specs", () => {
    const junk: unknown[] = [
      null,
      1,
      "x",
      { verify: null },
      { verify: { scheme: 5 } },
      { verify: { scheme: "hmac", secrets: "k", header: 5 } },
      { verify: { scheme: "hmac", secrets: [1, null], header: "X", toleranceSeconds: "5m" } },
      { verify: { scheme: "ecdsa", publicKey: 5, header: "X" } },
      { verify: { scheme: "ed25519", publicKey: { k: 1 }, header: "X" } },
      { verify: { scheme: "none" }, eventType: null, dedupeKey: null },
    ];
    for (const spec of junk) {
      expect(() => createVerifier(spec as SourceSpec)).not.toThrow();
      expect(createVerifier(spec as SourceSpec).ok).toBe(false);
      expect(() => signRequest(spec as SourceSpec, { body: utf8(""), nowMs: NOW })).not.toThrow();
    }
    const fields: (keyof VerifySpec)[] = ["scheme"];
    expect(fields).toHaveLength(1);
  });
});
