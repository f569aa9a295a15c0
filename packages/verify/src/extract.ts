// Event type, de-duplication key and provider id: read after a request verified. Pure; a body
// that is not JSON simply yields nothing from JSON locations (never a throw).
import { asBuffer, sha256Hex } from "./bytes.js";
import { getHeader, isHeaderName } from "./headers.js";
import type { BodyDedupeSource, DedupeKeySpec, EventTypeSpec, HeaderMap } from "./types.js";

/** Where one value lives: a lower-cased header, or a dotted JSON path split into segments. */
export type ValueSource = { readonly header: string } | { readonly path: readonly string[] };

/** A de-duplication key candidate: a header, several JSON paths, or the body hash. */
export type DedupeSource = { readonly header: string } | BodyDedupeSource;

export interface ExtractPlan {
  readonly eventType: readonly ValueSource[];
  readonly dedupe: readonly DedupeSource[];
  readonly providerId: readonly ValueSource[];
}

const UNPARSED = Symbol("unparsed");
const NOT_JSON = Symbol("not-json");

/** Lazily parses the body as JSON, at most once per request. */
export class BodyView {
  private json: unknown = UNPARSED;
  /**
   * `parse`: the body's JSON as someone else already parses it (undefined: not JSON), so it is
   * parsed once; by default the view parses it itself.
   */
  constructor(
    readonly body: Uint8Array,
    readonly headers: HeaderMap,
    private readonly parse?: () => unknown,
  ) {}

  parsed(): unknown {
    if (this.json === UNPARSED) {
      if (this.parse) {
        const value = this.parse();
        this.json = value === undefined ? NOT_JSON : value;
        return this.json;
      }
      try {
        this.json = JSON.parse(asBuffer(this.body).toString("utf8"));
      } catch {
        // Not JSON (or nested too deeply to parse): JSON locations are simply absent.
        this.json = NOT_JSON;
      }
    }
    return this.json;
  }

  /** The value at a JSON path; undefined when absent or when the body is not JSON. */
  at(path: readonly string[]): unknown {
    let node = this.parsed();
    if (node === NOT_JSON) return undefined;
    for (const segment of path) {
      if (typeof node !== "object" || node === null || !Object.hasOwn(node, segment)) return undefined;
      node = (node as Record<string, unknown>)[segment];
    }
    return node;
  }

  string(source: ValueSource): string | null {
    if ("header" in source) {
      const value = getHeader(this.headers, source.header);
      return value === undefined || value === "" ? null : value;
    }
    const value = this.at(source.path);
    return typeof value === "string" && value !== "" ? value : null;
  }
}

export function firstString(view: BodyView, sources: readonly ValueSource[]): string | null {
  for (const source of sources) {
    const value = view.string(source);
    if (value !== null) return value;
  }
  return null;
}

export function bodyKey(body: Uint8Array): string {
  return `body:${sha256Hex(body)}`;
}

/** The chain when no header takes part: the key is then a function of the body alone. */
export function bodyOnly(sources: readonly DedupeSource[]): readonly BodyDedupeSource[] | null {
  return sources.every((s): s is BodyDedupeSource => s === "body" || !("header" in s)) ? sources : null;
}

/**
 * The key `dedupeKey` gives for a body-only chain, from the body's bytes alone. `json`: the
 * body already parsed by the caller (undefined when it is not JSON), to parse it once.
 */
export function dedupeKeyOfBody(
  body: Uint8Array,
  sources: readonly BodyDedupeSource[],
  json?: () => unknown,
): string {
  return dedupeKey(new BodyView(body, {}, json), sources);
}

/**
 * `<header value>`, `json:<sha256 of the JSON array of values>` or `body:<sha256>`. Never
 * throws: values nested too deeply to serialise again (JSON.parse takes deeper nesting than
 * JSON.stringify gives back) fall back to the body's hash, the same wherever it is computed.
 */
export function dedupeKey(view: BodyView, sources: readonly DedupeSource[]): string {
  for (const source of sources) {
    if (source === "body") break;
    if ("header" in source) {
      const value = getHeader(view.headers, source.header);
      if (value !== undefined && value !== "") return value;
      continue;
    }
    const values = source.paths.map((path) => view.at(path));
    if (values.some((v) => v !== undefined)) {
      const text = serialised(values.map((v) => (v === undefined ? null : v)));
      return text === null ? bodyKey(view.body) : `json:${sha256Hex(text)}`;
    }
  }
  return bodyKey(view.body);
}

function serialised(values: unknown[]): string | null {
  try {
    return JSON.stringify(values);
  } catch {
    return null; // RangeError: nested deeper than the stack allows
  }
}

function splitPath(path: string): string[] | null {
  const segments = path.split(".");
  return segments.every((s) => s !== "") ? segments : null;
}

export interface Invalid {
  readonly error: string;
}

/** Validates a configured event-type location. */
export function compileEventType(spec: EventTypeSpec): ValueSource | Invalid {
  if (typeof spec !== "object" || spec === null)
    return { error: "must be { header: NAME } or { json: PATH }" };
  if ("header" in spec) {
    return typeof spec.header === "string" && isHeaderName(spec.header)
      ? { header: spec.header.toLowerCase() }
      : { error: "header must be an HTTP header name" };
  }
  if ("json" in spec) {
    const path = typeof spec.json === "string" ? splitPath(spec.json) : null;
    return path ? { path } : { error: 'json must be a dotted path such as "type" or "data.kind"' };
  }
  return { error: "must be { header: NAME } or { json: PATH }" };
}

/** Validates a configured de-duplication key. */
export function compileDedupe(spec: DedupeKeySpec): DedupeSource | Invalid {
  if (spec === "body") return "body";
  if (typeof spec !== "object" || spec === null) {
    return { error: "must be body, { header: NAME } or { json: [PATH, ...] }" };
  }
  if ("header" in spec) {
    return typeof spec.header === "string" && isHeaderName(spec.header)
      ? { header: spec.header.toLowerCase() }
      : { error: "header must be an HTTP header name" };
  }
  if ("json" in spec && Array.isArray(spec.json) && spec.json.length > 0) {
    const paths = spec.json.map((p: unknown) => (typeof p === "string" ? splitPath(p) : null));
    if (paths.every((p): p is string[] => p !== null)) return { paths };
  }
  return { error: 'json must be a non-empty list of dotted paths, e.g. ["event", "data.id"]' };
}
