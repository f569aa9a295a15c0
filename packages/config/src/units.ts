// Human-readable units used throughout hookline.yaml: durations, byte sizes and rate limits.
// Each parser returns null on anything it does not fully understand; callers name the path.
import type { RateLimit } from "./types.js";

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses `200ms`, `2s`, `5m`, `72h`, `30d`, decimals (`1.5h`) and compounds (`1h30m`) into
 * milliseconds. A unit is required, except for a bare `0`. Returns null when invalid.
 */
export function parseDuration(text: string): number | null {
  const input = text.trim();
  if (input === "0") return 0;
  if (input === "") return null;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < input.length) {
    const match = DURATION_PART.exec(input);
    if (match === null) return null;
    const amount = Number(match[1]);
    const unit = DURATION_UNITS_MS[match[2] ?? ""];
    if (unit === undefined || !Number.isFinite(amount)) return null;
    total += amount * unit;
  }
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : null;
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses `100b`, `512kb`, `1mb`, `1gb` (binary multiples, case-insensitive; `kib`/`mib`/`gib`
 * accepted as synonyms) or a plain integer number of bytes. Returns null when invalid.
 */
export function parseByteSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (match === null) return null;
  const amountText = match[1] ?? "";
  const unitText = (match[2] ?? "").toLowerCase();
  const unit = BYTE_UNITS[unitText];
  if (unit === undefined) return null;
  if (unit === 1 && amountText.includes(".")) return null; // fractional bytes
  const bytes = Math.floor(Number(amountText) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/**
 * Parses `50/s`, `1000/m`, `10/h`, `5/d`, or a count per any duration (`100/10s`).
 * The count must be a positive integer and the window longer than zero.
 */
export function parseRateLimit(text: string): RateLimit | null {
  const match = /^(\d+)\s*\/\s*(\S+)$/.exec(text.trim());
  if (match === null) return null;
  const max = Number(match[1]);
  const per = match[2] ?? "";
  const durationMs = parseDuration(/^\d/.test(per) ? per : `1${per}`);
  if (!Number.isSafeInteger(max) || max < 1 || durationMs === null || durationMs <= 0) return null;
  return { max, durationMs };
}
