// `shared-secret`: a header whose value is one of the configured secrets. Both sides are
// hashed with SHA-256 before a constant-time comparison.
import { Buffer } from "node:buffer";
import { matchesAnySecret, sha256 } from "../bytes.js";
import { getHeader } from "../headers.js";
import { readHeaderName, readSecrets } from "./common.js";
import type { CompiledScheme, SchemeDefinition } from "./types.js";

export const sharedSecretScheme: SchemeDefinition = {
  name: "shared-secret",
  fields: ["secrets", "header"],
  compile(spec, errors): CompiledScheme | null {
    if (spec.header === undefined) errors.add("header", "is required: the header that carries the secret");
    const header = readHeaderName(spec.header, "header", errors);
    const secrets = readSecrets(spec.secrets, true, () => null, errors);
    if (!header || !secrets) return null;
    const hashes = secrets.map((s) => sha256(s));
    return {
      relevantHeaders: [header.lower],
      signatureHeaders: [],
      secretHeaders: [header.lower],
      check(request) {
        const presented = getHeader(request.headers, header.lower);
        if (presented === undefined) {
          return { ok: false, reason: "secret_missing", message: `${header.name} header is missing` };
        }
        if (!matchesAnySecret(Buffer.from(presented, "utf8"), hashes)) {
          return {
            ok: false,
            reason: "secret_mismatch",
            message: `${header.name} does not match any configured secret`,
          };
        }
        return { ok: true, timestampMs: null, id: null };
      },
      sign() {
        const secret = secrets[0];
        if (secret === undefined) return { ok: false, message: "no secret configured" };
        return { ok: true, headers: { [header.name]: secret } };
      },
    };
  },
};
