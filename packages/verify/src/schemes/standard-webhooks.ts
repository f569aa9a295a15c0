// Standard Webhooks (https://www.standardwebhooks.com): Klariqo, Svix and the generic preset.
// `webhook-signature: v1,<base64> [v1,<base64> ...]` over `${id}.${timestamp}.${body}`;
// v1 = HMAC-SHA256 keyed with the base64-decoded `whsec_` secret, v1a = Ed25519.
import { Buffer } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { createHmac, sign as cryptoSign, verify as cryptoVerify, randomUUID } from "node:crypto";
import { bytesEqual, decodeBase64, decodeBase64Unpadded } from "../bytes.js";
import { getHeader } from "../headers.js";
import { parseEd25519PrivateKey, parseEd25519PublicKey } from "../keys.js";
import { checkTimestamp } from "../timestamp.js";
import type { SignResult, VerifyFailure } from "../types.js";
import { MAX_SIGNATURES, readSecrets, resolveTolerance } from "./common.js";
import type { CompiledScheme, SchemeDefinition } from "./types.js";

const SECRET_PREFIX = "whsec_";
const MIN_KEY_BYTES = 24;

/**
 * Checks a Standard Webhooks secret (`whsec_<base64 of at least 24 bytes>`). Returns an error
 * message (never containing the secret) or null when the secret is usable.
 */
export function validateStandardWebhooksSecret(secret: string): string | null {
  if (typeof secret !== "string" || secret.length === 0) return "is empty";
  if (/^v1a?,/.test(secret))
    return 'starts with "v1,": that is a signature, not a signing secret (whsec_...)';
  if (/\s/.test(secret)) return "contains whitespace (a copy-paste slip?)";
  if (!secret.startsWith(SECRET_PREFIX)) return "must look like whsec_<base64>";
  const key = decodeBase64Unpadded(secret.slice(SECRET_PREFIX.length));
  if (!key) return "is not valid base64 after whsec_";
  if (key.length < MIN_KEY_BYTES) {
    return `decodes to ${key.length} bytes; a Standard Webhooks key has at least ${MIN_KEY_BYTES}`;
  }
  return null;
}

function secretKey(secret: string): Buffer | null {
  if (validateStandardWebhooksSecret(secret) !== null) return null;
  return decodeBase64Unpadded(secret.slice(SECRET_PREFIX.length));
}

function hmacV1(key: Buffer, prefix: Buffer, body: Uint8Array): Buffer {
  return createHmac("sha256", key).update(prefix).update(body).digest();
}

/**
 * Outbound signing (Hookline → targets): `v1,<base64>` per secret, space-separated, so a
 * target can rotate. Throws a TypeError on a secret that `validateStandardWebhooksSecret`
 * refuses: validate at config load.
 */
export function signStandardWebhooks(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: Uint8Array,
): string {
  const prefix = Buffer.from(`${id}.${Math.floor(timestampSeconds)}.`, "utf8");
  return secrets
    .map((secret, i) => {
      const key = secretKey(secret);
      if (!key) throw new TypeError(`signing secret ${i} ${validateStandardWebhooksSecret(secret)}`);
      return `v1,${hmacV1(key, prefix, body).toString("base64")}`;
    })
    .join(" ");
}

function firstHeader(
  headers: Parameters<typeof getHeader>[0],
  prefixes: readonly string[],
  suffix: string,
): string | undefined {
  for (const prefix of prefixes) {
    const value = getHeader(headers, prefix + suffix);
    if (value !== undefined) return value;
  }
  return undefined;
}

