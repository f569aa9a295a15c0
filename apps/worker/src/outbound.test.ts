import type { TargetConfig } from "@hookline/config";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "./forward";
import { outboundHeaders } from "./outbound";

const target = (signingSecrets: string[]): TargetConfig => ({
  id: "t",
  destination: { kind: "http" },
  url: "http://127.0.0.1:1/x",
  timeoutMs: 1000,
  connectTimeoutMs: 1000,
  retryScheduleMs: [],
  rateLimit: null,
  concurrency: 1,
  signingSecrets,
  headers: { Authorization: "Bearer abc", "X-Team": "fraud" },
  circuitBreaker: { failureThreshold: 5, cooldownMs: 1000 },
  tls: null,
});
const event = {
  eventId: "evt_1",
  sourceId: "clausum",
  eventType: "fraud.detected\r\nX-Injected: 1",
  contentType: "application/json",
  body: Buffer.from('{"a":1}'),
  attemptNumber: 2,
};
const A = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const B = "whsec_9k1bGDpB0dhVDEh/Dq+yzPV8VVjV4Rz6RrhPxk0LwS4=";

describe("outboundHeaders", () => {
  it("adds Hookline's headers over the target's own and signs with every secret", () => {
    const h = outboundHeaders(target([A, B]), event, 1_700_000_000_123);
    expect(h.authorization).toBe("Bearer abc");
    expect(h["x-team"]).toBe("fraud");
    expect(h["webhook-id"]).toBe("evt_1");
    expect(h["webhook-timestamp"]).toBe("1700000000");
    expect(h["hookline-attempt"]).toBe("2");
    expect(h["hookline-event-type"]).toBe("fraud.detected??X-Injected: 1");
    expect(h["webhook-signature"]?.split(" ")).toHaveLength(2);
  });
  it("signs so that each secret alone verifies (the consumer rotates at its own pace)", () => {
    const h = outboundHeaders(target([A, B]), event, Date.now());
    const headers = {
      "webhook-id": h["webhook-id"] ?? "",
      "webhook-timestamp": h["webhook-timestamp"] ?? "",
      "webhook-signature": h["webhook-signature"] ?? "",
    };
    for (const secret of [A, B])
      expect(() => new Webhook(secret).verify(event.body.toString(), headers)).not.toThrow();
    expect(() => new Webhook(B).verify('{"a":2}', headers)).toThrow();
  });
  it("sends no signature without a signing secret", () => {
    expect(outboundHeaders(target([]), event, 0)["webhook-signature"]).toBeUndefined();
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("120", 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 0)).toBe(10_000);
    expect(parseRetryAfter("soon", 0)).toBeNull();
    expect(parseRetryAfter(undefined, 0)).toBeNull();
  });
});
