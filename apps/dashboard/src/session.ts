// The dashboard's session and CSRF tokens. The cookie is `<session id>.<HMAC of it keyed by the
// admin token that opened it>`: it never carries the token, and a cookie made with another token
// fails at once. Each session is also a row (packages/db admin_sessions, keyed by a hash of the
// id, with the name and role of its token), so logout ends it for good, a copied cookie dies with
// it, and a session whose token has since been removed or changed (its text, name or role) is
// refused even by a process that has not seen the change.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { AdminRole } from "@hookline/config";
import type { AuditActor, AuditEntry } from "@hookline/db";
import type { AdminPrincipal, AdminTokens } from "@hookline/operations";

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
  insert(
    row: {
      id: string;
      tokenFingerprint: string;
      tokenName: string;
      role: AdminRole;
      expiresAt: Date;
      ip: string | null;
    },
    audit?: AuditEntry,
  ): Promise<void>;
  find(
    id: string,
  ): Promise<{ tokenFingerprint: string; tokenName: string; role: AdminRole; expiresAt: Date } | null>;
  delete(id: string): Promise<void>;
  /** Drops expired sessions and those of tokens no longer configured. */
  sweep(currentFingerprints: readonly string[]): Promise<void>;
}

/** A signed-in session: who it acts as, and the CSRF token its forms carry. */
export interface OpenSession extends AdminPrincipal {
  readonly csrf: string;
}

/** What a token gives the sessions it opens: a fingerprint to find them by, a key to sign with. */
interface TokenKeys {
  /** Stored in each session row; the same derivation as before named tokens, so old sessions live on. */
  readonly fingerprint: string;
  /** The HMAC key of its cookies and CSRF tokens: the token itself, held in memory only. */
  readonly key: string;
}

const COOKIE = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

type KeyedToken = AdminPrincipal & { readonly derived: TokenKeys };

export class Sessions {
  readonly #tokens: readonly KeyedToken[];

  constructor(
    tokens: AdminTokens,
    private readonly store: SessionStore,
    private readonly now: () => number = Date.now,
  ) {
    this.#tokens = tokens.keys((token) => ({
      fingerprint: mac(token, "fingerprint", "admin-token"),
      key: token,
    }));
  }

  /**
   * A new session for the token `principal` names (as AdminTokens.identify found it): stored,
   * with a `login` audit row in the same transaction when `actor` is given; its cookie returned.
   */
  async issue(principal: AdminPrincipal, ip: string | null, actor?: AuditActor): Promise<string> {
    const token = this.#tokens.find((t) => t.name === principal.name);
    if (!token) throw new Error(`no admin token named ${principal.name}`);
    const id = randomBytes(32).toString("base64url");
    await this.store.sweep(this.#tokens.map((t) => t.derived.fingerprint));
    await this.store.insert(
      {
        id: storedId(id),
        tokenFingerprint: token.derived.fingerprint,
        tokenName: token.name,
        role: token.role,
        expiresAt: new Date(this.now() + SESSION_TTL_MS),
        ip,
      },
      actor && { ...actor, action: "login", subject: token.name, details: { role: token.role } },
    );
    return `${id}.${mac(token.derived.key, "session", id)}`;
  }

  /**
   * The session of a cookie this server issued with a token it still has, under the same name
   * and role, not ended and not expired; null otherwise.
   */
  async open(cookie: string | undefined): Promise<OpenSession | null> {
    const match = cookie ? COOKIE.exec(cookie) : null;
    const id = match?.[1];
    const signature = match?.[2];
    if (!id || !signature) return null;
    const row = await this.store.find(storedId(id));
    if (row === null || row.expiresAt.getTime() <= this.now()) return null;
    let token: KeyedToken | undefined;
    for (const t of this.#tokens) if (sameText(row.tokenFingerprint, t.derived.fingerprint)) token = t;
    // A token renamed or given another role is, for its sessions, another token.
    if (!token || token.name !== row.tokenName || token.role !== row.role) return null;
    if (!sameText(signature, mac(token.derived.key, "session", id))) return null;
    return { name: token.name, role: token.role, csrf: mac(token.derived.key, "csrf", cookie ?? "") };
  }

  async valid(cookie: string | undefined): Promise<boolean> {
    return (await this.open(cookie)) !== null;
  }

  /** Ends the session for good: its cookie, wherever it was copied, no longer works. */
  async end(cookie: string | undefined): Promise<void> {
    const id = cookie ? COOKIE.exec(cookie)?.[1] : undefined;
    if (id) await this.store.delete(storedId(id));
  }

  /** The cookie's Max-Age for a session issued now. */
  get ttlSeconds(): number {
    return SESSION_TTL_MS / 1000;
  }

  /** Checks the CSRF token a form carried against the session's. */
  csrfMatches(session: OpenSession, presented: string | undefined): boolean {
    return presented !== undefined && sameText(presented, session.csrf);
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
