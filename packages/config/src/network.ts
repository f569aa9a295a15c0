// IP addresses and CIDR lists (`sources[].allow_ips`, `server.trusted_proxies`). Lists are
// compiled once, at load, into a node:net BlockList, so a request costs one lookup.
import { BlockList, isIP } from "node:net";
import type { AddressList } from "./types.js";

export type IpFamily = "ipv4" | "ipv6";

/** An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`), as dual-stack sockets report IPv4 clients. */
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * An address in the form lists and logs use: IPv4-mapped IPv6 becomes plain IPv4, IPv6 is
 * lower-cased; anything that is not an IP address (a zone id `%eth0` included) is null.
 */
export function normaliseIp(text: string): string | null {
  const mapped = MAPPED_IPV4.exec(text)?.[1];
  if (mapped !== undefined && isIP(mapped) === 4) return mapped;
  const family = isIP(text);
  if (family === 4) return text;
  if (family === 6 && !text.includes("%")) return text.toLowerCase();
  return null;
}

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: IpFamily;
}

export type CidrResult =
  | { readonly ok: true; readonly cidr: Cidr }
  | { readonly ok: false; readonly message: string };

/** `10.0.0.0/8`, `2001:db8::/32`; a bare address is a single host (/32 or /128). */
export function parseCidr(text: string): CidrResult {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const address = normaliseIp(addressText);
  if (address === null)
    return {
      ok: false,
      message: `${JSON.stringify(text)} is not an IP address or CIDR (e.g. "10.0.0.0/8", "2001:db8::/32")`,
    };
  const family: IpFamily = isIP(address) === 4 ? "ipv4" : "ipv6";
  // A mapped address written with a prefix counts its prefix on the IPv6 form: keep it simple and refuse it.
  if (address !== addressText.toLowerCase() && family === "ipv4" && slash !== -1)
    return { ok: false, message: `${JSON.stringify(text)}: write an IPv4 range as IPv4 (e.g. "10.0.0.0/8")` };
  const max = family === "ipv4" ? 32 : 128;
  if (slash === -1) return { ok: true, cidr: { address, prefix: max, family } };
  const prefixText = trimmed.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max))
    return { ok: false, message: `${JSON.stringify(text)}: the prefix length must be 0 to ${max}` };
  return { ok: true, cidr: { address, prefix, family } };
}

/** A list of CIDRs compiled into one matcher; `cidrs` keeps the text as written. */
export function compileAddressList(cidrs: readonly Cidr[], written: readonly string[]): AddressList {
  const blocks = new BlockList();
  for (const cidr of cidrs) blocks.addSubnet(cidr.address, cidr.prefix, cidr.family);
  return {
    cidrs: [...written],
    includes(address: string): boolean {
      const ip = normaliseIp(address);
      if (ip === null) return false;
      return blocks.check(ip, isIP(ip) === 4 ? "ipv4" : "ipv6");
    },
  };
}
