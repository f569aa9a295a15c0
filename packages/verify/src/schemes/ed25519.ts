// `ed25519`: Ed25519 over the signed content (Standard Webhooks v1a is handled in standard-webhooks.ts).
import { sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { parseEd25519PrivateKey, parseEd25519PublicKey } from "../keys.js";
import type { Algorithm } from "./asymmetric.js";
import { asymmetricScheme } from "./asymmetric.js";

const ed25519: Algorithm = {
  name: "ed25519",
  defaultEncoding: "base64",
  parsePublic: parseEd25519PublicKey,
  parsePrivate: parseEd25519PrivateKey,
  verify: (content, key, signature) => signature.length === 64 && cryptoVerify(null, content, key, signature),
  sign: (content, key) => cryptoSign(null, content, key),
};

export const ed25519Scheme = asymmetricScheme(ed25519);
