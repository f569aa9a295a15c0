// Property tests (fast-check): random input never throws and never verifies; one flipped bit
// in the body, the timestamp or the signature always fails; tolerance; rotation.
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dedupeKeyOfBody } from "./extract.js";
import { signStandardWebhooks } from "./schemes/standard-webhooks.js";
import { EXAMPLES, signed, verifierFor } from "./test-helpers.js";
import type { SignInput, SourceSpec } from "./types.js";

const NOW = 1_750_000_000_000;
const named = Object.entries(EXAMPLES);
const signing = named.filter(([n]) => !["none", "shared-secret", "basic", "bearer"].includes(n));

/** Where each scheme's signature sits in its header: after `marker`, in `encoding`. */
const SIGNATURE: Record<string, { header: string; marker: string; encoding: "hex" | "base64" }> = {
  clausum: { header: "x-clausum-signature", marker: "v1=", encoding: "hex" },
  stripe: { header: "stripe-signature", marker: "v1=", encoding: "hex" },
  creditclaw: { header: "x-creditclaw-signature", marker: "sha256=", encoding: "hex" },
  github: { header: "x-hub-signature-256", marker: "sha256=", encoding: "hex" },
  shopify: { header: "x-shopify-hmac-sha256", marker: "", encoding: "base64" },
  slack: { header: "x-slack-signature", marker: "v0=", encoding: "hex" },
  klariqo: { header: "webhook-signature", marker: "v1,", encoding: "base64" },
  "standard-webhooks": { header: "webhook-signature", marker: "v1,", encoding: "base64" },
  svix: { header: "svix-signature", marker: "v1,", encoding: "base64" },
  hmac: { header: "x-sig", marker: "", encoding: "hex" },
  ecdsa: { header: "x-sig", marker: "", encoding: "hex" },
  ed25519: { header: "x-sig", marker: "", encoding: "base64" },
  clarion: { header: "x-clarion-signature", marker: "", encoding: "hex" },
};

/** Where each scheme's signed timestamp sits: a header, or `t=` inside the signature header. */
const TIMESTAMP: Record<string, { header: string; inSignature?: boolean; unitMs: number }> = {
  clausum: { header: "x-clausum-signature", inSignature: true, unitMs: 1000 },
  stripe: { header: "stripe-signature", inSignature: true, unitMs: 1000 },
  slack: { header: "x-slack-request-timestamp", unitMs: 1000 },
  klariqo: { header: "webhook-timestamp", unitMs: 1000 },
  "standard-webhooks": { header: "webhook-timestamp", unitMs: 1000 },
  svix: { header: "svix-timestamp", unitMs: 1000 },
  hmac: { header: "x-ts", unitMs: 1000 },
  ecdsa: { header: "x-ts", unitMs: 1000 },
  ed25519: { header: "x-ts", unitMs: 1000 },
  clarion: { header: "x-clarion-timestamp", unitMs: 1 },
};

const inputFor = (name: string, body: Uint8Array, nowMs = NOW): SignInput => {
  const privateKey = EXAMPLES[name]?.privateKey;
  return { body, nowMs, ...(privateKey ? { privateKey } : {}) };
};
const specOf = (name: string): SourceSpec => (EXAMPLES[name] as { spec: SourceSpec }).spec;

function flipSignatureBit(
  name: string,
  headers: Record<string, string>,
  bit: number,
): Record<string, string> {
  const where = SIGNATURE[name];
  if (!where) throw new Error(`no signature layout for ${name}`);
  const value = headers[where.header] ?? "";
  const start = value.indexOf(where.marker) + where.marker.length;
  const end = where.marker === "v1=" ? (value.indexOf(",", start) + 1 || value.length + 1) - 1 : value.length;
  const bytes = Buffer.from(value.slice(start, end), where.encoding);
  const i = bit % (bytes.length * 8);
  bytes[i >> 3] = (bytes[i >> 3] ?? 0) ^ (1 << (i & 7));
  return {
    ...headers,
    [where.header]: value.slice(0, start) + bytes.toString(where.encoding) + value.slice(end),
  };
}

const headerValue = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), maxLength: 140 }),
  fc.string({
    unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
    maxLength: 100,
  }),
  fc
    .tuple(
      fc.nat(),
      fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }),
    )
    .map(([t, h]) => `t=${t},v1=${h}`),
  fc.base64String({ minLength: 4, maxLength: 88 }).map((b) => `v1,${b}`),
  fc.base64String({ minLength: 4, maxLength: 88 }).map((b) => `Basic ${b}`),
  fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
  fc.constantFrom("", " ", ",", "v1,", "t=", "sha256=", "v0=", "=", "t=1,v1=zz", "v1a,AAAA", "\u0000"),
  fc.integer({ min: 0, max: 4_000_000_000_000 }).map(String),
);

