import { describe, expect, it } from "vitest";
import { AdminTokenConflictError, AdminTokens, bearerToken, roleAllows, tokenMatches } from "./auth";

describe("admin token", () => {
  it("matches only the exact token", () => {
    const token = "0123456789abcdef0123456789abcdef";
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(`${token}x`, token)).toBe(false);
    expect(tokenMatches(token.slice(0, -1), token)).toBe(false);
    expect(tokenMatches("", token)).toBe(false);
    expect(tokenMatches(token.toUpperCase(), token)).toBe(false);
  });

  it("reads a bearer token, case-insensitive scheme, and nothing else", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer   abc ")).toBe("abc");
    expect(bearerToken("Basic YWJjOmRlZg==")).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken("Bearer a b")).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe("AdminTokens", () => {
  const OPS = "ops-token-0123456789abcdef";
  const VIEW = "viewer-token-0123456789abcdef";
  const ENV = "env-token-0123456789abcdef";
  const tokens = new AdminTokens(
    [
      { name: "ops", token: OPS, role: "operate" },
      { name: "viewer", token: VIEW, role: "read" },
    ],
    ENV,
  );

  it("names the token presented, with its role; HOOKLINE_ADMIN_TOKEN is `default` (operate)", () => {
    expect(tokens.identify(OPS)).toEqual({ name: "ops", role: "operate" });
    expect(tokens.identify(VIEW)).toEqual({ name: "viewer", role: "read" });
    expect(tokens.identify(ENV)).toEqual({ name: "default", role: "operate" });
    for (const wrong of ["", `${OPS}x`, OPS.slice(0, -1), VIEW.toUpperCase()])
      expect(tokens.identify(wrong)).toBeNull();
    expect(tokens.empty).toBe(false);
    expect(new AdminTokens([]).empty).toBe(true);
    expect(new AdminTokens([], ENV).names()).toEqual(["default"]);
  });

  it("refuses HOOKLINE_ADMIN_TOKEN when it is also a configured token, without showing it", () => {
    const make = () => new AdminTokens([{ name: "viewer", token: VIEW, role: "read" }], VIEW);
    expect(make).toThrow(AdminTokenConflictError);
    expect(make).toThrow(/"viewer"/);
    expect(make).not.toThrow(new RegExp(VIEW));
  });

  it("lets read make only GET and HEAD requests; operate anything", () => {
    expect(roleAllows("read", "GET")).toBe(true);
    expect(roleAllows("read", "head")).toBe(true);
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      expect(roleAllows("read", method)).toBe(false);
      expect(roleAllows("operate", method)).toBe(true);
    }
  });
});
