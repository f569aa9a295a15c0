// The fast path (src/fast-path.ts) answers accepted requests on node:http directly and hands
// everything else to the Hono app: the answers must be the same either way, and the same with
// verification on the ingest thread (the default) or on the HTTP thread.
import { request } from "node:http";
import {
  closeAll,
  type Isolated,
  isolate,
  loadTestConfig,
  type Stack,
  sendSigned,
  startStack,
} from "@hookline/testkit";
import { signRequest } from "@hookline/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SECRET = "fast-path-clausum-secret-0123456789";
const CONFIG = `
server: { body_limit: 4kb }
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${SECRET}"] }
`;

const MODES = ["ingest thread", "one thread"] as const;
type Mode = (typeof MODES)[number];

let iso: Isolated;
let stacks: Record<Mode, Stack>;

beforeAll(async () => {
  iso = await isolate("fastpath");
  stacks = {
    "ingest thread": await startStack(iso, loadTestConfig(CONFIG), { withWorker: false }),
    "one thread": await startStack(
      iso,
      loadTestConfig(CONFIG.replace("{ body_limit: 4kb }", "{ body_limit: 4kb, ingest_thread: false }")),
      { withWorker: false },
    ),
  };
});
afterAll(() => closeAll(stacks["ingest thread"], stacks["one thread"], iso));

const body = (n: number) =>
  JSON.stringify({ event: "case.created", timestamp: "2026-05-29T18:30:00Z", data: { n } });

function signed(text: string): Record<string, string> {
  const source = stacks["ingest thread"].config.sources[0];
  if (!source) throw new Error("no source");
  const s = signRequest(source.spec, {
    body: Buffer.from(text),
    nowMs: Date.now(),
    eventType: "case.created",
  });
  if (!s.ok) throw new Error(s.message);
  return { "content-type": "application/json", ...s.headers };
}

/** A raw request, so the Host header and path are exactly what we say. */
function post(stack: Stack, path: string, text: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: stack.gateway.port, method: "POST", path, headers: { ...headers } },
        (res) => {
          let data = "";
          res.on("data", (c: Buffer) => {
            data += c.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
        },
      );
      req.on("error", reject);
      req.end(text);
    },
  );
}

describe.each(MODES)("fast path, %s", (mode) => {
  let stack: Stack;
  beforeAll(() => {
    stack = stacks[mode];
  });

  it("answers an accepted request 202 with the event id, as JSON", async () => {
    const res = await sendSigned(stack, "clausum", body(1));
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ id: expect.stringMatching(/^evt_[0-9a-f]{32}$/) });
  });

  it("hands a refused request to the app, which answers with the reason code and request id", async () => {
    const headers = signed(body(2));
    const res = await post(stack, "/webhooks/clausum", body(3), headers); // signed for another body
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({
      code: "signature_mismatch",
      request_id: expect.stringMatching(/^req_/),
    });
  });

  it("hands over a body over the limit: 413, read once", async () => {
    const big = JSON.stringify({ event: "case.created", pad: "x".repeat(8 * 1024) });
    const res = await post(stack, "/webhooks/clausum", big, signed(big));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ code: "body_too_large" });
  });

  it("leaves unusual requests to the app, with the same answers", async () => {
    const text = body(4);
    const withQuery = await post(stack, "/webhooks/clausum?attempt=1", text, signed(text));
    expect(withQuery.status).toBe(202);
    const upperHost = await post(stack, "/webhooks/clausum", body(5), {
      ...signed(body(5)),
      host: "LOCALHOST",
    });
    expect(upperHost.status).toBe(202);
    const unknown = await post(stack, "/webhooks/nope", text, signed(text));
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ code: "unknown_source" });
  });
});
