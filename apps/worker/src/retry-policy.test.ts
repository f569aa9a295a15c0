import { describe, expect, it } from "vitest";
import type { ForwardResult } from "./forward";
import { decide, isRetryableStatus } from "./retry-policy";

const response = (status: number, retryAfterMs: number | null = null): ForwardResult => ({
  kind: "response",
  status,
  bodyExcerpt: "",
  retryAfterMs,
  durationMs: 1,
});
const schedule = [60_000, 300_000];
const mid = () => 0.5; // no jitter

describe("decide", () => {
  it("succeeds on any 2xx", () => {
    for (const s of [200, 201, 202, 204, 299])
      expect(decide(response(s), 1, schedule, mid).status).toBe("succeeded");
  });
  it("retries 408, 429 and 5xx on the schedule, then fails", () => {
    for (const s of [408, 429, 500, 502, 503, 504]) {
      expect(decide(response(s), 1, schedule, mid)).toEqual({
        status: "retrying",
        delayMs: 60_000,
        reason: `HTTP ${s}`,
      });
      expect(decide(response(s), 2, schedule, mid)).toMatchObject({ status: "retrying", delayMs: 300_000 });
      expect(decide(response(s), 3, schedule, mid)).toMatchObject({ status: "failed" });
    }
  });
  it("fails other 4xx and 3xx at once (redirects are not followed)", () => {
    for (const s of [301, 302, 400, 401, 403, 404, 410, 422]) {
      expect(decide(response(s), 1, schedule, mid)).toEqual({ status: "failed", reason: `HTTP ${s}` });
    }
  });
  it("retries timeouts and connection errors", () => {
    const err: ForwardResult = {
      kind: "error",
      code: "timeout",
      message: "timeout after 10 ms",
      durationMs: 10,
    };
    expect(decide(err, 1, schedule, mid)).toEqual({
      status: "retrying",
      delayMs: 60_000,
      reason: "timeout after 10 ms",
    });
  });
  it("jitters within ±10%", () => {
    expect(decide(response(500), 1, schedule, () => 0)).toMatchObject({ delayMs: 54_000 });
    expect(decide(response(500), 1, schedule, () => 1)).toMatchObject({ delayMs: 66_000 });
  });
  it("waits at least Retry-After, capped at a day", () => {
    expect(decide(response(429, 600_000), 1, schedule, mid)).toMatchObject({ delayMs: 600_000 });
    expect(decide(response(503, 1_000), 1, schedule, mid)).toMatchObject({ delayMs: 60_000 });
    expect(decide(response(503, 10 * 86_400_000), 1, schedule, mid)).toMatchObject({ delayMs: 86_400_000 });
  });
  it("makes exactly one attempt with an empty schedule", () => {
    expect(decide(response(500), 1, [], mid).status).toBe("failed");
  });
  it("classifies statuses", () => {
    expect(isRetryableStatus(500)).toBe(true);
    expect(isRetryableStatus(404)).toBe(false);
  });
});
