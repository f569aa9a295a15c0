// The client of a request on the gateway's node:http server, by the rule in
// @hookline/config's client-address.ts (the admin port applies the same rule).
import type { IncomingMessage } from "node:http";
import { type AddressList, resolveClientAddress } from "@hookline/config";

/** The client of a node:http request (repeated X-Forwarded-For headers arrive joined with ", "). */
export function clientOf(req: IncomingMessage, trustedProxies: AddressList | null): string | null {
  const forwarded = req.headers["x-forwarded-for"];
  return resolveClientAddress(
    req.socket.remoteAddress,
    Array.isArray(forwarded) ? forwarded.join(", ") : forwarded,
    trustedProxies,
  );
}
