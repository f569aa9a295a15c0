import { signStandardWebhooks } from "@hookline/verify";
import { describe, expect, it } from "vitest";
import { type Alert, alertRequest, alertText, destinationLabel } from "./message";

const SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const alert: Alert = {
  type: "delivery.failed",
  targetId: "fraud-service",
  count: 3,
  details: { delivery_id: "dlv_1", reason: "HTTP 500", empty: null },
};
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

describe("alertRequest", () => {
  it("standard-webhooks: the contract's body, signed over exactly those bytes", () => {
    const { body, headers } = alertRequest(
      alert,
      { format: "standard-webhooks", signingSecrets: [SECRET] },
      "alrt_1",
      NOW,
    );
    expect(JSON.parse(body)).toEqual({
      type: "delivery.failed",
      timestamp: "2026-11-28T12:00:00.000Z",
      data: { target_id: "fraud-service", count: 3, delivery_id: "dlv_1", reason: "HTTP 500", empty: null },
    });
    expect(headers["webhook-id"]).toBe("alrt_1");
    expect(headers["webhook-timestamp"]).toBe(String(NOW / 1000));
    expect(headers["webhook-signature"]).toBe(
      signStandardWebhooks([SECRET], "alrt_1", NOW / 1000, Buffer.from(body)),
    );
  });

  it("standard-webhooks without a secret: sent unsigned", () => {
    const { headers } = alertRequest(
      alert,
      { format: "standard-webhooks", signingSecrets: [] },
      "alrt_1",
      NOW,
    );
    expect(headers["webhook-signature"]).toBeUndefined();
  });

  it("slack: one line of text, no Standard Webhooks headers", () => {
    const { body, headers } = alertRequest(alert, { format: "slack", signingSecrets: [] }, "alrt_1", NOW);
    expect(JSON.parse(body)).toEqual({ text: alertText(alert) });
    expect(headers).toEqual({ "content-type": "application/json" });
  });
});

describe("alertText", () => {
  it("names the type, the target, the count and the details that have a value", () => {
    expect(alertText(alert)).toBe(
      "Hookline: delivery.failed for target fraud-service (3 times in the last minute): a delivery failed for good (delivery_id: dlv_1, reason: HTTP 500)",
    );
    expect(alertText({ ...alert, count: 1, details: {} })).toBe(
      "Hookline: delivery.failed for target fraud-service: a delivery failed for good",
    );
  });
});

describe("destinationLabel", () => {
  it("keeps the origin only: a Slack webhook's path is its credential", () => {
    expect(destinationLabel("https://hooks.slack.com/services/T0/B0/secret")).toBe(
      "https://hooks.slack.com/…",
    );
    expect(destinationLabel("https://user:pass@ops.example/alerts")).toBe("https://ops.example/…");
    expect(destinationLabel("not a url")).toBe("(invalid url)");
  });
});
