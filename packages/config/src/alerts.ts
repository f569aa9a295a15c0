// The `alerts:` section: destinations for Hookline's own events (an open circuit, a delivery
// that failed for good, a pause, a growing backlog).
import { DEFAULTS } from "./defaults.js";
import { type Issue, validate } from "./issues.js";
import { ALERT_TYPES, alertSchema } from "./schema.js";
import { checkSigningSecrets } from "./sections.js";
import type { AlertConfig } from "./types.js";

export function buildAlert(raw: unknown, i: number, issues: Issue[]): AlertConfig | undefined {
  const at = ["alerts", i] as const;
  const parsed = validate(alertSchema, raw, at, issues);
  if (parsed === undefined) return undefined;
  let ok = true;
  let url: URL | null = null;
  try {
    url = new URL(parsed.url);
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    issues.push({ at: [...at, "url"], message: "must be an http:// or https:// URL" });
    ok = false;
  }
  const format = parsed.format ?? DEFAULTS.alert.format;
  if (format === "slack" && parsed.signing_secret !== undefined) {
    issues.push({
      at: [...at, "signing_secret"],
      message: "slack alerts are not signed (Slack's incoming webhooks take no signature): remove it",
    });
    ok = false;
  }
  const secrets = checkSigningSecrets({ signing_secret: parsed.signing_secret }, at, issues);
  if (!ok || secrets === undefined) return undefined;
  return {
    url: parsed.url,
    format,
    signingSecrets: secrets,
    events: new Set(parsed.events ?? ALERT_TYPES),
    backlogThreshold: parsed.backlog_threshold ?? DEFAULTS.alert.backlogThreshold,
  };
}
