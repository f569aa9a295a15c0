import { describe, expect, it } from "vitest";
import { clientAllowed, parseForwardedHop, resolveClientAddress } from "./client-address.js";
import { loadConfigText } from "./load.js";
import type { AddressList } from "./types.js";

/** A list compiled the way the config compiles it. */
function cidrs(...list: string[]): AddressList {
  const result = loadConfigText(`server: { trusted_proxies: ${JSON.stringify(list)} }`, {});
  if (!result.ok || result.config.server.trustedProxies === null) throw new Error("bad test list");
  return result.config.server.trustedProxies;
}

const proxies = cidrs("10.0.0.0/8", "fd00::/8");

describe("parseForwardedHop", () => {
  it("reads addresses with or without a port or brackets", () => {
    expect(parseForwardedHop(" 203.0.113.9 ")).toBe("203.0.113.9");
    expect(parseForwardedHop("203.0.113.9:51234")).toBe("203.0.113.9");
    expect(parseForwardedHop("2001:DB8::9")).toBe("2001:db8::9");
    expect(parseForwardedHop("[2001:db8::9]")).toBe("2001:db8::9");
    expect(parseForwardedHop("[2001:db8::9]:443")).toBe("2001:db8::9");
    expect(parseForwardedHop("::ffff:203.0.113.9")).toBe("203.0.113.9");
  });

  it("refuses anything else", () => {
    for (const entry of [
      "",
      "unknown",
      "_hidden",
      "203.0.113",
      "host.example",
      "[203.0.113.9",
      "1.2.3.4:port",
    ])
      expect(parseForwardedHop(entry), entry).toBeNull();
  });
});

describe("resolveClientAddress", () => {
  it("is the socket's peer, normalised, when no proxy is trusted: X-Forwarded-For is never believed", () => {
    expect(resolveClientAddress("::ffff:127.0.0.1", undefined, null)).toBe("127.0.0.1");
    expect(resolveClientAddress("127.0.0.1", "198.51.100.1", null)).toBe("127.0.0.1");
    expect(resolveClientAddress("::1", "198.51.100.1", null)).toBe("::1");
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    expect(resolveClientAddress("203.0.113.5", "10.1.1.1", proxies)).toBe("203.0.113.5");
  });

  it("takes the right-most address that is not a trusted proxy", () => {
    expect(resolveClientAddress("10.0.0.1", "198.51.100.7", proxies)).toBe("198.51.100.7");
    // The client forged the left entry; the proxies appended the rest.
    expect(resolveClientAddress("10.0.0.1", "192.0.2.66, 198.51.100.7, 10.2.2.2", proxies)).toBe(
      "198.51.100.7",
    );
    expect(resolveClientAddress("::ffff:10.0.0.1", "2001:db8::7,fd00::1", proxies)).toBe("2001:db8::7");
  });

  it("takes the left-most when every hop is a trusted proxy, and the peer without a header", () => {
    expect(resolveClientAddress("10.0.0.1", "10.9.9.9, 10.2.2.2", proxies)).toBe("10.9.9.9");
    expect(resolveClientAddress("10.0.0.1", undefined, proxies)).toBe("10.0.0.1");
    expect(resolveClientAddress("10.0.0.1", "  ", proxies)).toBe("10.0.0.1");
  });

  it("does not know the client when the walk meets an entry that is not an address", () => {
    expect(resolveClientAddress("10.0.0.1", "198.51.100.7, unknown", proxies)).toBeNull();
    expect(resolveClientAddress("10.0.0.1", "198.51.100.7,,10.2.2.2", proxies)).toBeNull();
    // Left of the client, garbage is never reached.
    expect(resolveClientAddress("10.0.0.1", "garbage, 198.51.100.7", proxies)).toBe("198.51.100.7");
  });

  it("does not know a client without a socket address", () => {
    expect(resolveClientAddress(undefined, "198.51.100.7", proxies)).toBeNull();
  });
});

describe("clientAllowed", () => {
  const allow = cidrs("198.51.100.0/24");
  it("takes any client without an allow list, and only listed ones with one", () => {
    expect(clientAllowed(null, null)).toBe(true);
    expect(clientAllowed(null, "203.0.113.1")).toBe(true);
    expect(clientAllowed(allow, "198.51.100.9")).toBe(true);
    expect(clientAllowed(allow, "203.0.113.1")).toBe(false);
    expect(clientAllowed(allow, null)).toBe(false);
  });
});
