// The dashboard's session and CSRF tokens. Stateless: the session cookie is the time it was issued
// and an HMAC of it keyed by the admin token, so the cookie never carries the token itself, every
// session ends after SESSION_TTL_MS, and changing HOOKLINE_ADMIN_TOKEN ends them all at once.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "hookline_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** A session issued this far in the future (clock steps) is still accepted. */
const FUTURE_SKEW_MS = 60 * 1000;

function mac(key: string, purpose: string, value: string): string {
  return createHmac("sha256", key)
    .update(`hookline-dashboard-${purpose}:${value}`, "utf8")
    .digest("base64url");
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Sessions {
  constructor(
    private readonly adminToken: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session cookie value: `<issued at ms>.<HMAC-SHA256(admin token, issued at)>`. */
  issue(): string {
    const issuedAt = String(this.now());
    return `${issuedAt}.${mac(this.adminToken, "session", issuedAt)}`;
  }

  /** True for a cookie this server issued with the current admin token, less than 12 h ago. */
  valid(cookie: string | undefined): cookie is string {
    if (!cookie) return false;
    const match = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
    if (!match?.[1] || !match[2]) return false;
    const issuedAt = Number(match[1]);
    const age = this.now() - issuedAt;
    if (age >= SESSION_TTL_MS || age < -FUTURE_SKEW_MS) return false;
    return sameText(match[2], mac(this.adminToken, "session", match[1]));
  }

  /** Seconds the session has left; the cookie's Max-Age. */
  remainingSeconds(cookie: string): number {
    const issuedAt = Number(cookie.split(".")[0]);
    return Math.max(0, Math.floor((issuedAt + SESSION_TTL_MS - this.now()) / 1000));
  }

  /** The CSRF token of a session: its HMAC, put in every form and checked on every POST. */
  csrf(session: string): string {
    return mac(this.adminToken, "csrf", session);
  }

  csrfMatches(session: string, presented: string | undefined): boolean {
    return presented !== undefined && sameText(presented, this.csrf(session));
  }
}

/**
 * A browser's word on where a POST comes from. Modern browsers send Sec-Fetch-Site; most send
 * Origin. Either, when present, must say this site; clients that send neither (curl) still need
 * the session and the CSRF token.
 */
export function fromSameOrigin(headers: {
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly secFetchSite: string | undefined;
}): boolean {
  if (headers.secFetchSite !== undefined && headers.secFetchSite !== "same-origin") return false;
  if (headers.origin === undefined) return true;
  if (headers.host === undefined) return false;
  try {
    return new URL(headers.origin).host === headers.host;
  } catch {
    return false;
  }
}

/** Counts failed logins: after `max` within `windowMs`, logins wait for the window to pass. */
export class LoginThrottle {
  #failures: number[] = [];

  constructor(
    private readonly max = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait before trying again; 0 when a login may be tried now. */
  retryAfterSeconds(): number {
    const now = this.now();
    this.#failures = this.#failures.filter((t) => now - t < this.windowMs);
    const oldest = this.#failures[0];
    if (this.#failures.length < this.max || oldest === undefined) return 0;
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }

  failed(): void {
    this.#failures.push(this.now());
  }
}