export const standardWebhooksScheme: SchemeDefinition = {
  name: "standard-webhooks",
  fields: ["secrets", "publicKey", "toleranceSeconds"],
  compile(spec, errors): CompiledScheme | null {
    const prefixes = spec.headerPrefixes ?? ["webhook-"];
    const [primary = "webhook-"] = prefixes;
    let ok = true;
    const secrets = readSecrets(spec.secrets, false, validateStandardWebhooksSecret, errors);
    let publicKey: KeyObject | null = null;
    if (spec.publicKey !== undefined) {
      const parsed = parseEd25519PublicKey(spec.publicKey);
      if (typeof parsed === "string") {
        errors.add("public_key", parsed);
        ok = false;
      } else publicKey = parsed;
    }
    if (secrets && secrets.length === 0 && spec.publicKey === undefined) {
      errors.add(
        "secrets",
        "at least one secret (whsec_...) or a public_key (whpk_..., for v1a) is required",
      );
      ok = false;
    }
    const tolerance = resolveTolerance(spec.toleranceSeconds, true, errors);
    if (!ok || !secrets || tolerance === null) return null;

    const keys = secrets.map(secretKey).filter((k): k is Buffer => k !== null);
    const label = `${primary}signature`;
    const malformed = (message: string): VerifyFailure => ({
      ok: false,
      reason: "signature_malformed",
      message,
    });

    return {
      relevantHeaders: prefixes.flatMap((p) => [`${p}id`, `${p}timestamp`, `${p}signature`]),
      secretHeaders: [],
      signatureHeaders: prefixes.map((p) => `${p}signature`),
      check(request, nowMs) {
        const { headers } = request;
        const header = firstHeader(headers, prefixes, "signature");
        if (header === undefined)
          return { ok: false, reason: "signature_missing", message: `${label} header is missing` };
        const id = firstHeader(headers, prefixes, "id");
        if (id === undefined)
          return { ok: false, reason: "id_missing", message: `${primary}id header is missing` };
        // Entries are space-separated; Node joins repeated headers with ", ", hence the
        // optional trailing comma on each token.
        const v1: Buffer[] = [];
        const v1a: Buffer[] = [];
        let wellFormed = 0;
        for (let token of header.split(/\s+/)) {
          if (token.endsWith(",")) token = token.slice(0, -1);
          const comma = token.indexOf(",");
          if (comma <= 0) continue;
          const signature = decodeBase64(token.slice(comma + 1));
          if (!signature) continue;
          if (++wellFormed > MAX_SIGNATURES) break;
          const version = token.slice(0, comma);
          if (version === "v1") v1.push(signature);
          else if (version === "v1a") v1a.push(signature);
        }
        if (wellFormed === 0) return malformed(`${label} is not in the v1,<base64> format`);
        if (wellFormed > MAX_SIGNATURES) return malformed(`${label} carries too many signatures`);

        const rawTimestamp = firstHeader(headers, prefixes, "timestamp");
        const timestampMs = checkTimestamp(rawTimestamp, "s", tolerance, nowMs, `${primary}timestamp header`);
        if (typeof timestampMs !== "number") return timestampMs;

        const prefix = Buffer.from(`${id}.${rawTimestamp}.`, "utf8");
        const success = { ok: true, timestampMs, id } as const;
        if (v1.length > 0) {
          for (const key of keys) {
            const expected = hmacV1(key, prefix, request.body);
            for (const signature of v1) if (bytesEqual(signature, expected)) return success;
          }
        }
        if (v1a.length > 0 && publicKey) {
          const content = Buffer.concat([prefix, request.body]);
          for (const signature of v1a) {
            if (signature.length === 64 && cryptoVerify(null, content, publicKey, signature)) return success;
          }
        }
        return {
          ok: false,
          reason: "signature_mismatch",
          message: `no ${label} entry matches a configured ${keys.length > 0 ? "secret" : "key"}`,
        };
      },
      sign(input): SignResult {
        const id = input.id ?? `msg_${randomUUID().replaceAll("-", "")}`;
        const timestamp = Math.floor(input.nowMs / 1000);
        let signature: string;
        if (input.privateKey !== undefined) {
          const key = parseEd25519PrivateKey(input.privateKey);
          if (typeof key === "string") return { ok: false, message: key };
          const content = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, "utf8"), input.body]);
          signature = `v1a,${cryptoSign(null, content, key).toString("base64")}`;
        } else {
          const secret = secrets[0];
          if (secret === undefined)
            return { ok: false, message: "no secret configured (pass privateKey for v1a)" };
          signature = signStandardWebhooks([secret], id, timestamp, input.body);
        }
        return {
          ok: true,
          headers: {
            [`${primary}id`]: id,
            [`${primary}timestamp`]: String(timestamp),
            [`${primary}signature`]: signature,
          },
        };
      },
    };
  },
};
