// createVerifier and signRequest: resolve a preset or generic scheme, validate the spec once,
// and wrap the compiled scheme with event-type, de-duplication and provider-id extraction.
import type { DedupeSource, ValueSource } from "./extract.js";
import { BodyView, bodyOnly, compileDedupe, compileEventType, dedupeKey, firstString } from "./extract.js";
import type { Preset } from "./presets.js";
import { PRESETS } from "./presets.js";
import { GENERIC_SCHEME_NAMES, SCHEME_NAMES, SCHEMES } from "./registry.js";
import type { CompiledScheme, InternalSpec } from "./schemes/types.js";
import type {
  CreateVerifierResult,
  SignInput,
  SignResult,
  SourceSpec,
  SpecError,
  VerifyFailure,
  VerifyRequest,
  VerifyResult,
  VerifySpec,
} from "./types.js";

/** VerifySpec fields and their YAML (snake_case) names, used in error paths. */
const FIELD_NAMES: Readonly<Record<Exclude<keyof VerifySpec, "scheme">, string>> = {
  secrets: "secrets",
  toleranceSeconds: "tolerance",
  publicKey: "public_key",
  header: "header",
  algorithm: "algorithm",
  encoding: "encoding",
  prefix: "prefix",
  signedContent: "signed_content",
  timestampHeader: "timestamp_header",
  timestampUnit: "timestamp_unit",
  idHeader: "id_header",
};

interface Compiled {
  readonly scheme: string;
  readonly preset: Preset | null;
  readonly core: CompiledScheme;
  readonly eventType: readonly ValueSource[];
  readonly dedupe: readonly DedupeSource[];
  readonly providerId: readonly ValueSource[];
  readonly eventTypeSignHeader: string | null;
  readonly relevantHeaders: readonly string[];
}

