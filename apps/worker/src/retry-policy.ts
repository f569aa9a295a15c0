import type { ForwardResult } from "./forward";

export type AttemptVerdict =
  | { readonly status: "succeeded" }
  | { readonly status: "retrying"; readonly delayMs: number; readonly reason: string }
  | { readonly status: "failed"; readonly reason: string };

/** 408, 429 and 5xx may succeed later; other non-2xx answers will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The longest Retry-After honoured, so a target cannot park a delivery for ever. */
export const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/**
 * Decides what an attempt's outcome means for the delivery: success, a retry after the
 * schedule's delay (±10% jitter, at least the target's Retry-After), or final failure.
 * `attemptInRun` is 1 for the first attempt; a run makes at most 1 + schedule.length attempts.
 */
export function decide(
  result: ForwardResult,
  attemptInRun: number,
  scheduleMs: readonly number[],
  random: () => number = Math.random,
): AttemptVerdict {
  let reason: string;
  let retryAfterMs: number | null = null;
  if (result.kind === "ack") return { status: "succeeded" };
  if (result.kind === "response") {
    if (result.status >= 200 && result.status < 300) return { status: "succeeded" };
    reason = `HTTP ${result.status}`;
    if (!isRetryableStatus(result.status)) return { status: "failed", reason };
    retryAfterMs = result.retryAfterMs;
  } else {
    reason = result.message;
  }
  const scheduled = scheduleMs[attemptInRun - 1];
  if (scheduled === undefined) return { status: "failed", reason: `${reason}; no attempts left` };
  const jittered = Math.round(scheduled * (0.9 + 0.2 * random()));
  const delayMs = Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  return { status: "retrying", delayMs, reason };
}
