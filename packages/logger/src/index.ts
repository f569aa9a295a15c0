import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

/**
 * Every path that can carry a secret. Headers are logged lower-cased, so both the header map
 * and the common field names are covered; a test greps real log output for secrets.
 */
export const REDACT_PATHS: readonly string[] = [
  "secret",
  "secrets",
  "*.secret",
  "*.secrets",
  "token",
  "*.token",
  "password",
  "*.password",
  "signing_secret",
  "signingSecret",
  "signingSecrets",
  "*.signingSecrets",
  "adminToken",
  "*.adminToken",
  "authorization",
  "headers.authorization",
  "headers.cookie",
  "headers.proxy-authorization",
  'headers["x-clarion-secret"]',
  'headers["webhook-signature"]',
  'headers["svix-signature"]',
  'headers["stripe-signature"]',
  'headers["x-hub-signature"]',
  'headers["x-hub-signature-256"]',
  'headers["x-shopify-hmac-sha256"]',
  'headers["x-slack-signature"]',
  'headers["x-clausum-signature"]',
  'headers["x-clarion-signature"]',
  'headers["x-creditclaw-signature"]',
  "req.headers.authorization",
  "req.headers.cookie",
];

export interface LoggerSettings {
  readonly level: string;
  readonly name: string;
  /** Extra paths to redact, e.g. a generic scheme's configured signature header. */
  readonly redact?: readonly string[];
}

export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    name: settings.name,
    redact: { paths: [...REDACT_PATHS, ...(settings.redact ?? [])], censor: "[redacted]" },
    base: { service: settings.name },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Extra redaction paths for header names a config adds (generic schemes, target headers). */
export function headerRedactPaths(names: readonly string[]): string[] {
  return names.map((n) => `headers[${JSON.stringify(n.toLowerCase())}]`);
}