describe("random requests", () => {
  it.each(named)("%s: never throws, never verifies (except none)", (name, ex) => {
    const verifier = verifierFor(ex.spec);
    const names = [...verifier.relevantHeaders, "authorization", "content-type"];
    const headers = fc.dictionary(
      fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 20 })),
      headerValue,
      {
        maxKeys: 8,
      },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), headers, fc.integer(), (body, h, nowMs) => {
        const result = verifier.verify({ body, headers: h }, nowMs);
        expect(result.ok).toBe(name === "none");
        if (!result.ok) expect(result.message).not.toMatch(/tok-|pw-8e2d|s3cret/);
      }),
      { numRuns: 150 },
    );
  });

  it("huge headers are refused quickly", () => {
    for (const [name, ex] of named) {
      if (name === "none") continue;
      const verifier = verifierFor(ex.spec);
      const huge = `${"v1,".repeat(1)}${"A".repeat(1_000_000)}`;
      const manyTokens = Array.from({ length: 10_000 }, () => `v1,${"A".repeat(43)}=`).join(" ");
      const headers: Record<string, string> = {};
      for (const h of verifier.relevantHeaders) headers[h] = huge;
      const start = performance.now();
      expect(verifier.verify({ body: new Uint8Array(10), headers }, NOW).ok).toBe(false);
      for (const h of verifier.relevantHeaders) headers[h] = manyTokens;
      expect(verifier.verify({ body: new Uint8Array(10), headers }, NOW).ok).toBe(false);
      expect(performance.now() - start).toBeLessThan(2000);
    }
  });
});

describe("one flipped bit fails", () => {
  it.each(signing)("%s: body", (name) => {
    const verifier = verifierFor(specOf(name));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(), (body, bit) => {
        const headers = signed(specOf(name), inputFor(name, body));
        expect(verifier.verify({ body, headers }, NOW).ok).toBe(true);
        const flipped = Uint8Array.from(body);
        const i = bit % (body.length * 8);
        flipped[i >> 3] = (flipped[i >> 3] ?? 0) ^ (1 << (i & 7));
        expect(verifier.verify({ body: flipped, headers }, NOW)).toMatchObject({
          reason: "signature_mismatch",
        });
      }),
      { numRuns: 60 },
    );
  });

  it.each(signing)("%s: signature", (name) => {
    const verifier = verifierFor(specOf(name));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(), (body, bit) => {
        const headers = flipSignatureBit(name, signed(specOf(name), inputFor(name, body)), bit);
        const result = verifier.verify({ body, headers }, NOW);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(["signature_mismatch", "signature_malformed"]).toContain(result.reason);
      }),
      { numRuns: 60 },
    );
  });

  it.each(signing.filter(([n]) => TIMESTAMP[n]))(
    "%s: timestamp (within tolerance, so only the signature can catch it)",
    (name) => {
      const verifier = verifierFor(specOf(name));
      const where = TIMESTAMP[name] as { header: string; inSignature?: boolean; unitMs: number };
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 256 }), fc.integer({ min: 0, max: 7 }), (body, bit) => {
          const headers = signed(specOf(name), inputFor(name, body));
          const value = headers[where.header] ?? "";
          const raw = where.inSignature ? (/t=(\d+)/.exec(value)?.[1] ?? "") : value;
          const changed = String(Number(raw) ^ (1 << bit));
          const replaced = where.inSignature ? value.replace(`t=${raw}`, `t=${changed}`) : changed;
          const nowMs = Number(changed) * where.unitMs;
          const result = verifier.verify({ body, headers: { ...headers, [where.header]: replaced } }, nowMs);
          expect(result).toMatchObject({ ok: false, reason: "signature_mismatch" });
        }),
        { numRuns: 40 },
      );
    },
  );
});

