// `bearer`: `Authorization: Bearer <token>`; each secret is an accepted token.
import { Buffer } from "node:buffer";
import { authorizationScheme } from "./authorization.js";

export const bearerScheme = authorizationScheme({
  name: "bearer",
  authScheme: "Bearer",
  checkSecret: (s) =>
    /\s/.test(s)
      ? "must not contain whitespace"
      : /^bearer\s/i.test(s)
        ? 'must be the token alone, without "Bearer "'
        : null,
  decode: (token) => Buffer.from(token, "utf8"),
  encode: (secret) => secret,
});
