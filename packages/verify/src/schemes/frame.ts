// The part of hmac, ecdsa and ed25519 that is not cryptography: which header holds the
// signature(s), how they are encoded, which timestamp and id go into the signed content, and
// the tolerance window. Compiled once from the spec; `readFrame` runs per request.

import type { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { decode } from "../bytes.js";
import { getHeader } from "../headers.js";
import type { Template, TemplateValues } from "../template.js";
import { parseTemplate } from "../template.js";
import type { TimestampUnit } from "../timestamp.js";
import { checkTimestamp, formatTimestamp } from "../timestamp.js";
import type { SignatureEncoding, SignInput, VerifyFailure, VerifyRequest, VerifySpec } from "../types.js";
import { MAX_SIGNATURES, readHeaderName, resolveTolerance } from "./common.js";
import type { ErrorSink, HeaderName, InternalSpec, SignatureHeader } from "./types.js";

export interface Frame {
  readonly headers: readonly SignatureHeader[];
  readonly format: "plain" | "stripe";
  readonly encoding: SignatureEncoding;
  readonly template: Template;
  readonly timestampHeader: HeaderName | null;
  readonly timestampUnit: TimestampUnit;
  readonly toleranceSeconds: number | null;
  readonly idHeader: HeaderName | null;
  readonly label: string;
}

export interface FrameOk {
  readonly ok: true;
  readonly header: SignatureHeader;
  readonly signatures: readonly Buffer[];
  readonly values: TemplateValues;
  readonly timestampMs: number | null;
  readonly id: string | null;
}

/** The frame settings a user may set in hmac, ecdsa and ed25519 (hmac adds `algorithm`). */
export const FRAME_FIELDS = [
  "toleranceSeconds",
  "header",
  "encoding",
  "prefix",
  "signedContent",
  "timestampHeader",
  "timestampUnit",
  "idHeader",
] as const satisfies readonly (keyof VerifySpec)[];

const ENCODINGS: ReadonlySet<string> = new Set(["hex", "base64"]);
const UNITS: ReadonlySet<string> = new Set(["s", "ms"]);
const ALGORITHMS: ReadonlySet<string> = new Set(["sha1", "sha256", "sha512"]);

export function compileFrame(
  spec: InternalSpec,
  defaults: { readonly encoding: SignatureEncoding },
  errors: ErrorSink,
): Frame | null {
  let ok = true;
  const fail = (field: string, message: string) => {
    errors.add(field, message);
    ok = false;
  };

  const algorithm = spec.algorithm ?? "sha256";
  if (!ALGORITHMS.has(algorithm)) fail("algorithm", "must be sha1, sha256 or sha512");
  const prefix = spec.prefix ?? "";
  if (typeof prefix !== "string") fail("prefix", "must be a string");

  let headers: readonly SignatureHeader[] = spec.signatureHeaders ?? [];
  if (headers.length === 0) {
    if (spec.header === undefined) fail("header", "is required: the header that carries the signature");
    const h = readHeaderName(spec.header, "header", errors);
    if (h === null) ok = false;
    if (h) headers = [{ ...h, prefix, algorithm }];
  }

  const encoding = spec.encoding ?? defaults.encoding;
  if (!ENCODINGS.has(encoding)) fail("encoding", "must be hex or base64");

  const timestampHeader = readHeaderName(spec.timestampHeader, "timestamp_header", errors);
  if (timestampHeader === null) ok = false;
  const idHeader = readHeaderName(spec.idHeader, "id_header", errors);
  if (idHeader === null) ok = false;
  const timestampUnit = spec.timestampUnit ?? "s";
  if (!UNITS.has(timestampUnit)) fail("timestamp_unit", "must be s or ms");
  else if (spec.timestampUnit !== undefined && !timestampHeader && spec.format !== "stripe") {
    fail("timestamp_unit", "is only meaningful with timestamp_header");
  }

  const format = spec.format ?? "plain";
  const hasTimestamp = format === "stripe" || Boolean(timestampHeader);
  const defaultTemplate = hasTimestamp ? "{timestamp}.{body}" : "{body}";
  let template: Template | null = null;
  if (spec.signedContent !== undefined && typeof spec.signedContent !== "string") {
    fail("signed_content", "must be a string");
  } else {
    const parsed = parseTemplate(spec.signedContent ?? defaultTemplate);
    if (typeof parsed === "string") fail("signed_content", parsed);
    else template = parsed;
  }
  if (template) {
    if (template.uses.has("timestamp") && !hasTimestamp) {
      fail("signed_content", "uses {timestamp} but no timestamp_header is set");
    }
    if (hasTimestamp && !template.uses.has("timestamp")) {
      fail("timestamp_header", "the timestamp is not signed: add {timestamp} to signed_content");
    }
    if (template.uses.has("id") && !idHeader) fail("signed_content", "uses {id} but no id_header is set");
  }
  const toleranceSeconds = resolveTolerance(spec.toleranceSeconds, hasTimestamp, errors);
  if (spec.toleranceSeconds !== undefined && toleranceSeconds === null) ok = false;

  if (!ok || !template || headers.length === 0) return null;
  return {
    headers,
    format,
    encoding: encoding as SignatureEncoding,
    template,
    timestampHeader: timestampHeader ?? null,
    timestampUnit: timestampUnit as TimestampUnit,
    toleranceSeconds,
    idHeader: idHeader ?? null,
    label: spec.label ?? "signature",
  };
}

function malformed(message: string): VerifyFailure {
  return { ok: false, reason: "signature_malformed", message };
}

/** Parses the signature header(s) and the signed values of one request. */
export function readFrame(frame: Frame, request: VerifyRequest, nowMs: number): FrameOk | VerifyFailure {
  const { headers } = request;
  let header: SignatureHeader | undefined;
  let value: string | undefined;
  for (const candidate of frame.headers) {
    value = getHeader(headers, candidate.lower);
    if (value !== undefined) {
      header = candidate;
      break;
    }
  }
  if (header === undefined || value === undefined) {
    return { ok: false, reason: "signature_missing", message: `${frame.headers[0]?.name} header is missing` };
  }

  const signatures: Buffer[] = [];
  let rawTimestamp: string | undefined;
  const entries = value.split(",");
  if (frame.format === "stripe") {
    let sawV1 = false;
    for (const entry of entries) {
      const eq = entry.indexOf("=");
      if (eq === -1) continue;
      const key = entry.slice(0, eq).trim();
      if (key === "t") {
        if (rawTimestamp === undefined) rawTimestamp = entry.slice(eq + 1).trim();
      } else if (key === "v1") {
        sawV1 = true;
        const sig = decode(entry.slice(eq + 1).trim(), frame.encoding);
        if (sig !== null && signatures.push(sig) > MAX_SIGNATURES) break;
      }
    }
    if (!sawV1) return malformed(`${header.name} has no v1= signature`);
    if (signatures.length === 0) return malformed(`${header.name} has no well-formed v1= signature`);
    if (rawTimestamp === undefined) {
      return { ok: false, reason: "timestamp_missing", message: `${header.name} has no t= timestamp` };
    }
  } else {
    for (const entry of entries) {
      let sig = entry.trim();
      if (sig === "") continue;
      if (header.prefix !== "") {
        if (!sig.startsWith(header.prefix)) continue;
        sig = sig.slice(header.prefix.length);
      }
      const bytes = decode(sig, frame.encoding);
      if (bytes !== null && signatures.push(bytes) > MAX_SIGNATURES) break;
    }
    if (signatures.length === 0) {
      const expected =
        header.prefix !== "" ? `"${header.prefix}" followed by ${frame.encoding}` : frame.encoding;
      return malformed(`${header.name} is not ${expected}`);
    }
  }
  if (signatures.length > MAX_SIGNATURES) return malformed(`${header.name} carries too many signatures`);

  let timestampMs: number | null = null;
  if (frame.format === "stripe" || frame.timestampHeader) {
    if (frame.format !== "stripe" && frame.timestampHeader) {
      rawTimestamp = getHeader(headers, frame.timestampHeader.lower);
    }
    const what = frame.format === "stripe" ? `${header.name} t=` : `${frame.timestampHeader?.name} header`;
    const checked = checkTimestamp(rawTimestamp, frame.timestampUnit, frame.toleranceSeconds, nowMs, what);
    if (typeof checked !== "number") return checked;
    timestampMs = checked;
  }

  let id: string | null = null;
  if (frame.idHeader) {
    id = getHeader(headers, frame.idHeader.lower) ?? null;
    if (id === null && frame.template.uses.has("id")) {
      return { ok: false, reason: "id_missing", message: `${frame.idHeader.name} header is missing` };
    }
  }
  let url: string | null = null;
  if (frame.template.uses.has("url")) {
    if (typeof request.url !== "string") {
      return {
        ok: false,
        reason: "signature_mismatch",
        message: "the request URL is unknown, so {url} cannot be rebuilt",
      };
    }
    url = request.url;
  }
  return {
    ok: true,
    header,
    signatures,
    values: {
      body: request.body,
      timestamp: rawTimestamp ?? null,
      id,
      url,
    },
    timestampMs,
    id,
  };
}

export interface SignFrame {
  readonly values: TemplateValues;
  /** Builds the signature header value(s) from the encoded signature. */
  headers(encodedSignature: string): Record<string, string>;
}

/** The values a provider would sign now, and the headers that carry them. */
export function prepareSign(frame: Frame, input: SignInput): SignFrame | string {
  if (frame.template.uses.has("url") && typeof input.url !== "string")
    return "this scheme signs the URL: pass url";
  const timestamp = formatTimestamp(input.nowMs, frame.timestampUnit);
  const hasTimestamp = frame.format === "stripe" || frame.timestampHeader !== null;
  const id = frame.idHeader ? (input.id ?? randomUUID()) : null;
  const header = frame.headers[0];
  if (!header) return "no signature header";
  return {
    values: {
      body: input.body,
      timestamp: hasTimestamp ? timestamp : null,
      id,
      url: typeof input.url === "string" ? input.url : null,
    },
    headers(encodedSignature) {
      const out: Record<string, string> = {};
      if (frame.format === "stripe") {
        out[header.name] = `t=${timestamp},v1=${encodedSignature}`;
      } else {
        out[header.name] = `${header.prefix}${encodedSignature}`;
        if (frame.timestampHeader) out[frame.timestampHeader.name] = timestamp;
      }
      if (frame.idHeader && id !== null) out[frame.idHeader.name] = id;
      return out;
    },
  };
}

export function frameHeaders(frame: Frame): string[] {
  const names = frame.headers.map((h) => h.lower);
  if (frame.timestampHeader) names.push(frame.timestampHeader.lower);
  if (frame.idHeader) names.push(frame.idHeader.lower);
  return names;
}
