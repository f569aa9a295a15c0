// How values are written on the pages: times in UTC with a relative hint, sizes, durations, and
// the two views of a body (pretty and exact bytes).

import type { Redactor } from "@hookline/redact";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `2026-05-29 18:30:05` (UTC). */
export function utc(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}`;
}

/** `18:30:05.123` (UTC): attempts within one delivery are often seconds apart. */
export function utcTime(d: Date): string {
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** `just now`, `42s ago`, `5m ago`, `3h ago`, `2d ago`; `in 30s` for the future. */
export function relative(d: Date, nowMs: number): string {
  const diff = nowMs - d.getTime();
  const abs = Math.abs(diff);
  if (abs < 1_000) return "just now";
  let text: string;
  if (abs < 60_000) text = `${Math.floor(abs / 1_000)}s`;
  else if (abs < 3_600_000) text = `${Math.floor(abs / 60_000)}m`;
  else if (abs < 86_400_000) text = `${Math.floor(abs / 3_600_000)}h`;
  else text = `${Math.floor(abs / 86_400_000)}d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function duration(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1_000) return `${ms} ms`;
  return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** Cuts `text` to `max` characters; says how much was left out. */
export function clip(text: string, max: number): { readonly text: string; readonly cut: number } {
  return text.length <= max ? { text, cut: 0 } : { text: text.slice(0, max), cut: text.length - max };
}

/** The body as indented JSON when it is JSON, as text when it is UTF-8 text, else null. */
export function prettyBody(body: Buffer): { readonly kind: "json" | "text"; readonly text: string } | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return null;
  }
  try {
    return { kind: "json", text: JSON.stringify(JSON.parse(text), null, 2) };
  } catch {
    return { kind: "text", text };
  }
}

/** A run of body text, or one byte or control character written as an escape (`\r`, `\x00`). */
export type Segment = { readonly text: string; readonly escape: boolean };

const NAMED_ESCAPES: Readonly<Record<number, string>> = { 9: "\\t", 13: "\\r", 0: "\\0" };

/**
 * The exact bytes, readable: valid UTF-8 shown as text (line breaks kept), every other control
 * character and every byte that is not valid UTF-8 shown as an escape.
 */
export function exactSegments(body: Buffer, limit: number): Segment[] {
  const view = body.subarray(0, limit);
  const out: Segment[] = [];
  let run = "";
  const flush = () => {
    if (run) out.push({ text: run, escape: false });
    run = "";
  };
  const escaped = (text: string) => {
    flush();
    out.push({ text, escape: true });
  };
  let i = 0;
  while (i < view.length) {
    const b = view[i] ?? 0;
    if (b === 0x0a) {
      run += "\n";
      i++;
      continue;
    }
    if (b < 0x20 || b === 0x7f) {
      escaped(NAMED_ESCAPES[b] ?? `\\x${b.toString(16).padStart(2, "0")}`);
      i++;
      continue;
    }
    if (b < 0x80) {
      run += String.fromCharCode(b);
      i++;
      continue;
    }
    const length = b >= 0xf0 && b < 0xf8 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
    const char = length && i + length <= view.length ? decodeOne(view.subarray(i, i + length)) : null;
    if (char === null) {
      escaped(`\\x${b.toString(16).padStart(2, "0")}`);
      i++;
    } else {
      run += char;
      i += length;
    }
  }
  flush();
  return out;
}

function decodeOne(bytes: Buffer): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** A classic hex dump: offset, 16 bytes in hex, the same bytes as ASCII. */
export function hexDump(body: Buffer, limit: number): string {
  const lines: string[] = [];
  const view = body.subarray(0, limit);
  for (let offset = 0; offset < view.length; offset += 16) {
    const row = view.subarray(offset, offset + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, "0"));
    const left = hex.slice(0, 8).join(" ");
    const right = hex.slice(8).join(" ");
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(
      `${offset.toString(16).padStart(8, "0")}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`,
    );
  }
  return lines.join("\n");
}

/** The three views of a body the event page shows, each cut to its limit. */
export interface BodyViews {
  readonly pretty: ReturnType<typeof prettyBody>;
  readonly segments: ReturnType<typeof exactSegments>;
  readonly hex: string;
}

/**
 * Every view is built from the redacted bytes: redacting after formatting misses a secret that
 * a view splits (a hex dump's rows, an escaped byte).
 */
export function bodyViews(
  raw: Buffer,
  redactor: Pick<Redactor, "bytes">,
  limits: { readonly exact: number; readonly hex: number },
): BodyViews {
  const body = redactor.bytes(raw);
  return {
    pretty: prettyBody(body),
    segments: exactSegments(body, limits.exact),
    hex: hexDump(body, limits.hex),
  };
}
