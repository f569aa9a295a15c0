// Per-request verification cost. Run: pnpm vitest bench --run packages/verify/bench
// The clausum preset (header parse, tolerance, HMAC, constant-time compare, event type and the
// JSON de-duplication key) against a bare createHmac + timingSafeEqual over the same 1 KiB.
import { Buffer } from "node:buffer";
import { createHash, createHmac, generateKeyPairSync, timingSafeEqual } from "node:crypto";
import { bench, describe } from "vitest";
import type { SourceSpec, Verifier } from "../src/index.js";
import { createVerifier, signRequest } from "../src/index.js";

const NOW = 1_750_000_000_000;
const SECRET = "clausum-bench-secret";

function body1KiB(): Buffer {
  const base = {
    event: "fraud.detected",
    timestamp: "2026-05-29T18:30:00.000Z",
    data: { case_id: "b1f2c3d4", reference_number: "CLM-LX9A2B", reason: "chargeback", notes: "" },
  };
  const filler = 1024 - Buffer.byteLength(JSON.stringify(base));
  base.data.notes = "x".repeat(Math.max(0, filler));
  return Buffer.from(JSON.stringify(base));
}

function setup(spec: SourceSpec, privateKey?: string) {
  const body = body1KiB();
  const created = createVerifier(spec);
  const signedHeaders = signRequest(spec, {
    body,
    nowMs: NOW,
    eventType: "fraud.detected",
    ...(privateKey ? { privateKey } : {}),
  });
  if (!created.ok || !signedHeaders.ok) throw new Error("bench setup failed");
  const headers = Object.fromEntries(
    Object.entries(signedHeaders.headers).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const verifier: Verifier = created.verifier;
  if (!verifier.verify({ body, headers }, NOW).ok) throw new Error("bench request does not verify");
  return { body, headers, verifier };
}

const clausum = setup({ verify: { scheme: "clausum", secrets: [SECRET] } });
// The same preset with the de-duplication key taken from a header: isolates what verification
// itself adds over the bare HMAC (the default key parses and hashes the JSON body).
const clausumHeaderKey = setup({
  verify: { scheme: "clausum", secrets: [SECRET] },
  dedupeKey: { header: "X-Clausum-Event" },
});
const header = clausum.headers["x-clausum-signature"] ?? "";
const t = header.slice(2, header.indexOf(","));
const hex = header.slice(header.indexOf("v1=") + 3);
const sink: unknown[] = [];

describe("HMAC, 1 KiB body", () => {
  bench("bare createHmac + timingSafeEqual", () => {
    const expected = createHmac("sha256", SECRET).update(`${t}.`).update(clausum.body).digest();
    const provided = Buffer.from(hex, "hex");
    sink[0] = provided.length === expected.length && timingSafeEqual(provided, expected);
  });

  bench("clausum preset verify (header dedupe key)", () => {
    sink[0] = clausumHeaderKey.verifier.verify(
      { body: clausumHeaderKey.body, headers: clausumHeaderKey.headers },
      NOW,
    );
  });
});

describe("HMAC + JSON de-duplication key, 1 KiB body", () => {
  bench("bare createHmac + timingSafeEqual + JSON key by hand", () => {
    const expected = createHmac("sha256", SECRET).update(`${t}.`).update(clausum.body).digest();
    const provided = Buffer.from(hex, "hex");
    const ok = provided.length === expected.length && timingSafeEqual(provided, expected);
    const json = JSON.parse(clausum.body.toString("utf8"));
    const key = createHash("sha256")
      .update(JSON.stringify([json.event, json.timestamp, json.data]))
      .digest("hex");
    sink[0] = ok && key;
  });

  bench("clausum preset verify (default: json event+timestamp+data key)", () => {
    sink[0] = clausum.verifier.verify({ body: clausum.body, headers: clausum.headers }, NOW);
  });
});

const ec = generateKeyPairSync("ec", {
  namedCurve: "P-256",
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});
const ed = generateKeyPairSync("ed25519", {
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});
const clarion = setup({ verify: { scheme: "clarion", publicKey: ec.publicKey } }, ec.privateKey);
const ed25519 = setup(
  {
    verify: {
      scheme: "ed25519",
      publicKey: ed.publicKey,
      header: "X-Signature",
      timestampHeader: "X-Timestamp",
    },
  },
  ed.privateKey,
);

describe("asymmetric, 1 KiB body", () => {
  bench("clarion (ECDSA P-256) verify", () => {
    sink[0] = clarion.verifier.verify({ body: clarion.body, headers: clarion.headers }, NOW);
  });
  bench("ed25519 verify", () => {
    sink[0] = ed25519.verifier.verify({ body: ed25519.body, headers: ed25519.headers }, NOW);
  });
});
