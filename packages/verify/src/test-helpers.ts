// Helpers for this package's tests (not exported from index.ts).
import { Buffer } from "node:buffer";
import { generateKeyPairSync } from "node:crypto";
import type { HeaderMap, SignInput, SourceSpec, Verifier, VerifyResult } from "./types.js";
import { createVerifier, signRequest } from "./verifier.js";

export const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "utf8"));

/** Node-style headers: lower-cased names. */
export function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

export function verifierFor(spec: SourceSpec): Verifier {
  const result = createVerifier(spec);
  if (!result.ok) throw new Error(`invalid spec: ${JSON.stringify(result.errors)}`);
  return result.verifier;
}

export function signed(spec: SourceSpec, input: SignInput): Record<string, string> {
  const result = signRequest(spec, input);
  if (!result.ok) throw new Error(`sign failed: ${result.message}`);
  return lower(result.headers);
}

/** Signs with `spec` and verifies with `verifySpec` (default: the same). */
export function roundTrip(
  spec: SourceSpec,
  input: SignInput,
  nowMs = input.nowMs,
  verifySpec: SourceSpec = spec,
): VerifyResult {
  return verifierFor(verifySpec).verify(
    { body: input.body, headers: signed(spec, input), url: input.url },
    nowMs,
  );
}

export function verifyWith(
  spec: SourceSpec,
  body: Uint8Array,
  headers: HeaderMap,
  nowMs: number,
  url?: string,
) {
  return verifierFor(spec).verify({ body, headers, ...(url === undefined ? {} : { url }) }, nowMs);
}

export function p256(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync("ec", {
    namedCurve: "P-256",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
}

export function ed25519Pair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync("ed25519", {
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
}

export const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const ecKeys = p256();
export const edKeys = ed25519Pair();

/** A working spec (and signing key) for every accepted scheme name. */
export const EXAMPLES: Record<string, { spec: SourceSpec; privateKey?: string }> = {
  clausum: { spec: { verify: { scheme: "clausum", secrets: ["s3cret"] } } },
  clarion: {
    spec: { verify: { scheme: "clarion", publicKey: ecKeys.publicKey, secrets: ["x"] } },
    privateKey: ecKeys.privateKey,
  },
  klariqo: { spec: { verify: { scheme: "klariqo", secrets: [SW_SECRET] } } },
  creditclaw: { spec: { verify: { scheme: "creditclaw", secrets: ["whsec_abc"] } } },
  "standard-webhooks": { spec: { verify: { scheme: "standard-webhooks", secrets: [SW_SECRET] } } },
  svix: { spec: { verify: { scheme: "svix", secrets: [SW_SECRET] } } },
  stripe: { spec: { verify: { scheme: "stripe", secrets: ["whsec_stripe"] } } },
  github: { spec: { verify: { scheme: "github", secrets: ["gh"] } } },
  shopify: { spec: { verify: { scheme: "shopify", secrets: ["shp"] } } },
  slack: { spec: { verify: { scheme: "slack", secrets: ["sl"] } } },
  hmac: {
    spec: {
      verify: { scheme: "hmac", secrets: ["k"], header: "X-Sig", timestampHeader: "X-Ts", idHeader: "X-Id" },
      eventType: { header: "X-Event" },
    },
  },
  ecdsa: {
    spec: {
      verify: { scheme: "ecdsa", publicKey: ecKeys.publicKey, header: "X-Sig", timestampHeader: "X-Ts" },
    },
    privateKey: ecKeys.privateKey,
  },
  ed25519: {
    spec: {
      verify: { scheme: "ed25519", publicKey: edKeys.publicKey, header: "X-Sig", timestampHeader: "X-Ts" },
    },
    privateKey: edKeys.privateKey,
  },
  "shared-secret": {
    spec: { verify: { scheme: "shared-secret", header: "X-Token", secrets: ["tok-4f1c9a"] } },
  },
  basic: { spec: { verify: { scheme: "basic", secrets: ["hookline:pw-8e2d"] } } },
  bearer: { spec: { verify: { scheme: "bearer", secrets: ["tok-77b0e3"] } } },
  none: { spec: { verify: { scheme: "none" } } },
};
