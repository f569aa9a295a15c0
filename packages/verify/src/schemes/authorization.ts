// Shared by `basic` and `bearer`: parse `Authorization: <Scheme> <credentials>`.

import { getHeader } from "../headers.js";
import type { HeaderMap, VerifyFailure } from "../types.js";

/** The credentials after the auth scheme name (case-insensitive), or a failure. */
export function readAuthorization(headers: HeaderMap, scheme: "Basic" | "Bearer"): string | VerifyFailure {
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
