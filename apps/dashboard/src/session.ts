// The dashboard's session and CSRF tokens. The cookie is `<session id>.<HMAC of it keyed by the
// admin token>`: it never carries the token, and a cookie made with another token fails at once.
// Each session is also a row (packages/db admin_sessions, keyed by a hash of the id), so logout
// ends it for good, a copied cookie dies with it, and a session opened under a token that has
// since changed is refused even by a process that has not seen the change.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "hookline_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

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

/** Where sessions are kept: Postgres in the product (packages/db queries/sessions.ts). */
export interface SessionStore {
  insert(row: { id: string; tokenFingerprint: string; expiresAt: Date; ip: string | null }): Promise<void>;
  find(id: string): Promise<{ tokenFingerprint: string; expiresAt: Date } | null>;
  delete(id: string): Promise<void>;
  /** Drops expired sessions and those of other tokens. */
  sweep(currentFingerprint: string): Promise<void>;
}

const COOKIE = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

export class Sessions {
  readonly #fingerprint: string;

  constructor(
    private readonly adminToken: string,
    private readonly store: SessionStore,
    private readonly now: () => number = Date.now,
  ) {
    this.#fingerprint = mac(adminToken, "fingerprint", "admin-token");
  }

  /** A new session: stored, and its cookie value returned. */
  async issue(ip: string | null): Promise<string> {
    const id = randomBytes(32).toString("base64url");
    await this.store.sweep(this.#fingerprint);
    await this.store.insert({
      id: storedId(id),
      tokenFingerprint: this.#fingerprint,
      expiresAt: new Date(this.now() + SESSION_TTL_MS),
      ip,
    });
    return `${id}.${mac(this.adminToken, "session", id)}`;
  }

  /** True for a cookie this server issued with the current admin token, not ended and not expired. */
  async valid(cookie: string | undefined): Promise<boolean> {
    const id = this.#idOf(cookie);
    if (id === null) return false;
    const row = await this.store.find(storedId(id));
    return (
      row !== null &&
      row.expiresAt.getTime() > this.now() &&
      sameText(row.tokenFingerprint, this.#fingerprint)
    );
  }

  /** Ends the session for good: its cookie, wherever it was copied, no longer works. */
  async end(cookie: string | undefined): Promise<void> {
    const id = this.#idOf(cookie);
    if (id !== null) await this.store.delete(storedId(id));
  }

  /** The cookie's Max-Age for a session issued now. */
  get ttlSeconds(): number {
    return SESSION_TTL_MS / 1000;
  }

  /** The CSRF token of a session: its HMAC, put in every form and checked on every POST. */
  csrf(session: string): string {
    return mac(this.adminToken, "csrf", session);
  }

  csrfMatches(session: string, presented: string | undefined): boolean {
    return presented !== undefined && sameText(presented, this.csrf(session));
  }

  /** The session id of a well-formed cookie signed with the current token; null otherwise. */
  #idOf(cookie: string | undefined): string | null {
    const match = cookie ? COOKIE.exec(cookie) : null;
    if (!match?.[1] || !match[2]) return null;
    return sameText(match[2], mac(this.adminToken, "session", match[1])) ? match[1] : null;
  }
}

/** The row's key: a hash, so a database reader cannot turn rows back into cookies. */
function storedId(id: string): string {
  return createHash("sha256").update(id, "utf8").digest("hex");
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
