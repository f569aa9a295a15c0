import type { HeaderMap } from "./types.js";

/**
 * Reads a header by its lower-cased name. Node lower-cases names already; a caller that did
 * not gets a case-insensitive fallback. Non-string values (arrays, numbers) count as absent.
 */
export function getHeader(headers: HeaderMap, lowerName: string): string | undefined {
  if (Object.hasOwn(headers, lowerName)) {
    const value = headers[lowerName];
    return typeof value === "string" ? value : undefined;
  }
  for (const key of Object.keys(headers)) {
    if (key.length === lowerName.length && key.toLowerCase() === lowerName) {
      const value = headers[key];
      return typeof value === "string" ? value : undefined;
    }
  }
  return undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An HTTP header field name (RFC 9110 token). */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}
