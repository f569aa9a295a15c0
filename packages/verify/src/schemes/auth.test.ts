import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { roundTrip, utf8, verifierFor, verifyWith } from "../test-helpers.js";
import type { SourceSpec } from "../types.js";
import { createVerifier } from "../verifier.js";

const NOW = 1_700_000_000_000;
const body = utf8('{"type":"ping"}');
const basicHeader = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;

describe("shared-secret", () => {
  const spec: SourceSpec = {
    verify: { scheme: "shared-secret", header: "X-Hook-Token", secrets: ["one", "two"] },
  };

  it("accepts any configured secret, lists the header as secret", () => {
    expect(verifyWith(spec, body, { "x-hook-token": "one" }, NOW).ok).toBe(true);
    expect(verifyWith(spec, body, { "x-hook-token": "two" }, NOW).ok).toBe(true);
    expect(verifierFor(spec).secretHeaders).toEqual(["x-hook-token"]);
    expect(roundTrip(spec, { body, nowMs: NOW }).ok).toBe(true);
  });

  it.each([
    [{}, "secret_missing"],
    [{ "x-hook-token": "three" }, "secret_mismatch"],
    [{ "x-hook-token": "" }, "secret_mismatch"],
    [{ "x-hook-token": "one " }, "secret_mismatch"],
    [{ "x-hook-token": "on" }, "secret_mismatch"],
  ])("%j → %s", (headers, reason) => {
    const result = verifyWith(spec, body, headers, NOW);
    expect(result).toMatchObject({ ok: false, reason });
    expect(JSON.stringify(result)).not.toMatch(/"one"|"two"/);
  });

  it("requires a header and secrets", () => {
    const result = createVerifier({ verify: { scheme: "shared-secret" } });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors.map((e) => e.path).sort()).toEqual(["verify.header", "verify.secrets"]);
  });
});

describe("basic", () => {
  const spec: SourceSpec = { verify: { scheme: "basic", secrets: ["hook:pa:ss", "other:pw"] } };

  it.each([
    [basicHeader("hook:pa:ss"), true],
    [basicHeader("other:pw"), true],
    [`basic ${Buffer.from("other:pw").toString("base64")}`, true],
  ])("%s accepted", (authorization, ok) => {
    expect(verifyWith(spec, body, { authorization }, NOW).ok).toBe(ok);
  });

  it.each([
    [undefined, "credentials_missing"],
    ["Bearer abc", "credentials_malformed"],
    ["Basic", "credentials_malformed"],
    ["Basic !!!!", "credentials_malformed"],
    [basicHeader("nocolon"), "credentials_malformed"],
    [basicHeader("hook:wrong"), "credentials_mismatch"],
  ])("%s → %s", (authorization, reason) => {
    const headers = authorization === undefined ? {} : { authorization };
    expect(verifyWith(spec, body, headers, NOW)).toMatchObject({ ok: false, reason });
  });

  it("secrets must be user:password; round-trips", () => {
    expect(createVerifier({ verify: { scheme: "basic", secrets: ["nocolon"] } })).toMatchObject({
      ok: false,
      errors: [{ path: "verify.secrets[0]", message: 'must be "user:password"' }],
    });
    expect(roundTrip(spec, { body, nowMs: NOW }).ok).toBe(true);
    expect(verifierFor(spec).secretHeaders).toEqual(["authorization"]);
  });
});

describe("bearer", () => {
  const spec: SourceSpec = {
    verify: { scheme: "bearer", secrets: ["tok_123"] },
    eventType: { json: "type" },
  };

  it("accepts the token, reads the event type", () => {
    expect(verifyWith(spec, body, { authorization: "Bearer tok_123" }, NOW)).toMatchObject({
      ok: true,
      eventType: "ping",
    });
    expect(roundTrip(spec, { body, nowMs: NOW }).ok).toBe(true);
  });

  it.each([
    [undefined, "credentials_missing"],
    ["tok_123", "credentials_malformed"],
    ["Bearer ", "credentials_malformed"],
    ["Basic tok_123", "credentials_malformed"],
    ["Bearer tok_124", "credentials_mismatch"],
  ])("%s → %s", (authorization, reason) => {
    const headers = authorization === undefined ? {} : { authorization };
    expect(verifyWith(spec, body, headers, NOW)).toMatchObject({ ok: false, reason });
  });

  it('refuses a secret written with "Bearer "', () => {
    expect(createVerifier({ verify: { scheme: "bearer", secrets: ["Bearer x"] } }).ok).toBe(false);
  });
});

describe("none", () => {
  it("accepts anything, but must be explicit and takes no settings", () => {
    const result = verifyWith({ verify: { scheme: "none" } }, body, {}, NOW);
    expect(result).toMatchObject({ ok: true, eventType: null, providerId: null, timestampMs: null });
    expect(createVerifier({ verify: { scheme: "none", secrets: ["x"] } })).toMatchObject({
      ok: false,
      errors: [{ path: "verify.secrets" }],
    });
    expect(createVerifier({ verify: { scheme: "" } }).ok).toBe(false);
  });
});
