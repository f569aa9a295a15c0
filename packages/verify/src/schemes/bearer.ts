// `bearer`: `Authorization: Bearer <token>`; each secret is an accepted token.
import { Buffer } from "node:buffer";
import { matchesAnySecret, sha256 } from "../bytes.js";
import { credentialsMismatch, readAuthorization } from "./authorization.js";
import { readSecrets } from "./common.js";
import type { CompiledScheme, SchemeDefinition } from "./types.js";

export const bearerScheme: SchemeDefinition = {
  name: "bearer",
  fields: ["secrets"],
  compile(spec, errors): CompiledScheme | null {
    const secrets = readSecrets(
      spec.secrets,
      true,
      (s) =>
        /\s/.test(s)
          ? "must not contain whitespace"
          : /^bearer\s/i.test(s)
            ? 'must be the token alone, without "Bearer "'
            : null,
      errors,
    );
    if (!secrets) return null;
    const hashes = secrets.map((s) => sha256(s));
    return {
      relevantHeaders: ["authorization"],
      signatureHeaders: [],
      secretHeaders: ["authorization"],
      check(request) {
        const token = readAuthorization(request.headers, "Bearer");
        if (typeof token !== "string") return token;
        if (!matchesAnySecret(Buffer.from(token, "utf8"), hashes)) return credentialsMismatch();
        return { ok: true, timestampMs: null, id: null };
      },
      sign() {
        const secret = secrets[0];
        if (secret === undefined) return { ok: false, message: "no secret configured" };
        return { ok: true, headers: { Authorization: `Bearer ${secret}` } };
      },
    };
  },
};
