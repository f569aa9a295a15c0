import { describe, expect, it } from "vitest";
import { AuthLimiter, clientKey } from "./auth-limiter";

describe("AuthLimiter", () => {
  it("locks out one address after its failures, not the others, until the window has passed", () => {
    let now = 0;
    const limiter = new AuthLimiter({ max: 3, windowMs: 60_000, maxAddresses: 100 }, () => now);
    for (let i = 0; i < 3; i++) limiter.failed("10.0.0.1");
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBe(60);
    expect(limiter.retryAfterSeconds("10.0.0.2")).toBe(0);
    now = 59_500;
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBe(1);
    now = 60_000;
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBe(0);
  });

  it("forgets an address's failures when it signs in", () => {
    const limiter = new AuthLimiter({ max: 2, windowMs: 60_000, maxAddresses: 100 }, () => 0);
    limiter.failed("10.0.0.1");
    limiter.succeeded("10.0.0.1");
    limiter.failed("10.0.0.1");
    expect(limiter.retryAfterSeconds("10.0.0.1")).toBe(0);
  });

  it("remembers at most maxAddresses addresses, however many an attacker uses", () => {
    const limiter = new AuthLimiter({ max: 2, windowMs: 60_000, maxAddresses: 50 }, () => 0);
    for (let i = 0; i < 10_000; i++) limiter.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(limiter.size).toBe(50);
  });

  it("counts an IPv6 /64 as one client, and a v4-mapped address as its IPv4", () => {
    expect(clientKey("2001:db8:1:2:aaaa::1")).toBe(clientKey("2001:0db8:1:2:ffff:eeee:dddd:cccc"));
    expect(clientKey("2001:db8:1:2::1")).not.toBe(clientKey("2001:db8:1:3::1"));
    expect(clientKey("::ffff:127.0.0.2")).toBe("127.0.0.2");
    expect(clientKey("127.0.0.1")).toBe("127.0.0.1");
  });
});
