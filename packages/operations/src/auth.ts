import { createHash, timingSafeEqual } from "node:crypto";
import { type AdminRole, type AdminTokenConfig, ENV_ADMIN_TOKEN_NAME } from "@hookline/config";

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/**
 * Compares a presented token with the configured one in constant time: both are hashed first,
 * so neither the content nor the length of the secret leaks through timing.
 */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header; null when absent or another scheme. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

/** Who a request acts as: a configured token's name and role (never the token). */
export interface AdminPrincipal {
  readonly name: string;
  readonly role: AdminRole;
}

/** HOOKLINE_ADMIN_TOKEN and a token of `admin.tokens` are the same text: which role would it have? */
export class AdminTokenConflictError extends Error {
  constructor(name: string) {
    super(`HOOKLINE_ADMIN_TOKEN is the same token as admin.tokens "${name}"; each token must be distinct`);
    this.name = "AdminTokenConflictError";
  }
}

interface KnownToken extends AdminPrincipal {
  readonly token: string;
  readonly digest: Buffer;
}

/**
 * Every token that opens the admin API and the dashboard: `admin.tokens`, plus
 * HOOKLINE_ADMIN_TOKEN as `default` (operate). Looking a token up compares it with every known
 * one in constant time and without stopping at a match, so timing says neither which token
 * matched nor how much of one did.
 */
export class AdminTokens {
  readonly #known: readonly KnownToken[];

  constructor(configured: readonly AdminTokenConfig[], envToken: string | null = null) {
    const all: AdminTokenConfig[] = [...configured];
    if (envToken !== null) {
      const same = configured.find((t) => tokenMatches(envToken, t.token));
      if (same) throw new AdminTokenConflictError(same.name);
      all.push({ name: ENV_ADMIN_TOKEN_NAME, token: envToken, role: "operate" });
    }
    this.#known = all.map((t) => ({ name: t.name, role: t.role, token: t.token, digest: digest(t.token) }));
  }

  /** No token at all: the admin API and the dashboard are disabled. */
  get empty(): boolean {
    return this.#known.length === 0;
  }

  /** The principal a presented token stands for; null when it is none of ours. */
  identify(presented: string): AdminPrincipal | null {
    const presentedDigest = digest(presented);
    let found: KnownToken | null = null;
    for (const known of this.#known) {
      // Every token is compared; the branch below only picks, it does not end the loop.
      const match = timingSafeEqual(presentedDigest, known.digest);
      found = match ? known : found;
    }
    return found === null ? null : { name: found.name, role: found.role };
  }

  /**
   * What the dashboard's sessions need: each token's principal and a key derived from it (the
   * token itself never leaves this class).
   */
  keys<T>(derive: (token: string) => T): ReadonlyArray<AdminPrincipal & { readonly derived: T }> {
    return this.#known.map((t) => ({ name: t.name, role: t.role, derived: derive(t.token) }));
  }

  /** The tokens' names, for the start-up log. */
  names(): string[] {
    return this.#known.map((t) => t.name);
  }

  /** The tokens' text, for the redactor only (stored data must never show one). */
  secrets(): string[] {
    return this.#known.map((t) => t.token);
  }
}

/** May this role make this request? `read` may only look (GET and HEAD). */
export function roleAllows(role: AdminRole, method: string): boolean {
  if (role === "operate") return true;
  const upper = method.toUpperCase();
  return upper === "GET" || upper === "HEAD";
}
