// Failed authentication, counted per client address: the admin token could otherwise be
// guessed as fast as the port answers (2,000 tries a second were seen), and one global counter
// would let anyone lock the right token out by failing ten times. Memory is bounded: at most
// `maxAddresses` addresses are remembered (the least recently failing are forgotten first), each
// with at most `max` failure times.

import { isIPv6 } from "node:net";
import { type AddressList, resolveClientAddress } from "@hookline/config";
import type { Context } from "hono";

export interface AuthLimiterSettings {
  /** Failures allowed per address within `windowMs`. */
  readonly max: number;
  readonly windowMs: number;
  readonly maxAddresses: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimiterSettings = { max: 10, windowMs: 60_000, maxAddresses: 10_000 };

/**
 * One IPv4 address, or one IPv6 /64: a single IPv6 host usually holds a whole /64, so counting
 * its addresses one by one would count nothing.
 */
export function clientKey(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4?.[1]) return v4[1];
  if (!isIPv6(address)) return address;
  const [head = "", tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The socket's address of the request's client; "unknown" when there is no socket (tests). */
export function clientAddress(c: Context, trustedProxies: AddressList | null): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  // Behind a reverse proxy every request comes from the proxy: without its X-Forwarded-For, one
  // address's failures would lock everyone out and the audit log would name the proxy.
  return (
    resolveClientAddress(incoming?.socket?.remoteAddress, c.req.header("x-forwarded-for"), trustedProxies) ??
    "unknown"
  );
}

export class AuthLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly settings: AuthLimiterSettings = DEFAULT_AUTH_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds this address must wait before it may try again; 0 when it may try now. */
  retryAfterSeconds(address: string): number {
    const key = clientKey(address);
    const recent = this.#recent(key);
    if (recent.length < this.settings.max) return 0;
    const oldest = recent[recent.length - this.settings.max] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.settings.windowMs - this.now()) / 1000));
  }

  failed(address: string): void {
    const key = clientKey(address);
    const recent = [...this.#recent(key), this.now()].slice(-this.settings.max);
    // Re-inserted, so the map's order is least recently failing first.
    this.#failures.delete(key);
    this.#failures.set(key, recent);
    while (this.#failures.size > this.settings.maxAddresses) {
      const first = this.#failures.keys().next();
      if (first.done) break;
      this.#failures.delete(first.value);
    }
  }

  succeeded(address: string): void {
    this.#failures.delete(clientKey(address));
  }

  /** How many addresses are remembered (for tests of the bound). */
  get size(): number {
    return this.#failures.size;
  }

  #recent(key: string): number[] {
    const now = this.now();
    const times = (this.#failures.get(key) ?? []).filter((t) => now - t < this.settings.windowMs);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }
}
