// What an alert destination receives: the contract's JSON body, signed with Standard Webhooks
// (or a Slack `{"text": ...}`). Pure: the clock and the id come in.
import type { AlertConfig, AlertType } from "@hookline/config";
import { signStandardWebhooks } from "@hookline/verify";

export interface Alert {
  readonly type: AlertType;
  readonly targetId: string;
  /** How many times it happened in this alert's window (1 for the first, then per minute). */
  readonly count: number;
  /** Details of the latest occurrence (a delivery id, a reason, a backlog size). */
  readonly details: Readonly<Record<string, string | number | null>>;
}

export interface AlertRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

const SUMMARY: Record<AlertType, string> = {
  "circuit.opened": "circuit opened: deliveries wait until the target answers again",
  "circuit.closed": "circuit closed: the target answers again",
  "delivery.failed": "a delivery failed for good",
  "target.paused": "target paused: new deliveries wait",
  "target.resumed": "target resumed: what waited is being sent",
  "backlog.high": "backlog over its threshold",
};

/** One line for a person, as Slack shows it. */
export function alertText(alert: Alert): string {
  const times = alert.count > 1 ? ` (${alert.count} times in the last minute)` : "";
  const details = Object.entries(alert.details)
    .filter(([, v]) => v !== null && v !== "")
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  return `Hookline: ${alert.type} for target ${alert.targetId}${times}: ${SUMMARY[alert.type]}${details ? ` (${details})` : ""}`;
}

export function alertRequest(
  alert: Alert,
  destination: Pick<AlertConfig, "format" | "signingSecrets">,
  id: string,
  nowMs: number,
): AlertRequest {
  if (destination.format === "slack") {
    return {
      body: JSON.stringify({ text: alertText(alert) }),
      headers: { "content-type": "application/json" },
    };
  }
  const body = JSON.stringify({
    type: alert.type,
    timestamp: new Date(nowMs).toISOString(),
    data: { target_id: alert.targetId, count: alert.count, ...alert.details },
  });
  const timestamp = Math.floor(nowMs / 1000);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
  };
  if (destination.signingSecrets.length > 0)
    headers["webhook-signature"] = signStandardWebhooks(
      destination.signingSecrets,
      id,
      timestamp,
      Buffer.from(body),
    );
  return { body, headers };
}

/** A destination's URL as logs and errors may show it: Slack's path is its credential. */
export function destinationLabel(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return "(invalid url)";
  }
}
