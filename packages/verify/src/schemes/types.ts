// Internal interfaces between the registry, the presets and the scheme files.
import type {
  HmacAlgorithm,
  SignInput,
  SignResult,
  VerifyFailure,
  VerifyRequest,
  VerifySpec,
} from "../types.js";

/** A header name as the provider spells it, and the lower-cased form used for look-ups. */
export interface HeaderName {
  readonly name: string;
  readonly lower: string;
}

export function headerName(name: string): HeaderName {
  return { name, lower: name.toLowerCase() };
}

/** A signature header, with the algorithm and prefix of what it carries (GitHub has two). */
export interface SignatureHeader extends HeaderName {
  readonly prefix: string;
  readonly algorithm: HmacAlgorithm;
}

/**
 * A verify block with the preset's defaults merged in, plus settings only presets can make
 * (the YAML cannot reach them).
 */
export interface InternalSpec extends VerifySpec {
  /** Several signature headers in order of preference: the first present one is used. */
  readonly signatureHeaders?: readonly SignatureHeader[];
  /** `plain`: the header holds signatures; `stripe`: `t=<ts>,v1=<sig>[,v1=...]`. */
  readonly format?: "plain" | "stripe";
  /** Clarion: an optional header carrying a shared secret, checked when secrets are configured. */
  readonly secretHeader?: HeaderName;
  /** Standard Webhooks: header prefixes in order of preference (`svix-` before `webhook-`). */
  readonly headerPrefixes?: readonly string[];
  /** Extra per-secret validation (e.g. Stripe: not an API key). */
  readonly checkSecret?: (secret: string) => string | null;
  /** Human name used in messages ("Clausum signature"). */
  readonly label?: string;
}

/** Collects configuration errors; `field` is relative to `verify` (e.g. `secrets[0]`). */
export interface ErrorSink {
  add(field: string, message: string): void;
}

export type CheckResult =
  | { readonly ok: true; readonly timestampMs: number | null; readonly id: string | null }
  | VerifyFailure;

export interface CompiledScheme {
  /** Authenticates the request. Must not throw. */
  check(request: VerifyRequest, nowMs: number): CheckResult;
  /** The authentication headers the provider would send (display-cased names). */
  sign(input: SignInput): SignResult;
  readonly relevantHeaders: readonly string[];
  readonly secretHeaders: readonly string[];
  /** Headers that carry a signature: stored only as a short prefix. */
  readonly signatureHeaders: readonly string[];
}

export interface SchemeDefinition {
  readonly name: string;
  /** VerifySpec fields a user may set for this scheme (camelCase). */
  readonly fields: readonly (keyof VerifySpec)[];
  /** Returns null after adding at least one error. */
  compile(spec: InternalSpec, errors: ErrorSink): CompiledScheme | null;
}
