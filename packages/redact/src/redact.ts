// What the admin API and the dashboard must never show, and what the gateway must never store.
// Stored headers are redacted at ingest for the credentials the gateway knows of and signatures
// are cut to a prefix; this is the second line for everything read back: every configured secret
// (source secrets, target signing secrets and credential headers, the admin token) is cut out of
// anything that came from outside (headers, bodies, target answers, errors), header names that
// look like credentials are hidden, and signatures are shortened. One implementation serves the
// API and the dashboard, so the two cannot disagree.
import type { HooklineConfig } from "@hookline/config";

export const REDACTED = "[redacted]";
const REDACTED_BYTES = Buffer.from(REDACTED, "utf8");

const CREDENTIAL_HEADER = /authorization|cookie|secret|token|api[-_]?key|password|passwd|credential|session/i;
const SIGNATURE_HEADER = /signature|hmac|-sig$/i;
/** Enough to tell two signatures apart by eye; far too little to re-post the body with. */
const SIGNATURE_SHOWN = 16;

function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADER.test(name);
}

/** By name: the scheme's own signature headers are known to the verifier, this catches the rest. */
export function isSignatureHeader(name: string): boolean {
  return SIGNATURE_HEADER.test(name);
}

/** A signature as it may be stored or shown: its first characters and an ellipsis. */
export function shortenSignature(value: string): string {
  return value.length > SIGNATURE_SHOWN + 1 ? `${value.slice(0, SIGNATURE_SHOWN)}…` : value;
}
/** Shorter strings are too common to cut out of every page. */
const MIN_SECRET_LENGTH = 4;

export class Redactor {
  readonly #secrets: readonly string[];
  readonly #secretBytes: readonly Buffer[];

  constructor(secrets: Iterable<string>) {
    const all = new Set<string>();
    for (const s of secrets) {
      const trimmed = s.trim();
      if (trimmed.length < MIN_SECRET_LENGTH) continue;
      all.add(trimmed);
      // `whsec_<base64>`: the key may also travel without its prefix.
      const bare = /^wh(?:sec|sk|pk)_(.+)$/.exec(trimmed)?.[1];
      if (bare && bare.length >= MIN_SECRET_LENGTH) all.add(bare);
    }
    // Longest first, so a secret that contains another is cut out whole.
    this.#secrets = [...all].sort((a, b) => b.length - a.length);
    this.#secretBytes = this.#secrets.map((secret) => Buffer.from(secret, "utf8"));
  }

  /** Every secret a config holds, plus the admin tokens (`admin.tokens` and HOOKLINE_ADMIN_TOKEN). */
  static fromConfig(
    config: Pick<HooklineConfig, "sources" | "targets"> & { readonly admin?: HooklineConfig["admin"] },
    adminToken: string | null,
  ): Redactor {
    const secrets: string[] = adminToken ? [adminToken] : [];
    for (const token of config.admin?.tokens ?? []) secrets.push(token.token);
    for (const source of config.sources) secrets.push(...(source.spec.verify.secrets ?? []));
    for (const target of config.targets) {
      secrets.push(...target.signingSecrets);
      // Only credential headers: a plain value (`X-Tenant: acme`) may be a word the pages need.
      for (const [name, value] of Object.entries(target.headers)) {
        if (!isCredentialHeader(name)) continue;
        secrets.push(value);
        // `Bearer abc`: the credential alone, too.
        const credential = /^\S+\s+(\S+)$/.exec(value)?.[1];
        if (credential) secrets.push(credential);
      }
    }
    return new Redactor(secrets);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /**
   * The bytes with every secret cut out. Views of a body (text, escaped bytes, hex dump) are
   * built from this, never redacted after formatting: a hex dump splits a secret across rows,
   * where no text search can find it.
   */
  bytes(body: Buffer): Buffer {
    let out = body;
    for (const secret of this.#secretBytes) {
      let at = out.indexOf(secret);
      if (at < 0) continue;
      const parts: Buffer[] = [];
      let from = 0;
      while (at >= 0) {
        parts.push(out.subarray(from, at), REDACTED_BYTES);
        from = at + secret.length;
        at = out.indexOf(secret, from);
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return out;
  }

  /** A stored header as it may be shown. */
  header(name: string, value: string): string {
    if (isCredentialHeader(name)) return REDACTED;
    const clean = this.text(value);
    return isSignatureHeader(name) ? shortenSignature(clean) : clean;
  }
}

/** A target's URL as it may be shown: scheme, host and path; no credentials, no query. */
/** The URL as it is, its password (if any) masked: for saying which server did not answer. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? "?…" : ""}`;
  } catch {
    return "(invalid URL)";
  }
}
