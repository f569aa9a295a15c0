// Byte-level helpers shared by the schemes: strict decoders (Buffer.from silently ignores bad
// characters, so everything is validated first) and constant-time comparisons.
import { Buffer } from "node:buffer";
import * as nodeCrypto from "node:crypto";
import { createHash, timingSafeEqual } from "node:crypto";

const HEX = /^(?:[0-9a-f]{2})+$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict hex: an even number of hex digits, nothing else. */
export function decodeHex(value: string): Buffer | null {
  return value.length > 0 && HEX.test(value) ? Buffer.from(value, "hex") : null;
}

/** Strict, padded, standard-alphabet base64. */
export function decodeBase64(value: string): Buffer | null {
  if (value.length === 0 || value.length % 4 !== 0 || !BASE64.test(value)) return null;
  const bytes = Buffer.from(value, "base64");
  // Reject non-canonical encodings (non-zero trailing bits), which Buffer.from would accept.
  return bytes.toString("base64") === value ? bytes : null;
}

/** Base64 that may lack its `=` padding (as the Standard Webhooks libraries tolerate for secrets). */
export function decodeBase64Unpadded(value: string): Buffer | null {
  const rest = value.length % 4;
  if (rest === 1) return null;
  return decodeBase64(rest === 0 ? value : value + "=".repeat(4 - rest));
}

export function decode(value: string, encoding: "hex" | "base64"): Buffer | null {
  return encoding === "hex" ? decodeHex(value) : decodeBase64(value);
}

/** Constant time for equal lengths; different lengths are simply unequal (never a throw). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash("sha256").update(data).digest();
}

// crypto.hash (Node >= 20.12) is a one-shot digest, measurably cheaper than createHash for
// the small inputs hashed per request; fall back on older Node 20 releases.
const oneShot: ((algorithm: string, data: Uint8Array | string, encoding: "hex") => string) | undefined =
  typeof nodeCrypto.hash === "function" ? nodeCrypto.hash : undefined;

export function sha256Hex(data: Uint8Array | string): string {
  return oneShot ? oneShot("sha256", data, "hex") : createHash("sha256").update(data).digest("hex");
}

/**
 * A key compared only for equality (a de-duplication key, an ordering key), made storable in a
 * Postgres text column and btree index: one holding a NUL (which text cannot store) or longer
 * than `maxBytes` of UTF-8 is replaced by `sha256:<hex>` of itself.
 */
export function storableKey(key: string, maxBytes: number): string {
  if (!key.includes("\u0000") && Buffer.byteLength(key, "utf8") <= maxBytes) return key;
  return `sha256:${sha256Hex(key)}`;
}

/**
 * Compares a presented secret with configured ones (rotation). Both sides are hashed first, so
 * neither the length nor the content of a configured secret leaks through timing; every
 * configured secret is compared, without an early exit.
 */
export function matchesAnySecret(presented: Uint8Array, secretHashes: readonly Buffer[]): boolean {
  const digest = sha256(presented);
  let found = false;
  for (const hash of secretHashes) {
    if (timingSafeEqual(digest, hash)) found = true;
  }
  return found;
}

/** A view on the same memory (no copy), so Buffer methods can be used on any Uint8Array. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
