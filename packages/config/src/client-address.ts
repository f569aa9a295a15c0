// Who sent a request, for `sources[].allow_ips`, the admin port's audit log and its login
// limiter. X-Forwarded-For is written by whoever sends it: only a proxy listed in
// `server.trusted_proxies` is believed, and only for the hops to its left that it (or another
// trusted proxy) appended.
import { normaliseIp } from "./network.js";
import type { AddressList } from "./types.js";

/** One X-Forwarded-For entry: an address, `[v6]`, `[v6]:port` or `v4:port`; null when it is none of these. */
export function parseForwardedHop(entry: string): string | null {
  const text = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed?.[1] !== undefined) return normaliseIp(bracketed[1]);
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  if (v4WithPort?.[1] !== undefined) return normaliseIp(v4WithPort[1]);
  return normaliseIp(text);
}

/**
 * The client's address, or null when it cannot be known.
 *
 * - The socket's peer, unless `trustedProxies` lists it. Without trusted proxies,
 *   X-Forwarded-For is never read.
 * - From a trusted peer: X-Forwarded-For walked from the right; the first entry that is not a
 *   trusted proxy is the client. If every entry is a trusted proxy, the left-most one is. No
 *   header (or a blank one): the peer itself.
 * - An entry that is not an address (`unknown`, garbage, an empty item) stops the walk and the
 *   client is unknown (null): a trusted proxy wrote something unreadable about who it talked
 *   to, and guessing either neighbour could let a request past an allow list.
 */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: AddressList | null,
): string | null {
  const direct = peer === undefined ? null : normaliseIp(peer);
  if (direct === null) return null;
  if (trustedProxies === null || !trustedProxies.includes(direct)) return direct;
  if (forwardedFor === undefined || forwardedFor.trim() === "") return direct;
  const hops = forwardedFor.split(",");
  let leftMost = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseForwardedHop(hops[i] ?? "");
    if (hop === null) return null;
    if (!trustedProxies.includes(hop)) return hop;
    leftMost = hop;
  }
  return leftMost;
}

/** Whether a source takes requests from this client: any, without an allow list; an unknown client never with one. */
export function clientAllowed(allowIps: AddressList | null, client: string | null): boolean {
  return allowIps === null || (client !== null && allowIps.includes(client));
}
