// What the worker writes into text columns and btree indexes must be storable, or the event is
// acknowledged and then never recorded. Postgres text cannot hold U+0000, and a btree entry
// cannot exceed 2,704 bytes ("index row size ... exceeds btree version 4 maximum"). Decided
// here, at the gateway, so that no 202 is given for what can never be recorded.
import { type BodyDedupeSource, storableKey } from "@hookline/verify";

/** Event types and provider ids longer than this are refused; real ones are under 100 bytes. */
export const MAX_LABEL_BYTES = 512;
/** De-duplication keys longer than this are stored as their SHA-256 (they are only compared). */
export const MAX_DEDUPE_KEY_BYTES = 512;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The ingest job's de-duplication: the key, or how the worker computes it from the body. */
export type JobDedupe = { readonly dedupeKey: string } | { readonly dedupeFrom: readonly BodyDedupeSource[] };

export type MetadataCheck =
  | { readonly ok: true; readonly dedupe: JobDedupe }
  | {
      readonly ok: false;
      readonly reason: "event_type_invalid" | "event_id_invalid";
      readonly message: string;
    };

/** Why a label (event type, provider id) cannot be stored and shown, or null when it can. */
function labelProblem(value: string): string | null {
  if (CONTROL.test(value)) return "holds a control character";
  if (Buffer.byteLength(value, "utf8") > MAX_LABEL_BYTES) return `is longer than ${MAX_LABEL_BYTES} bytes`;
  return null;
}

/**
 * Event type and provider id are shown, routed on and looked up: one that cannot be stored is
 * refused. The de-duplication key is only compared for equality: one that is too long or holds a
 * NUL is replaced by a stable digest of its bytes, so de-duplication keeps working. A key the body
 * alone decides (`bodyDedupe`) is left to the worker: it is a digest, always storable.
 */
export function checkMetadata(
  verdict: {
    readonly eventType: string | null;
    readonly providerId: string | null;
    readonly dedupeKey: string;
  },
  bodyDedupe: readonly BodyDedupeSource[] | null,
): MetadataCheck {
  const typeProblem = verdict.eventType === null ? null : labelProblem(verdict.eventType);
  if (typeProblem)
    return { ok: false, reason: "event_type_invalid", message: `the event type ${typeProblem}` };
  const idProblem = verdict.providerId === null ? null : labelProblem(verdict.providerId);
  if (idProblem)
    return { ok: false, reason: "event_id_invalid", message: `the provider's event id ${idProblem}` };
  if (bodyDedupe !== null) return { ok: true, dedupe: { dedupeFrom: bodyDedupe } };
  return { ok: true, dedupe: { dedupeKey: storableKey(verdict.dedupeKey, MAX_DEDUPE_KEY_BYTES) } };
}
