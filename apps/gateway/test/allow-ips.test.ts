// sources[].allow_ips and server.trusted_proxies over real sockets: loopback clients from chosen
// local addresses (Linux answers all of 127/8), IPv6 on a dual-stack listener, both the fast
// path and the Hono path (a query string sends a request to the app), and Redis to prove that
// a refused request queued nothing.
import { Agent, type IncomingHttpHeaders, request } from "node:http";
import type { Socket } from "node:net";
import type { HooklineConfig } from "@hookline/config";
import { bullPrefix, createProducerConnection, INGEST_QUEUE, type IngestJob } from "@hookline/queue";
import { closeAll, type Isolated, isolate, loadTestConfig, type Stack, startStack } from "@hookline/testkit";
import { signRequest } from "@hookline/verify";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../src/server";

const SECRET = "allow-ips-clausum-secret-0123456789";
const sources = (extra: string) => `
sources:
  - id: open
    verify: { scheme: clausum, secrets: ["${SECRET}"] }
  - id: local
    verify: { scheme: clausum, secrets: ["${SECRET}"] }
    allow_ips: ["127.0.0.1", "::1"]
  - id: elsewhere
    verify: { scheme: clausum, secrets: ["${SECRET}"] }
    allow_ips: ["10.0.0.0/8"]
  - id: partner
    verify: { scheme: clausum, secrets: ["${SECRET}"] }
    allow_ips: ["198.51.100.0/24"]
${extra}`;

let iso: Isolated;
/** No trusted proxies: X-Forwarded-For is never read. Listens on 127.0.0.1. */
let direct: Stack;
/** Trusts 127.0.0.2 as a proxy. */
let proxied: Stack;
/** The first config on a dual-stack listener ("::"), where IPv4 clients arrive as ::ffff:a.b.c.d. */
let dualStack: RunningGateway;
let queue: Queue;
const observed: Array<[string, string]> = [];

beforeAll(async () => {
  iso = await isolate("allowips");
  const observer = { observe: (source: string, outcome: string) => void observed.push([source, outcome]) };
  direct = await startStack(iso, loadTestConfig(sources("")), { withWorker: false, observer });
  proxied = await startStack(
    iso,
    loadTestConfig(`server: { trusted_proxies: ["127.0.0.2"] }\n${sources("")}`),
    {
      withWorker: false,
    },
  );
  dualStack = await startGateway({ ...direct.shared, port: 0, host: "::" });
  queue = new Queue(INGEST_QUEUE, {
    connection: createProducerConnection(iso.redisUrl),
    prefix: bullPrefix(iso.queuePrefix),
  });
});

afterAll(() => closeAll(queue, dualStack, proxied, direct, iso));

let n = 0;
/** A body no other request sends, so Redis can be searched for it. */
const uniqueBody = () =>
  JSON.stringify({ event: "case.created", data: { marker: `allow-ips-${process.pid}-${++n}` } });

function signed(config: HooklineConfig, text: string): Record<string, string> {
  const source = config.sources[0];
  if (!source) throw new Error("no source");
  const s = signRequest(source.spec, {
    body: Buffer.from(text),
    nowMs: Date.now(),
    eventType: "case.created",
  });
  if (!s.ok) throw new Error(s.message);
  return { "content-type": "application/json", ...s.headers };
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly socket: Socket;
}