describe("tolerance", () => {
  it.each(signing.filter(([n]) => TIMESTAMP[n]))("%s: ±300 s, past and future", (name) => {
    const verifier = verifierFor(specOf(name));
    const body = Buffer.from("{}");
    const headers = signed(specOf(name), inputFor(name, body));
    const signedAt = NOW - (NOW % (TIMESTAMP[name]?.unitMs ?? 1));
    fc.assert(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), (offsetMs) => {
        const result = verifier.verify({ body, headers }, signedAt + offsetMs);
        if (Math.abs(offsetMs) <= 300_000) {
          expect(result.ok).toBe(true);
        } else {
          expect(result).toMatchObject({ ok: false, reason: "timestamp_out_of_tolerance" });
          if (!result.ok) expect(result.skewSeconds).toBeCloseTo(-offsetMs / 1000, 6);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("rotation", () => {
  const secretArb = fc
    .uint8Array({ minLength: 24, maxLength: 64 })
    .map((b) => `whsec_${Buffer.from(b).toString("base64")}`);

  it("standard webhooks: any secret in the config × any signature in the header", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(secretArb, { minLength: 2, maxLength: 5 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 128 }),
        (secrets, pick, body) => {
          const chosen = secrets[pick % secrets.length] as string;
          const spec: SourceSpec = { verify: { scheme: "standard-webhooks", secrets } };
          const others = secrets.filter((s) => s !== chosen);
          const header = signStandardWebhooks([...others.slice(0, 1), chosen], "msg_1", NOW / 1000, body);
          const headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": String(NOW / 1000),
            "webhook-signature": header,
          };
          expect(verifierFor(spec).verify({ body, headers }, NOW).ok).toBe(true);
          const without: SourceSpec = { verify: { scheme: "standard-webhooks", secrets: others.slice(1) } };
          if (others.length > 1) expect(verifierFor(without).verify({ body, headers }, NOW).ok).toBe(false);
        },
      ),
      { numRuns: 50 },
    );
  });

  it.each(["clausum", "creditclaw", "github", "shopify", "slack", "stripe"])(
    "%s: any of several secrets",
    (scheme) => {
      fc.assert(
        fc.property(
          fc.uniqueArray(
            fc.string({
              unit: fc.constantFrom(..."abcdefghijklmnop0123456789"),
              minLength: 8,
              maxLength: 20,
            }),
            {
              minLength: 2,
              maxLength: 4,
            },
          ),
          fc.nat(),
          (secrets, pick) => {
            const chosen = secrets[pick % secrets.length] as string;
            const body = Buffer.from('{"id":"evt_1"}');
            const headers = signed({ verify: { scheme, secrets: [chosen] } }, { body, nowMs: NOW });
            expect(verifierFor({ verify: { scheme, secrets } }).verify({ body, headers }, NOW).ok).toBe(true);
            const rest = secrets.filter((s) => s !== chosen);
            expect(verifierFor({ verify: { scheme, secrets: rest } }).verify({ body, headers }, NOW).ok).toBe(
              false,
            );
          },
        ),
        { numRuns: 30 },
      );
    },
  );
});

describe("a key the body alone decides", () => {
  // The gateway queues `bodyDedupe` instead of the key and the worker computes it: the two must
  // agree on every body, or a re-sent event would slip past de-duplication.
  const bodies = fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    fc.json().map((text) => new Uint8Array(Buffer.from(text))),
    fc
      .record({ event: fc.jsonValue(), timestamp: fc.jsonValue(), data: fc.jsonValue(), id: fc.jsonValue() })
      .map((o) => new Uint8Array(Buffer.from(JSON.stringify(o)))),
  );
  const specs: SourceSpec[] = [
    { verify: { scheme: "none" } },
    { verify: { scheme: "none" }, dedupeKey: { json: ["event", "data.id", "missing"] } },
    { verify: { scheme: "none" }, dedupeKey: "body" },
  ];

  it("dedupeKeyOfBody(body, bodyDedupe) is the key verify gives, for every body", () => {
    for (const spec of specs) {
      const verifier = verifierFor(spec);
      const chain = verifier.bodyDedupe;
      expect(chain).not.toBeNull();
      if (chain === null) continue;
      fc.assert(
        fc.property(bodies, (body) => {
          const result = verifier.verify({ body, headers: {} }, NOW);
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          expect(dedupeKeyOfBody(body, chain)).toBe(result.dedupeKey);
          // With the body parsed by the caller, as the worker's routing parses it (undefined: not JSON).
          const parsed = () => {
            try {
              return JSON.parse(Buffer.from(body).toString("utf8")) as unknown;
            } catch {
              return undefined;
            }
          };
          expect(dedupeKeyOfBody(body, chain, parsed)).toBe(result.dedupeKey);
        }),
      );
    }
  });

  it("every preset whose key reads the body alone agrees too, and a header key is never left to the body", () => {
    for (const [name, ex] of named) {
      const verifier = verifierFor(ex.spec);
      const chain = verifier.bodyDedupe;
      const headerKeyed = verifierFor({ ...ex.spec, dedupeKey: { header: "X-Id" } });
      expect(headerKeyed.bodyDedupe, name).toBeNull();
      if (chain === null) continue;
      const body = new Uint8Array(Buffer.from('{"event":"e","timestamp":"t","data":{"id":1},"id":"x"}'));
      const input: SignInput = { body, nowMs: NOW, ...(ex.privateKey ? { privateKey: ex.privateKey } : {}) };
      const result = verifier.verify({ body, headers: signed(ex.spec, input) }, NOW);
      expect(result.ok, name).toBe(true);
      if (result.ok) expect(dedupeKeyOfBody(body, chain), name).toBe(result.dedupeKey);
    }
  });
});
