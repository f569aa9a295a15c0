import { randomUUID } from "node:crypto";

/** A sample body shaped like the provider's own events, for `hookline send`. */
export function samplePayload(scheme: string, eventType: string, data: unknown, nowMs: number): string {
  const iso = new Date(nowMs).toISOString();
  switch (scheme) {
    case "clausum":
      return JSON.stringify({ event: eventType, timestamp: iso, data });
    case "creditclaw":
      return JSON.stringify({ event: eventType, timestamp: iso, bot_id: "bot_sample", data });
    case "stripe":
      return JSON.stringify({
        id: `evt_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
        object: "event",
        type: eventType,
        created: Math.floor(nowMs / 1000),
        data: { object: data },
      });
    case "github":
      return JSON.stringify({ action: eventType.split(".")[1] ?? "created", ...(data as object) });
    default:
      return JSON.stringify({ type: eventType, timestamp: iso, data });
  }
}

export function sampleData(scheme: string): unknown {
  switch (scheme) {
    case "clausum":
      return { case_id: randomUUID(), reference_number: "CLM-LX9A2B", reason: "chargeback" };
    case "creditclaw":
      return {
        checkout_id: "chk_abc123",
        amount: 29.99,
        vendor: "example.com",
        description: "Monthly subscription",
      };
    default:
      return { id: randomUUID(), sample: true };
  }
}

export function defaultEventType(scheme: string): string {
  switch (scheme) {
    case "clausum":
      return "fraud.detected";
    case "creditclaw":
      return "purchase.approved";
    case "stripe":
      return "payment_intent.succeeded";
    case "github":
      return "push";
    case "shopify":
      return "orders/create";
    default:
      return "sample.created";
  }
}
