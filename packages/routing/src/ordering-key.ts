// An event's ordering key: a scalar read from its body (a JSON pointer) or from a header. Keys
// are compared for equality only, so one that is too long to index or holds a NUL (which
// Postgres text cannot store) is replaced by a digest of itself.
import type { OrderingKeySpec } from "@hookline/config";
import { storableKey } from "@hookline/verify";
import type { RoutableEvent } from "./event";

/** Keys longer than this (in UTF-8 bytes) are stored as their SHA-256. */
export const MAX_ORDERING_KEY_BYTES = 256;

/** The event's key for `spec`, or null when it has none (it is then delivered unordered). */
export function orderingKey(spec: OrderingKeySpec, event: RoutableEvent): string | null {
  return storable(
    spec.kind === "header" ? (event.headers[spec.name] ?? null) : scalarAt(event.json(), spec.tokens),
  );
}

/** The value at `tokens` (RFC 6901), as text when it is a string, a number or a boolean. */
export function scalarAt(document: unknown, tokens: readonly string[]): string | null {
  let node = document;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return null;
      node = node[Number(token)];
    } else if (node !== null && typeof node === "object") {
      node = Object.hasOwn(node, token) ? (node as Record<string, unknown>)[token] : undefined;
    } else return null;
  }
  if (typeof node === "string") return node;
  if (typeof node === "number" || typeof node === "boolean") return String(node);
  return null; // missing, null, an object or an array: no key, the event is not ordered
}

function storable(key: string | null): string | null {
  return key === null || key === "" ? null : storableKey(key, MAX_ORDERING_KEY_BYTES);
}
