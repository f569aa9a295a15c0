// Shared by `basic` and `bearer`: parse `Authorization: <Scheme> <credentials>`, and the scheme
// both are: credentials compared with the configured secrets, sent back as the first secret.

import { matchesAnySecret, sha256 } from "../bytes.js";
import { getHeader } from "../headers.js";
import type { HeaderMap, VerifyFailure } from "../types.js";
import { readSecrets } from "./common.js";
import type { CompiledScheme, SchemeDefinition } from "./types.js";

type AuthScheme = "Basic" | "Bearer";

/** The credentials after the auth scheme name (case-insensitive), or a failure. */
export function readAuthorization(headers: HeaderMap, scheme: AuthScheme): string | VerifyFailure {
  const value = getHeader(headers, "authorization");
  if (value === undefined) {
    return { ok: false, reason: "credentials_missing", message: "Authorization header is missing" };
  }
  const space = value.indexOf(" ");
  const credentials = space === -1 ? "" : value.slice(space + 1).trim();
  if (space === -1 || value.slice(0, space).toLowerCase() !== scheme.toLowerCase() || credentials === "") {
    return {
      ok: false,
      reason: "credentials_malformed",
      message: `Authorization header is not "${scheme} <credentials>"`,
    };
  }
  return credentials;
}

export function credentialsMismatch(): VerifyFailure {
  return {
    ok: false,
    reason: "credentials_mismatch",
    message: "credentials do not match any configured secret",
  };
}

/** What sets one `Authorization` scheme apart from the other. */
export interface AuthorizationScheme {
  readonly name: string;
  readonly authScheme: AuthScheme;
  /** A rule one configured secret must also follow: the error message, or null. */
  readonly checkSecret: (secret: string) => string | null;
  /** The bytes the credentials stand for, compared with the secrets; or why they cannot be read. */
  readonly decode: (credentials: string) => Uint8Array | VerifyFailure;
  /** The credentials that stand for a secret, for signing. */
  readonly encode: (secret: string) => string;
}

/** A scheme whose secrets travel as `Authorization` credentials; only their hashes are kept. */
export function authorizationScheme(scheme: AuthorizationScheme): SchemeDefinition {
  return {
    name: scheme.name,
    fields: ["secrets"],
    compile(spec, errors): CompiledScheme | null {
      const secrets = readSecrets(spec.secrets, true, scheme.checkSecret, errors);
      if (!secrets) return null;
      const hashes = secrets.map((s) => sha256(s));
      return {
        relevantHeaders: ["authorization"],
        signatureHeaders: [],
        secretHeaders: ["authorization"],
        check(request) {
          const credentials = readAuthorization(request.headers, scheme.authScheme);
          if (typeof credentials !== "string") return credentials;
          const presented = scheme.decode(credentials);
          if (!(presented instanceof Uint8Array)) return presented;
          if (!matchesAnySecret(presented, hashes)) return credentialsMismatch();
          return { ok: true, timestampMs: null, id: null };
        },
        sign() {
          const secret = secrets[0];
          if (secret === undefined) return { ok: false, message: "no secret configured" };
          return { ok: true, headers: { Authorization: `${scheme.authScheme} ${scheme.encode(secret)}` } };
        },
      };
    },
  };
}
