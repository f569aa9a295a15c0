// A throwaway PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1 signed by
// it, a client certificate signed by it, and a client certificate signed by nobody it knows.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestPki {
  readonly dir: string;
  /** Absolute paths. */
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Self-signed: a CA the server does not know. */
  readonly strangerCert: string;
  readonly strangerKey: string;
  read(path: string): string;
}

function openssl(dir: string, args: readonly string[]): void {
  const run = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  // These tests are about real certificates: without openssl they fail, they are never skipped.
  if (run.error)
    throw new Error(`the TLS tests need the openssl CLI (/usr/bin/openssl): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${run.stderr}`);
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "hookline-pki-"));
  const ssl = (...args: string[]) => openssl(dir, args);
  const key = ["-newkey", "rsa:2048", "-nodes"];
  ssl(
    "req",
    "-x509",
    ...key,
    "-days",
    "2",
    "-subj",
    "/CN=Hookline Test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  const signed = (name: string, subject: string, extensions: string) => {
    ssl("req", ...key, "-subj", subject, "-keyout", `${name}.key`, "-out", `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    );
  };
  signed("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  signed("client", "/CN=hookline-worker", "extendedKeyUsage=clientAuth\n");
  ssl(
    "req",
    "-x509",
    ...key,
    "-days",
    "2",
    "-subj",
    "/CN=stranger",
    "-keyout",
    "stranger.key",
    "-out",
    "stranger.crt",
  );
  const at = (file: string) => join(dir, file);
  return {
    dir,
    caCert: at("ca.crt"),
    serverCert: at("server.crt"),
    serverKey: at("server.key"),
    clientCert: at("client.crt"),
    clientKey: at("client.key"),
    strangerCert: at("stranger.crt"),
    strangerKey: at("stranger.key"),
    read: (path) => readFileSync(path, "utf8"),
  };
}
