import type { VerifyFailure } from "./types.js";

export type TimestampUnit = "s" | "ms";

const DIGITS = /^\d{1,16}$/;

/** Milliseconds since epoch, or null when the value is not a plain non-negative integer. */
export function parseTimestamp(value: string, unit: TimestampUnit): number | null {
  if (!DIGITS.test(value)) return null;
  const n = Number(value);
  return unit === "s" ? n * 1000 : n;
}

export function formatTimestamp(nowMs: number, unit: TimestampUnit): string {
  return String(unit === "s" ? Math.floor(nowMs / 1000) : Math.floor(nowMs));
}

/**
 * Reads a signed timestamp and applies a symmetric window. Returns the timestamp in ms or a
 * failure (`timestamp_missing`, `timestamp_malformed`, `timestamp_out_of_tolerance`).
 */
export function checkTimestamp(
  raw: string | undefined,
  unit: TimestampUnit,
  toleranceSeconds: number | null,
  nowMs: number,
  what: string,
): number | VerifyFailure {
  if (raw === undefined) {
    return { ok: false, reason: "timestamp_missing", message: `${what} is missing` };
  }
  const ms = parseTimestamp(raw, unit);
  if (ms === null) {
    return {
      ok: false,
      reason: "timestamp_malformed",
      message: `${what} is not an integer number of ${unit === "s" ? "seconds" : "milliseconds"}`,
    };
  }
  if (toleranceSeconds !== null) {
    const skewSeconds = (ms - nowMs) / 1000;
    // Written so that a NaN clock fails too.
    if (!(Math.abs(skewSeconds) <= toleranceSeconds)) {
      const rounded = Math.round(Math.abs(skewSeconds));
      return {
        ok: false,
        reason: "timestamp_out_of_tolerance",
        message: `${what} is ${rounded}s in the ${skewSeconds < 0 ? "past" : "future"}; tolerance is ${toleranceSeconds}s`,
        skewSeconds,
      };
    }
  }
  return ms;
}
