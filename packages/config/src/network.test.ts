import { describe, expect, it } from "vitest";
import { type Cidr, compileAddressList, normaliseIp, parseCidr } from "./network.js";

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.cidr;
}

function list(...texts: string[]) {
  return compileAddressList(texts.map(cidr), texts);
}

describe("normaliseIp", () => {
  it("turns IPv4-mapped IPv6 into IPv4 and lower-cases IPv6", () => {
    expect(normaliseIp("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(normaliseIp("::FFFF:192.0.2.7")).toBe("192.0.2.7");
    expect(normaliseIp("192.0.2.7")).toBe("192.0.2.7");
    expect(normaliseIp("2001:DB8::1")).toBe("2001:db8::1");
    expect(normaliseIp("::1")).toBe("::1");
  });

  it("refuses what is not an address", () => {
    for (const text of ["", "unknown", "192.0.2.256", "192.0.2.7:443", "[::1]", "fe80::1%eth0", " 192.0.2.7"])
      expect(normaliseIp(text), text).toBeNull();
  });
});

describe("parseCidr", () => {
  it("reads IPv4 and IPv6 ranges", () => {
    expect(cidr("10.0.0.0/8")).toEqual({ address: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(cidr("2001:db8::/32")).toEqual({ address: "2001:db8::", prefix: 32, family: "ipv6" });
    expect(cidr("0.0.0.0/0")).toEqual({ address: "0.0.0.0", prefix: 0, family: "ipv4" });
  });

  it("takes a bare address as one host", () => {
    expect(cidr("192.0.2.7")).toEqual({ address: "192.0.2.7", prefix: 32, family: "ipv4" });
    expect(cidr("::1")).toEqual({ address: "::1", prefix: 128, family: "ipv6" });
    expect(cidr("::ffff:192.0.2.7")).toEqual({ address: "192.0.2.7", prefix: 32, family: "ipv4" });
  });

  it("names what is wrong", () => {
    const message = (text: string) => {
      const parsed = parseCidr(text);
      return parsed.ok ? "ok" : parsed.message;
    };
    expect(message("10.0.0.0/33")).toContain("prefix length must be 0 to 32");
    expect(message("2001:db8::/129")).toContain("0 to 128");
    expect(message("10.0.0.0/")).toContain("prefix length");
    expect(message("10.0.0.0/-1")).toContain("prefix length");
    expect(message("10.0.0.0/8/8")).toContain("prefix length");
    expect(message("10.0.0/8")).toContain("is not an IP address or CIDR");
    expect(message("example.com")).toContain("is not an IP address or CIDR");
    expect(message("")).toContain("is not an IP address or CIDR");
    expect(message("::ffff:10.0.0.0/104")).toContain("write an IPv4 range as IPv4");
  });
});

describe("compileAddressList", () => {
  it("matches addresses inside the ranges and nothing else", () => {
    const allowed = list("10.0.0.0/8", "192.0.2.7", "2001:db8::/32");
    expect(allowed.includes("10.200.3.4")).toBe(true);
    expect(allowed.includes("11.0.0.1")).toBe(false);
    expect(allowed.includes("192.0.2.7")).toBe(true);
    expect(allowed.includes("192.0.2.8")).toBe(false);
    expect(allowed.includes("2001:db8:1::5")).toBe(true);
    expect(allowed.includes("2001:db9::5")).toBe(false);
    expect(allowed.cidrs).toEqual(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]);
  });

  it("matches an IPv4 client that a dual-stack socket reports as IPv4-mapped IPv6", () => {
    expect(list("127.0.0.0/8").includes("::ffff:127.0.0.1")).toBe(true);
    expect(list("10.0.0.0/8").includes("::ffff:127.0.0.1")).toBe(false);
  });

  it("never matches what is not an address", () => {
    expect(list("0.0.0.0/0", "::/0").includes("unknown")).toBe(false);
    expect(list("0.0.0.0/0", "::/0").includes("")).toBe(false);
  });
});
