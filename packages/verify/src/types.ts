// The public types of @hookline/verify. This file is the contract between the verifier
// library and its users (config, gateway, worker, cli): change it only deliberately.

/** Header names lower-cased (as Node gives them); repeated headers joined with ", ". */
export type HeaderMap = Readonly<Record<string, string | undefined>>;

export interface VerifyRequest {
  /** The exact bytes received. Never a re-serialised body. */
  readonly body: Uint8Array;
  readonly headers: HeaderMap;
  /** The full URL as the provider addressed it; only used by `{url}` templates. */
  readonly url?: string;
}

/** Stable reason codes: part of the product, documented in docs/reason-codes.md. */
export type ReasonCode =
  | "signature_missing"
  | "signature_malformed"
  | "signature_mismatch"
  | "timestamp_missing"
  | "timestamp_malformed"
  | "timestamp_out_of_tolerance"
  | "id_missing"
  | "secret_missing"
  | "secret_mismatch"
  | "credentials_missing"
  | "credentials_malformed"
  | "credentials_mismatch";

export type VerifyFailure = {
  readonly ok: false;
  readonly reason: ReasonCode;
  /** Human-readable, never contains a secret or an expected signature. */
  readonly message: string;
  /** For timestamp_out_of_tolerance: received minus now, in seconds (negative = past). */
  readonly skewSeconds?: number;
};

export type VerifySuccess = {
  readonly ok: true;
  /** From the preset's or the configured event-type location; null when absent. */
  readonly eventType: string | null;
  /**
   * Never empty: the configured/preset key, or `body:<sha256 hex>` as the last resort.
   * Computed on first read.
   */
  readonly dedupeKey: string;
  /** The provider's own delivery/event id when the scheme has one (webhook-id, X-GitHub-Delivery...). */
  readonly providerId: string | null;
  /** The signed timestamp, in ms since epoch, when the scheme has one. */
  readonly timestampMs: number | null;
};

export type VerifyResult = VerifySuccess | VerifyFailure;

/** Where the event type lives. */
export type EventTypeSpec = { readonly header: string } | { readonly json: string };

/** A compiled de-duplication source that reads the body alone: JSON paths whose values form the key, or the body's hash. */
export type BodyDedupeSource = { readonly paths: readonly (readonly string[])[] } | "body";

/** How to de-duplicate: a header, JSON paths (dotted) whose values together form the key, or the body hash. */
export type DedupeKeySpec = { readonly header: string } | { readonly json: readonly string[] } | "body";

export type HmacAlgorithm = "sha1" | "sha256" | "sha512";
export type SignatureEncoding = "hex" | "base64";

/**
 * A source's verification settings, already parsed from YAML (durations in seconds, snake_case
 * turned to camelCase). Every field but `scheme` is optional; presets fill their defaults.
 */
export interface VerifySpec {
  readonly scheme: string;
  /** Several = rotation: any may match. Secret strings as configured (e.g. `whsec_...`). */
  readonly secrets?: readonly string[];
  /** Timestamp window in seconds, applied to the past and the future. */
  readonly toleranceSeconds?: number;
  /** PEM (SPKI) public key, or for ed25519 also a raw base64 32-byte key / `whpk_...`. */
  readonly publicKey?: string;
  readonly header?: string;
  readonly algorithm?: HmacAlgorithm;
  readonly encoding?: SignatureEncoding;
  readonly prefix?: string;
  /** Template over {body} {timestamp} {id} {url}. */
  readonly signedContent?: string;
  readonly timestampHeader?: string;
  readonly timestampUnit?: "s" | "ms";
  readonly idHeader?: string;
}

export interface SourceSpec {
  readonly verify: VerifySpec;
  readonly eventType?: EventTypeSpec;
  readonly dedupeKey?: DedupeKeySpec;
}

/** A configuration error, with a path relative to the SourceSpec (e.g. `verify.secrets[1]`). */
export interface SpecError {
  readonly path: string;
  readonly message: string;
}

export interface Verifier {
  readonly scheme: string;
  /** Pure: never throws, never does I/O; `nowMs` is the injected clock. */
  verify(request: VerifyRequest, nowMs: number): VerifyResult;
  /** Lower-cased names of headers whose values are secrets (bearer, basic, shared-secret, X-Clarion-Secret): redact them before storing or logging. */
  readonly secretHeaders: readonly string[];
  /**
   * Lower-cased names of headers that carry a signature. Stored in full, a signature lets anyone
   * who can read it re-post the body (GitHub's delivery id is not signed): keep a prefix only.
   */
  readonly signatureHeaders: readonly string[];
  /** Lower-cased names of the headers that matter for this scheme (signature, timestamp, id, event type): kept with the event. */
  readonly relevantHeaders: readonly string[];
  /**
   * The de-duplication chain when it reads the body alone (no header takes part), else null.
   * The key is then `dedupeKeyOfBody(body, bodyDedupe)` wherever it is computed: the gateway
   * hands it to the worker instead of parsing and hashing on the ingest path.
   */
  readonly bodyDedupe: readonly BodyDedupeSource[] | null;
}

export type CreateVerifierResult =
  | { readonly ok: true; readonly verifier: Verifier }
  | { readonly ok: false; readonly errors: readonly SpecError[] };

export interface SignInput {
  readonly body: Uint8Array;
  readonly nowMs: number;
  /** Event type to place where the scheme's event-type header goes (if it has one). */
  readonly eventType?: string;
  /** Provider delivery id, generated when the scheme needs one and none is given. */
  readonly id?: string;
  readonly url?: string;
  /** For asymmetric schemes: PEM PKCS8 private key (or `whsk_...` for Standard Webhooks v1a). */
  readonly privateKey?: string;
}

export type SignResult =
  | { readonly ok: true; readonly headers: Record<string, string> }
  | { readonly ok: false; readonly message: string };
