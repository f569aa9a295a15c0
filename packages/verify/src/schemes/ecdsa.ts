// `ecdsa`: ECDSA P-256/SHA-256 over the signed content (and the base of the clarion preset).
import { sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { parseP256PrivateKey, parseP256PublicKey } from "../keys.js";
import type { Algorithm } from "./asymmetric.js";
import { asymmetricScheme } from "./asymmetric.js";

const ecdsa: Algorithm = {
  name: "ecdsa",
  defaultEncoding: "hex",
  parsePublic: parseP256PublicKey,
  parsePrivate: parseP256PrivateKey,
  // DER (starts with 0x30, at most 72 bytes) or raw r‖s (IEEE P1363, exactly 64 bytes): both
  // are accepted. The wrong format makes crypto.verify return false, it does not throw.
  verify(content, key, signature) {
    if (
      signature.length === 64 &&
      cryptoVerify("sha256", content, { key, dsaEncoding: "ieee-p1363" }, signature)
    ) {
      return true;
    }
    return (
      signature.length >= 8 &&
      signature.length <= 72 &&
      signature[0] === 0x30 &&
      cryptoVerify("sha256", content, { key, dsaEncoding: "der" }, signature)
    );
  },
  sign: (content, key) => cryptoSign("sha256", content, { key, dsaEncoding: "der" }),
};

export const ecdsaScheme = asymmetricScheme(ecdsa);
