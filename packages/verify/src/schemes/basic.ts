// `basic`: HTTP Basic authentication. Each secret is "user:password".
import { Buffer } from "node:buffer";
import { decodeBase64 } from "../bytes.js";
import { authorizationScheme } from "./authorization.js";

export const basicScheme = authorizationScheme({
  name: "basic",
  authScheme: "Basic",
  checkSecret: (s) => (s.indexOf(":") > 0 ? null : 'must be "user:password"'),
  decode(credentials) {
    const decoded = decodeBase64(credentials);
    if (decoded?.includes(0x3a)) return decoded;
    return {
      ok: false,
      reason: "credentials_malformed",
      message: "Basic credentials are not base64 of user:password",
    };
  },
  encode: (secret) => Buffer.from(secret, "utf8").toString("base64"),
});
