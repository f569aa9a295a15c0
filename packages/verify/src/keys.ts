// Key parsing, done once at createVerifier (or signRequest) time. node:crypto reports bad key
// material only by throwing, so these are the few places with a try/catch.
import { Buffer } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { decodeBase64Unpadded } from "./bytes.js";

const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

const PRIVATE_IN_PUBLIC = "is a private key: configure the public key only (keep the private key secret)";

/** PEM from YAML or an environment variable may carry literal `\n` sequences. */
function normalisePem(value: string): string {
  return value.includes("\\n") ? value.replaceAll("\\n", "\n") : value;
}

function isPem(value: string): boolean {
  return value.trimStart().startsWith("-----BEGIN");
}

function tryPublicPem(value: string): KeyObject | null {
  // createPublicKey would derive a public key from a private one; refuse it instead.
  if (value.includes("PRIVATE KEY")) return null;
  try {
    return createPublicKey({ key: normalisePem(value), format: "pem" });
  } catch {
    return null;
  }
}

function tryPrivatePem(value: string): KeyObject | null {
  try {
    return createPrivateKey({ key: normalisePem(value), format: "pem" });
  } catch {
    return null;
  }
}

function describe(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve ? `${key.asymmetricKeyType} (${curve})` : String(key.asymmetricKeyType);
}

/** An ECDSA P-256 public key in PEM (SPKI); the key or an error message. */
export function parseP256PublicKey(value: unknown): KeyObject | string {
  if (typeof value !== "string" || !isPem(value))
    return "must be a PEM public key (-----BEGIN PUBLIC KEY-----)";
  const key = tryPublicPem(value);
  if (!key) return value.includes("PRIVATE KEY") ? PRIVATE_IN_PUBLIC : "is not a valid PEM public key";
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    return `must be an ECDSA P-256 key, got ${describe(key)}`;
  }
  return key;
}

export function parseP256PrivateKey(value: string): KeyObject | string {
  const key = isPem(value) ? tryPrivatePem(value) : null;
  if (!key) return "privateKey must be a PEM (PKCS8) private key";
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    return `privateKey must be an ECDSA P-256 key, got ${describe(key)}`;
  }
  return key;
}

/** Raw 32-byte key (base64, optionally `whpk_`-prefixed, or hex) or PEM; the key or an error message. */
export function parseEd25519PublicKey(value: unknown): KeyObject | string {
  if (typeof value !== "string" || value.length === 0)
    return "must be a PEM public key or a base64 Ed25519 key";
  if (isPem(value)) {
    const key = tryPublicPem(value);
    if (!key) return value.includes("PRIVATE KEY") ? PRIVATE_IN_PUBLIC : "is not a valid PEM public key";
    if (key.asymmetricKeyType !== "ed25519") return `must be an Ed25519 key, got ${describe(key)}`;
    return key;
  }
  if (value.startsWith("whsk_")) return "is a private key (whsk_...): configure the public key (whpk_...)";
  // 64 hex digits (as Discord publishes keys), else base64 with an optional whpk_ prefix.
  const raw = /^[0-9a-f]{64}$/i.test(value)
    ? Buffer.from(value, "hex")
    : decodeBase64Unpadded(value.startsWith("whpk_") ? value.slice(5) : value);
  if (!raw) return "is not valid base64 (or 64 hex digits)";
  if (raw.length !== 32) return `decodes to ${raw.length} bytes; an Ed25519 public key has 32`;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" });
  } catch {
    return "is not a valid Ed25519 public key";
  }
}

/** PEM (PKCS8), or `whsk_<base64 of seed‖public>` (or a bare 32-byte seed). */
export function parseEd25519PrivateKey(value: string): KeyObject | string {
  if (isPem(value)) {
    const key = tryPrivatePem(value);
    if (!key) return "privateKey is not a valid PEM private key";
    if (key.asymmetricKeyType !== "ed25519") return `privateKey must be an Ed25519 key, got ${describe(key)}`;
    return key;
  }
  const raw = decodeBase64Unpadded(value.startsWith("whsk_") ? value.slice(5) : value);
  if (!raw || (raw.length !== 64 && raw.length !== 32)) {
    return "privateKey must be PEM or whsk_<base64 of a 32-byte seed or 64-byte seed+public key>";
  }
  try {
    return createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, raw.subarray(0, 32)]),
      format: "der",
      type: "pkcs8",
    });
  } catch {
    return "privateKey is not a valid Ed25519 key";
  }
}
