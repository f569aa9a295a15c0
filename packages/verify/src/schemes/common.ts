// Validation shared by the scheme files.
import { isHeaderName } from "../headers.js";
import type { ErrorSink, HeaderName } from "./types.js";
import { headerName } from "./types.js";

export const DEFAULT_TOLERANCE_SECONDS = 300;
/** More signatures than this in one header is treated as malformed (bounds the work per request). */
export const MAX_SIGNATURES = 16;

/** Resolves `tolerance`: the default where a timestamp is signed, an error where none is. */
export function resolveTolerance(
  value: number | undefined,
  hasTimestamp: boolean,
  errors: ErrorSink,
): number | null {
  if (value === undefined) return hasTimestamp ? DEFAULT_TOLERANCE_SECONDS : null;
  if (!hasTimestamp) {
    errors.add("tolerance", "this scheme signs no timestamp, so a tolerance cannot be applied");
    return null;
  }
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    errors.add("tolerance", "must be a positive duration");
    return null;
  }
  return value;
}

/** Checks a configured secret used as UTF-8 bytes; returns an error message or null. */
export function checkPlainSecret(secret: unknown): string | null {
  if (typeof secret !== "string") return "must be a string";
  if (secret.length === 0) return "is empty";
  if (/^\$\{[^}]*\}$/.test(secret)) return "looks like an unresolved environment variable reference";
  if (secret.trim() !== secret) return "has leading or trailing whitespace (a copy-paste slip?)";
  return null;
}

/** Validates `secrets`: a non-empty array (when required) of valid strings. */
export function readSecrets(
  secrets: readonly string[] | undefined,
  required: boolean,
  check: (secret: string) => string | null,
  errors: ErrorSink,
): string[] | null {
  if (secrets === undefined || (Array.isArray(secrets) && secrets.length === 0)) {
    if (required) errors.add("secrets", "at least one secret is required");
    return required ? null : [];
  }
  if (!Array.isArray(secrets)) {
    errors.add("secrets", "must be a list of strings");
    return null;
  }
  let ok = true;
  secrets.forEach((secret: unknown, i) => {
    const message = checkPlainSecret(secret) ?? check(secret as string);
    if (message !== null) {
      errors.add(`secrets[${i}]`, message);
      ok = false;
    }
  });
  return ok ? [...secrets] : null;
}

export function readHeaderName(
  value: string | undefined,
  field: string,
  errors: ErrorSink,
): HeaderName | null | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !isHeaderName(value)) {
    errors.add(field, "must be an HTTP header name");
    return null;
  }
  return headerName(value);
}
