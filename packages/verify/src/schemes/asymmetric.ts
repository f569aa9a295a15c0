// Shared by ecdsa.ts and ed25519.ts: a public key verifies a signature over the signed
// content built by the frame. Clarion is ecdsa with its published key and an optional
// shared-secret header.
import { Buffer } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { matchesAnySecret, sha256 } from "../bytes.js";
import { getHeader } from "../headers.js";
import { renderTemplate } from "../template.js";
import type { SignResult } from "../types.js";
import { readSecrets } from "./common.js";
import { compileFrame, FRAME_FIELDS, frameHeaders, prepareSign, readFrame } from "./frame.js";
import type { CompiledScheme, SchemeDefinition } from "./types.js";

export interface Algorithm {
  readonly name: "ecdsa" | "ed25519";
  readonly defaultEncoding: "hex" | "base64";
  parsePublic(value: unknown): KeyObject | string;
  parsePrivate(value: string): KeyObject | string;
  verify(content: Buffer, key: KeyObject, signature: Buffer): boolean;
  sign(content: Buffer, key: KeyObject): Buffer;
}

export function asymmetricScheme(algorithm: Algorithm): SchemeDefinition {
  return {
    name: algorithm.name,
    fields: ["publicKey", ...FRAME_FIELDS],
    compile(spec, errors): CompiledScheme | null {
      const frame = compileFrame(spec, { encoding: algorithm.defaultEncoding }, errors);
      let key: KeyObject | null = null;
      if (spec.publicKey === undefined) {
        errors.add("public_key", "is required");
      } else {
        const parsed = algorithm.parsePublic(spec.publicKey);
        if (typeof parsed === "string") errors.add("public_key", parsed);
        else key = parsed;
      }
      // Only presets with a secret header (Clarion) accept secrets here.
      const secrets = spec.secretHeader ? readSecrets(spec.secrets, false, () => null, errors) : [];
      if (!frame || !key || !secrets) return null;
      const publicKey = key;
      const secretHeader = spec.secretHeader ?? null;
      const secretHashes = secrets.map((s) => sha256(s));

      return {
        relevantHeaders: [...frameHeaders(frame), ...(secretHeader ? [secretHeader.lower] : [])],
        secretHeaders: secretHeader ? [secretHeader.lower] : [],
        signatureHeaders: frame.headers.map((h) => h.lower),
        check(request, nowMs) {
          const read = readFrame(frame, request, nowMs);
          if (!read.ok) return read;
          const content = renderTemplate(frame.template, read.values);
          let matched = false;
          if (content) {
            for (const signature of read.signatures) {
              if (algorithm.verify(content, publicKey, signature)) {
                matched = true;
                break;
              }
            }
          }
          if (!matched) {
            return {
              ok: false,
              reason: "signature_mismatch",
              message: `${frame.label} does not verify with the configured public key`,
            };
          }
          if (secretHeader && secretHashes.length > 0) {
            const presented = getHeader(request.headers, secretHeader.lower);
            if (presented === undefined) {
              return {
                ok: false,
                reason: "secret_missing",
                message: `${secretHeader.name} header is missing`,
              };
            }
            if (!matchesAnySecret(Buffer.from(presented, "utf8"), secretHashes)) {
              return {
                ok: false,
                reason: "secret_mismatch",
                message: `${secretHeader.name} does not match any configured secret`,
              };
            }
          }
          return { ok: true, timestampMs: read.timestampMs, id: read.id };
        },
        sign(input): SignResult {
          if (input.privateKey === undefined) {
            return {
              ok: false,
              message: `${algorithm.name} signing needs privateKey (the provider's private key)`,
            };
          }
          const privateKey = algorithm.parsePrivate(input.privateKey);
          if (typeof privateKey === "string") return { ok: false, message: privateKey };
          const prepared = prepareSign(frame, input);
          if (typeof prepared === "string") return { ok: false, message: prepared };
          const content = renderTemplate(frame.template, prepared.values);
          if (!content) return { ok: false, message: "cannot build the signed content" };
          const headers = prepared.headers(algorithm.sign(content, privateKey).toString(frame.encoding));
          const secret = secrets[0];
          if (secretHeader && secret !== undefined) headers[secretHeader.name] = secret;
          return { ok: true, headers };
        },
      };
    },
  };
}
