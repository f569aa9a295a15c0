// `basic`: HTTP Basic authentication. Each secret is "user:password".
import { Buffer } from "node:buffer";
import { decodeBase64, matchesAnySecret, sha256 } from "../bytes.js";
import { credentialsMismatch, readAuthorization } from "./authorization.js";
import { readSecrets } from "./common.js";
import type { CompiledScheme, SchemeDefinition } from "./types.js";

export const basicScheme: SchemeDefinition = {
  name: "basic",
  fields: ["secrets"],
  compile(spec, errors): CompiledScheme | null {
    const secrets = readSecrets(
      spec.secrets,
      true,
      (s) => (s.indexOf(":") > 0 ? null : 'must be "user:password"'),
      errors,
    );
    if (!secrets) return null;
    const hashes = secrets.map((s) => sha256(s));
    return {
      relevantHeaders: ["authorization"],
      signatureHeaders: [],
      secretHeaders: ["authorization"],
      check(request) {
        const credentials = readAuthorization(request.headers, "Basic");
        if (typeof credentials !== "string") return credentials;
        const decoded = decodeBase64(credentials);
        if (!decoded?.includes(0x3a)) {
          return {
            ok: false,
            reason: "credentials_malformed",
            message: "Basic credentials are not base64 of user:password",
          };
        }
        if (!matchesAnySecret(decoded, hashes)) return credentialsMismatch();
        return { ok: true, timestampMs: null, id: null };
      },
      sign() {
        const secret = secrets[0];
        if (secret === undefined) return { ok: false, message: "no secret configured" };
        return {
          ok: true,
          headers: { Authorization: `Basic ${Buffer.from(secret, "utf8").toString("base64")}` },
        };
      },
    };
  },
};
