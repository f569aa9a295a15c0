// Several hosts on one machine, for tests of Hookline across hosts: each host is a network
// namespace (`ip netns`) with its own loopback, ports and address, wired by a veth pair to a
// bridge in the test's own namespace. The test's namespace is one more host (the one that runs
// Redis, Postgres, the targets and the provider). Needs root, or CAP_NET_ADMIN and CAP_SYS_ADMIN.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

export interface Host {
  /** The namespace's name, for `spawnHookline(..., { netns })`. */
  readonly netns: string;
  readonly address: string;
}

export interface HostNetwork {
  /** This namespace's address on the bridge: where the other hosts reach the test's servers. */
  readonly address: string;
  /** The network, as a CIDR (for pg_hba). */
  readonly cidr: string;
  readonly hosts: readonly Host[];
  /** Unplugs a host's cable: its packets are dropped (no reset, as when a link really fails). */
  cut(host: Host): void;
  restore(host: Host): void;
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: "pipe" });
}

/**
 * Null when this machine can make network namespaces, otherwise why not (to skip with a reason).
 */
export function namespacesUnavailable(): string | null {
  const probe = `hlprobe${randomBytes(3).toString("hex")}`;
  try {
    ip("netns", "add", probe);
    ip("netns", "del", probe);
    return null;
  } catch (error) {
    const text = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `ip netns add failed: ${text || (error instanceof Error ? error.message : String(error))}`;
  }
}

/** Makes `count` hosts on a fresh /24; destroy() removes every namespace, link and the bridge. */
export function createHostNetwork(count: number): HostNetwork {
  const tag = randomBytes(2).toString("hex");
  // 10.213.x.0/24, x from the tag: two test runs on one machine rarely pick the same one.
  const net = `10.213.${Number.parseInt(tag, 16) % 250}`;
  const bridge = `hlbr${tag}`;
  const made: Array<() => void> = [];
  const destroy = () => {
    for (const undo of made.splice(0).reverse()) {
      try {
        undo();
      } catch {
        // already gone
      }
    }
  };
  try {
    ip("link", "add", bridge, "type", "bridge");
    made.push(() => ip("link", "del", bridge));
    ip("addr", "add", `${net}.1/24`, "dev", bridge);
    ip("link", "set", bridge, "up");
    const hosts: Host[] = [];
    const outer = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const netns = `hl${tag}h${i}`;
      const address = `${net}.${11 + i}`;
      const [here, there] = [`hl${tag}o${i}`, `hl${tag}i${i}`];
      ip("netns", "add", netns);
      made.push(() => ip("netns", "del", netns));
      ip("link", "add", here, "type", "veth", "peer", "name", there);
      made.push(() => ip("link", "del", here));
      ip("link", "set", there, "netns", netns);
      ip("link", "set", here, "master", bridge);
      ip("link", "set", here, "up");
      ip("-n", netns, "addr", "add", `${address}/24`, "dev", there);
      ip("-n", netns, "link", "set", there, "up");
      ip("-n", netns, "link", "set", "lo", "up");
      hosts.push({ netns, address });
      outer.set(netns, here);
    }
    const link = (host: Host) => {
      const name = outer.get(host.netns);
      if (!name) throw new Error(`${host.netns} is not a host of this network`);
      return name;
    };
    return {
      address: `${net}.1`,
      cidr: `${net}.0/24`,
      hosts,
      cut: (host) => ip("link", "set", link(host), "down"),
      restore: (host) => ip("link", "set", link(host), "up"),
      destroy,
    };
  } catch (error) {
    destroy();
    throw error;
  }
}
