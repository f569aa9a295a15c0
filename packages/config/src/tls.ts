// `targets[].tls`: the files are read and checked when the config loads, so a wrong path or a
// certificate that does not fit its key is a config error, not a failed delivery at 3 a.m.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createSecureContext } from "node:tls";
import { inspect } from "node:util";
import { errorText, type Issue, isRecord } from "./issues.js";
import type { PathSegment } from "./paths.js";
import type { TargetTls } from "./types.js";

/**
 * A private key's PEM text. It prints, serialises and inspects as its path only, so a target
 * logged whole, or an error that carries its config, cannot leak it; `pem()` is for the TLS
 * connector alone.
 */
export class PrivateKeyPem {
  readonly #pem: string;
  constructor(
    readonly path: string,
    pem: string,
  ) {
    this.#pem = pem;
  }
  pem(): string {
    return this.#pem;
  }
  toString(): string {
    return `[private key ${this.path}]`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

export interface RawTls {
  readonly ca_file?: string | undefined;
  readonly cert_file?: string | undefined;
  readonly key_file?: string | undefined;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readText(path: string, at: readonly PathSegment[], issues: Issue[]): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = isRecord(error) && typeof error.code === "string" ? error.code : undefined;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EISDIR"
          ? "is a directory, not a file"
          : code === "EACCES"
            ? "permission denied"
            : errorText(error);
    issues.push({ at, message: `cannot read ${path}: ${why}` });
    return undefined;
  }
}

/** Every certificate of a PEM bundle, each parsed; an issue (never the file's text) when one is not. */
function certificates(pem: string, path: string, at: readonly PathSegment[], issues: Issue[]): boolean {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    issues.push({ at, message: `${path} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")` });
    return false;
  }
  for (const [n, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      issues.push({ at, message: `${path}: certificate ${n + 1} cannot be parsed (${errorText(error)})` });
      return false;
    }
  }
  return true;
}

/**
 * Reads a target's TLS files (relative paths from `baseDir`, the config file's folder) and
 * checks them: the CA file holds certificates, and the client certificate and key parse and
 * belong together. Undefined (with issues) when something is wrong.
 */
export function readTargetTls(
  raw: RawTls,
  at: readonly PathSegment[],
  baseDir: string,
  issues: Issue[],
): TargetTls | undefined {
  const before = issues.length;
  if ((raw.cert_file === undefined) !== (raw.key_file === undefined)) {
    const missing = raw.cert_file === undefined ? "cert_file" : "key_file";
    issues.push({
      at: [...at, missing],
      message: "cert_file and key_file go together: set both, or neither",
    });
  }
  if (raw.ca_file === undefined && raw.cert_file === undefined && raw.key_file === undefined)
    issues.push({ at, message: "set ca_file, or cert_file and key_file (or leave tls out)" });
  if (issues.length > before) return undefined;

  const file = (key: keyof RawTls) => {
    const value = raw[key];
    return value === undefined ? undefined : resolve(baseDir, value);
  };
  const caFile = file("ca_file");
  const certFile = file("cert_file");
  const keyFile = file("key_file");

  let ca: string | null = null;
  if (caFile !== undefined) {
    const text = readText(caFile, [...at, "ca_file"], issues);
    if (text !== undefined && certificates(text, caFile, [...at, "ca_file"], issues)) ca = text;
  }
  let cert: string | null = null;
  let key: PrivateKeyPem | null = null;
  if (certFile !== undefined && keyFile !== undefined) {
    const certText = readText(certFile, [...at, "cert_file"], issues);
    const keyText = readText(keyFile, [...at, "key_file"], issues);
    if (
      certText !== undefined &&
      certificates(certText, certFile, [...at, "cert_file"], issues) &&
      keyText !== undefined
    ) {
      try {
        // Parses the key and checks that it is the certificate's; OpenSSL's message names no key material.
        createSecureContext({ cert: certText, key: keyText });
        cert = certText;
        key = new PrivateKeyPem(keyFile, keyText);
      } catch (error) {
        issues.push({
          at: [...at, "key_file"],
          message: `${keyFile} is not an unencrypted PEM private key for ${certFile} (${errorText(error)})`,
        });
      }
    }
  }
  if (issues.length > before) return undefined;
  return { caFile: caFile ?? null, certFile: certFile ?? null, keyFile: keyFile ?? null, ca, cert, key };
}
