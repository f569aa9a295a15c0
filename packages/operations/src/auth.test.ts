import { describe, expect, it } from "vitest";
import { bearerToken, tokenMatches } from "./auth";

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