/** A POST from `from` (a local address) to `host`, with a correctly signed body. */
function post(options: {
  host: string;
  port: number;
  from: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  agent?: Agent;
}): Promise<Answer> {
  const text = options.body ?? uniqueBody();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host,
        port: options.port,
        localAddress: options.from,
        method: "POST",
        path: options.path,
        headers: { ...signed(direct.config, text), ...options.headers },
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (res) => {
        let data = "";
        res.on("data", (c: Buffer) => {
          data += c.toString();
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, socket: res.socket }),
        );
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

const to = (stack: Stack) => ({ host: "127.0.0.1", port: stack.gateway.port });
/** The same request on the fast path and, with a query string, on the Hono app's path. */
const PATHS = (source: string) => [`/webhooks/${source}`, `/webhooks/${source}?via=app`];

async function queuedBodies(): Promise<string[]> {
  const jobs = await queue.getJobs(["wait", "prioritized", "delayed", "active"]);
  return jobs
    .flatMap((job) => {
      const data = job.data as IngestJob | { events: IngestJob[] };
      return "events" in data ? data.events : [data];
    })
    .map((event) => Buffer.from(event.body, "base64").toString("utf8"));
}

function rejectionLogs(stack: Stack, code: string): Array<Record<string, unknown>> {
  return stack.logs.lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((l) => l.code === code && String(l.msg).startsWith("rejected"));
}

describe("allow_ips without trusted proxies", () => {
  it("takes a listed client on both paths", async () => {
    for (const path of PATHS("local")) {
      const res = await post({ ...to(direct), from: "127.0.0.1", path });
      expect(res.status, path).toBe(202);
    }
  });

  it("refuses any other client with 403 ip_not_allowed on both paths, and queues nothing", async () => {
    const refusedBodies: string[] = [];
    for (const [from, source] of [
      ["127.0.0.2", "local"],
      ["127.0.0.1", "elsewhere"],
    ] as const) {
      for (const path of PATHS(source)) {
        const body = uniqueBody();
        refusedBodies.push(body);
        const res = await post({ ...to(direct), from, path, body });
        expect(res.status, `${from} ${path}`).toBe(403);
        expect(res.headers["content-type"]).toContain("application/json");
        expect(JSON.parse(res.body)).toEqual({
          code: "ip_not_allowed",
          message: "this source does not take requests from your address",
          request_id: expect.stringMatching(/^req_/),
        });
      }
    }
    // The barrier: an accepted request after them is in Redis when it is answered.
    const sentinel = uniqueBody();
    expect(
      (await post({ ...to(direct), from: "127.0.0.2", path: "/webhooks/open", body: sentinel })).status,
    ).toBe(202);
    const queued = await queuedBodies();
    expect(queued).toContain(sentinel);
    for (const body of refusedBodies) expect(queued).not.toContain(body);
  });

  it("counts and logs the refusal like other rejections, with the client's address", async () => {
    const before = observed.filter(([s, o]) => s === "local" && o === "ip_not_allowed").length;
    await post({ ...to(direct), from: "127.0.0.3", path: "/webhooks/local" });
    await post({ ...to(direct), from: "127.0.0.3", path: "/webhooks/local?via=app" });
    expect(observed.filter(([s, o]) => s === "local" && o === "ip_not_allowed").length).toBe(before + 2);
    const logged = rejectionLogs(direct, "ip_not_allowed").filter((l) => l.ip === "127.0.0.3");
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ source: "local", level: 40 });
  });

  it("never believes X-Forwarded-For", async () => {
    for (const path of PATHS("local")) {
      const res = await post({
        ...to(direct),
        from: "127.0.0.2",
        path,
        headers: { "x-forwarded-for": "127.0.0.1" },
      });
      expect(res.status, path).toBe(403);
    }
    const res = await post({
      ...to(direct),
      from: "127.0.0.1",
      path: "/webhooks/partner",
      headers: { "x-forwarded-for": "198.51.100.7" },
    });
    expect(res.status).toBe(403);
  });

  it("keeps the connection usable after refusing a request whose body it did not read", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = JSON.stringify({ event: "case.created", pad: "x".repeat(200_000) });
      const refused = await post({
        ...to(direct),
        from: "127.0.0.2",
        path: "/webhooks/local",
        body: big,
        agent,
      });
      expect(refused.status).toBe(403);
      const next = await post({ ...to(direct), from: "127.0.0.2", path: "/webhooks/open", agent });
      expect(next.status).toBe(202);
      expect(next.socket).toBe(refused.socket); // the same connection carried both
    } finally {
      agent.destroy();
    }
  });
});

describe("trusted_proxies", () => {
  it("takes the client from X-Forwarded-For when the peer is a trusted proxy, on both paths", async () => {
    for (const path of PATHS("partner")) {
      const res = await post({
        ...to(proxied),
        from: "127.0.0.2",
        path,
        headers: { "x-forwarded-for": "198.51.100.7" },
      });
      expect(res.status, path).toBe(202);
    }
  });

  it("uses the right-most untrusted hop: a client cannot forge its way in from the left", async () => {
    for (const path of PATHS("partner")) {
      const forged = await post({
        ...to(proxied),
        from: "127.0.0.2",
        path,
        headers: { "x-forwarded-for": "198.51.100.7, 203.0.113.9" },
      });
      expect(forged.status, path).toBe(403);
    }
    const logged = rejectionLogs(proxied, "ip_not_allowed").filter((l) => l.ip === "203.0.113.9");
    expect(logged.length).toBeGreaterThanOrEqual(2);
  });

  it("skips trusted hops and ignores the header from an untrusted peer", async () => {
    const chain = await post({
      ...to(proxied),
      from: "127.0.0.2",
      path: "/webhooks/partner",
      headers: { "x-forwarded-for": "198.51.100.7, 127.0.0.2" },
    });
    expect(chain.status).toBe(202);
    const untrusted = await post({
      ...to(proxied),
      from: "127.0.0.1",
      path: "/webhooks/partner",
      headers: { "x-forwarded-for": "198.51.100.7" },
    });
    expect(untrusted.status).toBe(403);
    // No header: the proxy itself is the client.
    expect((await post({ ...to(proxied), from: "127.0.0.2", path: "/webhooks/partner" })).status).toBe(403);
  });

  it("refuses a client it cannot know (an unreadable hop) on a source with an allow list", async () => {
    const res = await post({
      ...to(proxied),
      from: "127.0.0.2",
      path: "/webhooks/partner",
      headers: { "x-forwarded-for": "198.51.100.7, unknown" },
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: "ip_not_allowed" });
  });
});

describe("dual-stack listener", () => {
  it("takes ::1 and an IPv4 client reported as ::ffff:127.0.0.1 when they are listed", async () => {
    for (const path of PATHS("local")) {
      expect(
        (await post({ host: "::1", port: dualStack.port, from: "::1", path })).status,
        `::1 ${path}`,
      ).toBe(202);
      expect(
        (await post({ host: "127.0.0.1", port: dualStack.port, from: "127.0.0.1", path })).status,
        path,
      ).toBe(202);
    }
  });

  it("refuses them where they are not", async () => {
    for (const path of PATHS("elsewhere")) {
      expect((await post({ host: "::1", port: dualStack.port, from: "::1", path })).status, path).toBe(403);
      expect(
        (await post({ host: "127.0.0.1", port: dualStack.port, from: "127.0.0.2", path })).status,
        path,
      ).toBe(403);
    }
    for (const path of PATHS("local"))
      expect(
        (await post({ host: "127.0.0.1", port: dualStack.port, from: "127.0.0.2", path })).status,
        path,
      ).toBe(403);
  });
});
