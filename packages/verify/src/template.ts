// `signed_content` templates: literal text around the placeholders {body} {timestamp} {id}
// {url}. Parsed once at createVerifier time. At verify time the text around the body (header
// values and literals, which are strings anyway) is UTF-8 encoded and fed to the hash, then
// the body bytes as received: the body is never turned into a string.
import { Buffer } from "node:buffer";

export type Placeholder = "body" | "timestamp" | "id" | "url";

export type TemplatePart = { readonly literal: string } | { readonly field: Placeholder };

export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  readonly uses: ReadonlySet<Placeholder>;
}

/** The values of one request; header values are strings as Node delivers them. */
export interface TemplateValues {
  readonly body: Uint8Array;
  readonly timestamp: string | null;
  readonly id: string | null;
  readonly url: string | null;
}

/** Something bytes can be fed to (a Hmac; or a collector for Buffer.concat). */
export interface Sink {
  update(data: string | Uint8Array): unknown;
}

const PLACEHOLDERS: ReadonlySet<string> = new Set(["body", "timestamp", "id", "url"]);

export function parseTemplate(source: string): Template | string {
  const parts: TemplatePart[] = [];
  const uses = new Set<Placeholder>();
  let literal = "";
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === "}") return `unexpected "}" at position ${i}`;
    if (ch !== "{") {
      literal += ch;
      continue;
    }
    const end = source.indexOf("}", i + 1);
    if (end === -1) return `unclosed "{" at position ${i}`;
    const name = source.slice(i + 1, end);
    if (!PLACEHOLDERS.has(name)) {
      return `unknown placeholder {${name}}; use {body}, {timestamp}, {id} or {url}`;
    }
    if (literal !== "") parts.push({ literal });
    literal = "";
    parts.push({ field: name as Placeholder });
    uses.add(name as Placeholder);
    i = end;
  }
  if (literal !== "") parts.push({ literal });
  if (!uses.has("body"))
    return "must contain {body}: a signature that does not cover the body proves nothing";
  return { source, parts, uses };
}

/**
 * Feeds the signed content to `sink`: runs of text are joined and UTF-8 encoded in one
 * update, the body is passed as the bytes received. Returns false when a needed value is
 * missing (the caller checked, so this does not happen in practice).
 */
export function feedTemplate(template: Template, values: TemplateValues, sink: Sink): boolean {
  let text = "";
  for (const part of template.parts) {
    if ("literal" in part) {
      text += part.literal;
    } else if (part.field === "body") {
      if (text !== "") sink.update(text);
      text = "";
      sink.update(values.body);
    } else {
      const value = values[part.field];
      if (value === null) return false;
      text += value;
    }
  }
  if (text !== "") sink.update(text);
  return true;
}

/** The whole signed content as one Buffer (for one-shot signature APIs). */
export function renderTemplate(template: Template, values: TemplateValues): Buffer | null {
  const chunks: Uint8Array[] = [];
  const ok = feedTemplate(template, values, {
    update: (data) => chunks.push(typeof data === "string" ? Buffer.from(data, "utf8") : data),
  });
  return ok ? Buffer.concat(chunks) : null;
}