function compile(spec: SourceSpec, errors: SpecError[]): Compiled | null {
  if (typeof spec !== "object" || spec === null || typeof spec.verify !== "object" || spec.verify === null) {
    errors.push({ path: "verify", message: "is required" });
    return null;
  }
  const verify = spec.verify;
  const scheme = verify.scheme;
  const preset = typeof scheme === "string" ? (PRESETS.get(scheme) ?? null) : null;
  const definition = preset
    ? SCHEMES.get(preset.scheme)
    : typeof scheme === "string" && GENERIC_SCHEME_NAMES.includes(scheme)
      ? SCHEMES.get(scheme)
      : undefined;
  if (typeof scheme !== "string" || !definition) {
    errors.push({
      path: "verify.scheme",
      message: `${typeof scheme === "string" ? `unknown scheme "${scheme}"` : "is required"}; expected one of ${SCHEME_NAMES.join(", ")}`,
    });
    return null;
  }

  const allowed: readonly string[] = preset ? preset.fields : definition.fields;
  const merged: Record<string, unknown> = { ...preset?.defaults, scheme };
  for (const key of Object.keys(verify)) {
    if (key === "scheme") continue;
    const value = (verify as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (!Object.hasOwn(FIELD_NAMES, key)) {
      errors.push({ path: `verify.${key}`, message: "is not a known setting" });
    } else if (!allowed.includes(key)) {
      const field = FIELD_NAMES[key as keyof typeof FIELD_NAMES];
      errors.push({
        path: `verify.${field}`,
        message: preset
          ? `is fixed by the ${scheme} preset; use a generic scheme (hmac, ecdsa, ed25519) to customise it`
          : `is not used by the ${scheme} scheme`,
      });
    } else {
      merged[key] = value;
    }
  }
  const core = definition.compile(merged as unknown as InternalSpec, {
    add: (field, message) => errors.push({ path: `verify.${field}`, message }),
  });

  let eventType: readonly ValueSource[] = preset?.eventType ?? [];
  let eventTypeSignHeader = preset?.eventTypeHeader?.name ?? null;
  if (spec.eventType !== undefined) {
    const compiled = compileEventType(spec.eventType);
    if ("error" in compiled) errors.push({ path: "event_type", message: compiled.error });
    else {
      eventType = [compiled];
      eventTypeSignHeader = "header" in spec.eventType ? spec.eventType.header : null;
    }
  }

  const idHeader = !preset && typeof verify.idHeader === "string" ? verify.idHeader.toLowerCase() : null;
  let dedupe: readonly DedupeSource[] = preset?.dedupe ?? (idHeader ? [{ header: idHeader }] : ["body"]);
  if (spec.dedupeKey !== undefined) {
    const compiled = compileDedupe(spec.dedupeKey);
    if (typeof compiled === "object" && "error" in compiled)
      errors.push({ path: "dedupe.key", message: compiled.error });
    else dedupe = [compiled];
  }

  if (!core || errors.length > 0) return null;
  const providerId = preset?.providerId ?? [];
  const relevant = new Set<string>(core.relevantHeaders);
  for (const source of [...eventType, ...providerId, ...dedupe]) {
    if (typeof source === "object" && "header" in source) relevant.add(source.header);
  }
  for (const name of preset?.relevantHeaders ?? []) relevant.add(name);
  return {
    scheme,
    preset,
    core,
    eventType,
    dedupe,
    providerId,
    eventTypeSignHeader,
    relevantHeaders: [...relevant],
  };
}

const UNVERIFIABLE: VerifyFailure = {
  ok: false,
  reason: "signature_malformed",
  message: "the request could not be verified",
};

function isRequest(request: VerifyRequest): boolean {
  return (
    typeof request === "object" &&
    request !== null &&
    request.body instanceof Uint8Array &&
    typeof request.headers === "object" &&
    request.headers !== null
  );
}

/**
 * Validates a source's verify settings once and returns a Verifier, or every configuration
 * error with its path relative to the source entry (YAML names: `verify.public_key`).
 */
export function createVerifier(spec: SourceSpec): CreateVerifierResult {
  const errors: SpecError[] = [];
  let compiled: Compiled | null;
  try {
    compiled = compile(spec, errors);
  } catch {
    // Defensive: compile validates before it builds, so this is not expected to happen.
    return { ok: false, errors: [...errors, { path: "verify", message: "is invalid" }] };
  }
  if (!compiled) return { ok: false, errors };
  const { core, eventType, dedupe, providerId } = compiled;
  const bodyDedupe = bodyOnly(dedupe);

  return {
    ok: true,
    verifier: {
      scheme: compiled.scheme,
      secretHeaders: core.secretHeaders,
      signatureHeaders: core.signatureHeaders,
      relevantHeaders: compiled.relevantHeaders,
      bodyDedupe,
      verify(request: VerifyRequest, nowMs: number): VerifyResult {
        try {
          if (!isRequest(request)) return UNVERIFIABLE;
          const checked = core.check(request, nowMs);
          if (!checked.ok) return checked;
          const view = new BodyView(request.body, request.headers);
          let key: string | undefined;
          return {
            ok: true,
            eventType: firstString(view, eventType),
            // Computed when first read: a caller that hands a body-only key to the worker
            // (bodyDedupe) never pays for the JSON parse and hash here.
            get dedupeKey() {
              key ??= dedupeKey(view, dedupe);
              return key;
            },
            providerId: checked.id ?? firstString(view, providerId),
            timestampMs: checked.timestampMs,
          };
        } catch {
          // Last resort: the schemes validate their input and are not expected to throw.
          return UNVERIFIABLE;
        }
      },
    },
  };
}

/**
 * Produces the headers the source's provider would send for `input.body`: signature,
 * timestamp, delivery id and event type, signed with the first configured secret (or
 * `input.privateKey` for asymmetric schemes). For `hookline send` and tests.
 */
export function signRequest(spec: SourceSpec, input: SignInput): SignResult {
  try {
    const errors: SpecError[] = [];
    const compiled = compile(spec, errors);
    if (!compiled) return { ok: false, message: errors.map((e) => `${e.path}: ${e.message}`).join("; ") };
    if (!(input.body instanceof Uint8Array) || !Number.isFinite(input.nowMs)) {
      return { ok: false, message: "input needs body (Uint8Array) and nowMs (number)" };
    }
    const signed = compiled.core.sign(input);
    if (!signed.ok) return signed;
    const headers: Record<string, string> = { ...signed.headers };
    if (input.eventType !== undefined && compiled.eventTypeSignHeader) {
      headers[compiled.eventTypeSignHeader] = input.eventType;
    }
    if (compiled.preset?.extraHeaders) {
      Object.assign(headers, compiled.preset.extraHeaders(input, spec.verify.secrets?.[0]));
    }
    return { ok: true, headers };
  } catch {
    return { ok: false, message: "signing failed" };
  }
}
