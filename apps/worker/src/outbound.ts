import type { TargetConfig } from "@hookline/config";
import { signStandardWebhooks } from "@hookline/verify";

export interface OutboundEvent {
  readonly eventId: string;
  readonly sourceId: string;
  readonly eventType: string | null;
  readonly contentType: string | null;
  readonly body: Buffer;
  readonly attemptNumber: number;
}

export const USER_AGENT = "Hookline/0.1 (+https://github.com/hookline)";

/**
 * The headers a target receives: its configured headers first, then Hookline's own, which
 * always win. The body is forwarded byte for byte with the provider's content-type.
 */
export function outboundHeaders(
  target: TargetConfig,
  event: OutboundEvent,
  nowMs: number,
): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(target.headers)) headers[name.toLowerCase()] = value;
  headers["content-type"] = event.contentType ?? "application/octet-stream";
  headers["user-agent"] = USER_AGENT;
  headers["webhook-id"] = event.eventId;
  headers["webhook-timestamp"] = String(timestamp);
  if (target.signingSecrets.length > 0) {
    headers["webhook-signature"] = signStandardWebhooks(
      target.signingSecrets,
      event.eventId,
      timestamp,
      event.body,
    );
  }
  headers["hookline-source"] = event.sourceId;
  // The type comes from the provider's body: keep it a legal header value.
  if (event.eventType !== null)
    headers["hookline-event-type"] = event.eventType.replace(/[^\x20-\x7e]/g, "?");
  headers["hookline-attempt"] = String(event.attemptNumber);
  return headers;
}
