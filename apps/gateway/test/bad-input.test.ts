// Hostile and broken input on the public port. Every case must get a clear 4xx with a reason
// code, leave the process answering, queue nothing, and be logged (rate-limited) and counted.
// Raw sockets where fetch would refuse to send the bytes.
import { bullPrefix, createProducerConnection, INGEST_QUEUE } from "@hookline/queue";
import {
  closeAll,
  type Isolated,
  isolate,
  loadTestConfig,
  type RawPart,
  type RawResponse,
  rawHttp,
  type Stack,
  sendSigned,
  startStack,
} from "@hookline/testkit";
import { signRequest } from "@hookline/verify";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const KLARIQO_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const CLAUSUM_SECRET = "clausum-bad-input-secret-6d1f0c";
const BODY = '{"type":"invoice.paid","data":{"id":"inv_1"}}';
const IDLE_MS = 500;

const CONFIG = `
server: { body_limit: 64kb }
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["${KLARIQO_SECRET}"] }
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
`;

let iso: Isolated;
let stack: Stack;
let queue: Queue;
const observed = new Map<string, number>();
/** Every signature value sent: none may show up in a log line or an answer. */
const sentSignatures = new Set<string>();
const answers: string[] = [];

const observedCount = (outcome: string) => observed.get(outcome) ?? 0;

interface QueuedEvent {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Every event in the ingest queue, whether it was queued alone or in a batch job. */
async function queuedEvents(): Promise<QueuedEvent[]> {
  const jobs = await queue.getJobs([
    "wait",
    "active",
    "delayed",
    "prioritized",
    "paused",
    "completed",
    "failed",
  ]);
  return jobs.flatMap((job) => {
    const data = job.data as QueuedEvent | { events: QueuedEvent[] };
    return "events" in data ? data.events : [data];
  });
}

const queued = async () => (await queuedEvents()).length;

function signed(sourceId: string, body: string | Buffer, nowMs = Date.now()): Record<string, string> {
  const source = stack.config.sources.find((s) => s.id === sourceId);
  if (!source) throw new Error(`no source ${sourceId}`);
  const result = signRequest(source.spec, {
    body: typeof body === "string" ? Buffer.from(body) : body,
    nowMs,
    eventType: "invoice.paid",
  });
  if (!result.ok) throw new Error(result.message);
  for (const [name, value] of Object.entries(result.headers))
    if (/signature/i.test(name)) sentSignatures.add(value);
  return result.headers;
}

async function post(
  path: string,
  body: string | Buffer,
  headers: Record<string, string>,
  method = "POST",
): Promise<{ status: number; code: string | undefined; headers: Headers; text: string }> {
  for (const [name, value] of Object.entries(headers)) if (/signature/i.test(name)) sentSignatures.add(value);
  const res = await fetch(`${stack.gateway.url}${path}`, {
    method,
    headers,
    ...(method === "GET" || method === "HEAD" ? {} : { body }),
  });
  const text = await res.text();
  answers.push(text);
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code, headers: res.headers, text };
}

/** Runs a request that must be refused, and checks the whole contract around the refusal. */
async function expectRejected(
  send: () => Promise<{ status: number; code: string | undefined }>,
  status: number,
  code: string,
): Promise<void> {
  const before = { queued: await queued(), observed: observedCount(code) };
  const answer = await send();
  expect({ status: answer.status, code: answer.code }).toEqual({ status, code });
  expect((await fetch(`${stack.gateway.url}/healthz`)).status).toBe(200);
  expect(await queued()).toBe(before.queued);
  expect(observedCount(code)).toBe(before.observed + 1);
  expect(rejectionLogs(code).length).toBeGreaterThan(0);
}

async function expectAccepted(send: () => Promise<{ status: number }>): Promise<void> {
  const before = await queued();
  expect((await send()).status).toBe(202);
  expect(await queued()).toBe(before + 1);
}

/** The first response of a raw exchange, as status and reason code. */
async function raw(parts: readonly RawPart[]): Promise<{ status: number; code: string | undefined }> {
  const exchange = await rawHttp(stack.gateway.port, parts);
  answers.push(exchange.text);
  const first: RawResponse | undefined = exchange.responses[0];
  if (!first) throw new Error(`no response; got ${JSON.stringify(exchange.text.slice(0, 200))}`);
  let code: string | undefined;
  try {
    code = (JSON.parse(first.body) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { status: first.status, code };
}

function rejectionLogs(code: string): Array<Record<string, unknown>> {
  return stack.logs.lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((l) => l.code === code && String(l.msg).startsWith("rejected"));
}

const head = (path: string, headers: Record<string, string | number>) =>
  `POST ${path} HTTP/1.1\r\nHost: gw\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;

beforeAll(async () => {
  iso = await isolate("badinput");
  stack = await startStack(iso, loadTestConfig(CONFIG), {
    withWorker: false,
    bodyIdleTimeoutMs: IDLE_MS,
    observer: {
      observe: (_source, outcome) => observed.set(outcome, observedCount(outcome) + 1),
    },
  });
  queue = new Queue(INGEST_QUEUE, {
    connection: createProducerConnection(iso.redisUrl),
    prefix: bullPrefix(iso.queuePrefix),
  });
});

afterAll(() => closeAll(queue, stack, iso));

const good = () => signed("klariqo", BODY);

describe("signature headers (Standard Webhooks)", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const variant = (patch: Record<string, string | null>) => {
    const headers: Record<string, string> = { "content-type": "application/json", ...good() };
    for (const [name, value] of Object.entries(patch)) {
      if (value === null) delete headers[name];
      else headers[name] = value;
    }
    return () => post("/webhooks/klariqo", BODY, headers);
  };
  const zeros = Buffer.alloc(32).toString("base64");

  it.each([
    ["no signature header", "signature_missing", { "webhook-signature": null }],
    ["an empty signature header", "signature_malformed", { "webhook-signature": "" }],
    ["no id", "id_missing", { "webhook-id": null }],
    ["no timestamp", "timestamp_missing", { "webhook-timestamp": null }],
    ["a non-numeric timestamp", "timestamp_malformed", { "webhook-timestamp": "yesterday" }],
    ["a fractional timestamp", "timestamp_malformed", { "webhook-timestamp": "1748543400.5" }],
    ["a negative timestamp", "timestamp_malformed", { "webhook-timestamp": "-1748543400" }],
    ["an absurdly long timestamp", "timestamp_malformed", { "webhook-timestamp": "9".repeat(40) }],
    ["garbage", "signature_malformed", { "webhook-signature": "garbage" }],
    ["a version with no signature", "signature_malformed", { "webhook-signature": "v1," }],
    ["no version", "signature_malformed", { "webhook-signature": `,${zeros}` }],
    ["a bare version", "signature_malformed", { "webhook-signature": "v1" }],
    ["invalid base64", "signature_malformed", { "webhook-signature": "v1,!!!not*base64!!!" }],
    ["non-ASCII bytes", "signature_malformed", { "webhook-signature": "v1,\u00e9\u00e9\u00e9" }],
    // Unknown versions are skipped (forward compatibility): with nothing else, nothing matches.
    ["an unknown version only", "signature_mismatch", { "webhook-signature": `v9,${zeros}` }],
    ["a well-formed wrong signature", "signature_mismatch", { "webhook-signature": `v1,${zeros}` }],
    ["a truncated signature", "signature_mismatch", { "webhook-signature": `v1,${zeros.slice(0, 8)}` }],
    [
      "too many signatures",
      "signature_malformed",
      { "webhook-signature": Array(200).fill(`v1,${zeros}`).join(" ") },
    ],
  ] as const)("%s → 401 %s", async (_name, code, patch) => {
    await expectRejected(variant(patch), 401, code);
  });

  it("a timestamp an hour away, either way → 401 timestamp_out_of_tolerance with the skew", async () => {
    for (const skew of [-3600, 3600]) {
      const headers = { ...signed("klariqo", BODY, (now() + skew) * 1000) };
      await expectRejected(() => post("/webhooks/klariqo", BODY, headers), 401, "timestamp_out_of_tolerance");
      const answer = await post("/webhooks/klariqo", BODY, headers);
      expect(JSON.parse(answer.text)).toMatchObject({ skew_seconds: expect.any(Number) });
    }
  });

  it("a signature by another secret, or over other bytes → 401 signature_mismatch", async () => {
    const headers = good();
    await expectRejected(() => post("/webhooks/klariqo", `${BODY} `, headers), 401, "signature_mismatch");
    const source = loadTestConfig(CONFIG.replace(KLARIQO_SECRET, OTHER_SECRET)).sources[0];
    const foreign = source ? signRequest(source.spec, { body: Buffer.from(BODY), nowMs: Date.now() }) : null;
    if (!foreign?.ok) throw new Error("could not sign");
    await expectRejected(() => post("/webhooks/klariqo", BODY, foreign.headers), 401, "signature_mismatch");
  });

  it("a repeated signature header is read as one list (Node joins them)", async () => {
    const headers = good();
    const answer = await raw([
      head("/webhooks/klariqo", {
        "webhook-id": headers["webhook-id"] ?? "",
        "webhook-timestamp": headers["webhook-timestamp"] ?? "",
        "webhook-signature": `v1,${zeros}`,
        "Webhook-Signature": headers["webhook-signature"] ?? "",
        "Content-Length": Buffer.byteLength(BODY),
      }),
      BODY,
    ]);
    expect(answer.status).toBe(202);
  });
});

describe("signature headers (t=...,v1=... schemes)", () => {
  const t = () => String(Math.floor(Date.now() / 1000));
  const hex = "ab".repeat(32);
  it.each([
    ["only a timestamp", "signature_malformed", (): string => `t=${t()}`],
    ["only a signature", "timestamp_missing", (): string => `v1=${hex}`],
    ["a non-numeric t", "timestamp_malformed", (): string => `t=soon,v1=${hex}`],
    ["a non-hex v1", "signature_malformed", (): string => `t=${t()},v1=zz${hex.slice(2)}`],
    ["an odd-length v1", "signature_malformed", (): string => `t=${t()},v1=abc`],
    ["a short v1", "signature_mismatch", (): string => `t=${t()},v1=abcd`],
    ["a wrong v1", "signature_mismatch", (): string => `t=${t()},v1=${hex}`],
    ["an empty header", "signature_malformed", (): string => ""],
    ["empty pairs", "signature_malformed", (): string => ",,,=,="],
  ] as const)("%s → 401 %s", async (_name, code, header) => {
    await expectRejected(
      () => post("/webhooks/clausum", BODY, { "x-clausum-signature": header() }),
      401,
      code,
    );
  });
});

describe("bodies", () => {
  const invalidUtf8 = Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe, 0x22, 0x7d]);

  it("invalid UTF-8, unsigned → 401; signed → 202 with the exact bytes queued", async () => {
    await expectRejected(() => post("/webhooks/klariqo", invalidUtf8, {}), 401, "signature_missing");
    const headers = signed("klariqo", invalidUtf8);
    await expectRejected(
      () => post("/webhooks/klariqo", Buffer.concat([invalidUtf8, Buffer.from([0x00])]), headers),
      401,
      "signature_mismatch",
    );
    await expectAccepted(() => post("/webhooks/klariqo", invalidUtf8, headers));
    const event = (await queuedEvents()).find((e) => e.headers["webhook-id"] === headers["webhook-id"]);
    expect(Buffer.from(event?.body ?? "", "base64").equals(invalidUtf8)).toBe(true);
  });

  it("an empty body, unsigned → 401; signed → 202 (the bytes verify)", async () => {
    await expectRejected(() => post("/webhooks/klariqo", "", {}), 401, "signature_missing");
    await expectAccepted(() => post("/webhooks/klariqo", "", signed("klariqo", "")));
  });

  it("10 MB, declared → 413 body_too_large, and the client reads it", async () => {
    const size = 10 * 1024 * 1024;
    await expectRejected(
      () => raw([head("/webhooks/klariqo", { "Content-Length": size, ...good() }), Buffer.alloc(size, 0x61)]),
      413,
      "body_too_large",
    );
  });

  it("10 MB, chunked → 413 body_too_large once past the limit", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x62);
    const framed = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from("\r\n"),
    ]);
    await expectRejected(
      () =>
        raw([
          head("/webhooks/klariqo", { "Transfer-Encoding": "chunked", ...good() }),
          ...Array<Buffer>(10).fill(framed),
          "0\r\n\r\n",
        ]),
      413,
      "body_too_large",
    );
  });

  it("a body that arrives slowly, then stops → 408 body_timeout", async () => {
    await expectRejected(
      () =>
        raw([
          head("/webhooks/klariqo", { "Content-Length": 1000, ...good() }),
          "{",
          { pauseMs: IDLE_MS / 3 },
          '"type"',
          { pauseMs: IDLE_MS / 3 },
          ":",
        ]),
      408,
      "body_timeout",
    );
  });

  it("a body longer than its Content-Length: the rest is a second, malformed request", async () => {
    const before = { queued: await queued(), malformed: observedCount("malformed_request") };
    const exchange = await rawHttp(stack.gateway.port, [
      head("/webhooks/klariqo", { "Content-Length": 5 }),
      "{}{}{garbage that is not a request line\r\n\r\n",
    ]);
    // The connection is closed on the malformed part, possibly before the first answer is out.
    expect(exchange.responses.map((r) => [r.status, JSON.parse(r.body).code]).at(-1)).toEqual([
      400,
      "malformed_request",
    ]);
    expect(await queued()).toBe(before.queued);
    expect(observedCount("malformed_request")).toBe(before.malformed + 1);
  });
});

describe("sources, methods, routes", () => {
  it("an unknown source → 404 unknown_source, and its name is not echoed in full", async () => {
    await expectRejected(() => post("/webhooks/nope", BODY, good()), 404, "unknown_source");
    const long = "x".repeat(4000);
    await expectRejected(() => post(`/webhooks/${long}`, BODY, {}), 404, "unknown_source");
    expect(answers.at(-1)?.length).toBeLessThan(400);
    await expectRejected(() => post("/webhooks/..%2F..%2Fetc%2Fpasswd", BODY, {}), 404, "unknown_source");
  });

  it.each(["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])(
    "%s → 405 method_not_allowed with Allow: POST",
    async (method) => {
      let allow: string | null = null;
      await expectRejected(
        async () => {
          const answer = await post("/webhooks/klariqo", BODY, good(), method);
          allow = answer.headers.get("allow");
          return answer;
        },
        405,
        "method_not_allowed",
      );
      expect(allow).toBe("POST");
    },
  );

  it("HEAD → 405 with Allow: POST and no body", async () => {
    const answer = await post("/webhooks/klariqo", "", {}, "HEAD");
    expect([answer.status, answer.headers.get("allow"), answer.text]).toEqual([405, "POST", ""]);
  });

  it("CONNECT → 405 method_not_allowed with Allow: POST, counted and logged", async () => {
    let allow: string | undefined;
    await expectRejected(
      async () => {
        const exchange = await rawHttp(stack.gateway.port, [
          "CONNECT internal.example:443 HTTP/1.1\r\nHost: internal.example:443\r\n\r\n",
        ]);
        answers.push(exchange.text);
        const first = exchange.responses[0];
        if (!first) throw new Error(`no response; got ${JSON.stringify(exchange.text.slice(0, 200))}`);
        allow = first.headers.allow;
        return { status: first.status, code: (JSON.parse(first.body) as { code?: string }).code };
      },
      405,
      "method_not_allowed",
    );
    expect(allow).toBe("POST");
  });

  it("anything else → 404 not_found", async () => {
    await expectRejected(() => post("/webhooks", BODY, good()), 404, "not_found");
    await expectRejected(() => post("/webhooks/klariqo/extra", BODY, good()), 404, "not_found");
    await expectRejected(() => post("/", BODY, good()), 404, "not_found");
  });
});

describe("content types: the body is verified as bytes, whatever its type", () => {
  it.each([
    ["text/plain", "plain words, not JSON"],
    [
      "multipart/form-data; boundary=x",
      "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n",
    ],
    ["application/x-www-form-urlencoded", "a=1&b=%C3%A9"],
    ["application/json; charset=utf-16", BODY],
  ])("%s that verifies → 202", async (type, body) => {
    await expectAccepted(() =>
      post("/webhooks/klariqo", body, { ...signed("klariqo", body), "content-type": type }),
    );
  });

  it("no content-type that verifies → 202", async () => {
    const before = await queued();
    const headers = signed("klariqo", BODY);
    const answer = await raw([
      head("/webhooks/klariqo", { ...headers, "Content-Length": Buffer.byteLength(BODY) }),
      BODY,
    ]);
    expect(answer.status).toBe(202);
    expect(await queued()).toBe(before + 1);
  });

  it("text/plain that does not verify → 401 signature_mismatch, the code unchanged by the type", async () => {
    const headers = { ...signed("klariqo", BODY), "content-type": "text/plain" };
    await expectRejected(() => post("/webhooks/klariqo", "tampered", headers), 401, "signature_mismatch");
  });
});

describe("content encodings: the signature covers the uncompressed bytes", () => {
  it.each(["gzip", "br", "deflate", "gzip, identity", "x-custom"])(
    "Content-Encoding: %s → 415 unsupported_content_encoding, with Accept-Encoding: identity",
    async (encoding) => {
      const headers = { ...signed("klariqo", BODY), "content-encoding": encoding };
      let answer: Awaited<ReturnType<typeof post>> | undefined;
      await expectRejected(
        async () => {
          answer = await post("/webhooks/klariqo", BODY, headers);
          return answer;
        },
        415,
        "unsupported_content_encoding",
      );
      expect(answer?.headers.get("accept-encoding")).toBe("identity");
    },
  );

  it("Content-Encoding: identity that verifies → 202", async () => {
    await expectAccepted(() =>
      post("/webhooks/klariqo", BODY, { ...signed("klariqo", BODY), "content-encoding": "Identity" }),
    );
  });
});

describe("what Node's HTTP parser refuses", () => {
  const valid = () => head("/webhooks/klariqo", { "Content-Length": 2 });
  it.each([
    [
      "headers over 16 KiB",
      431,
      "headers_too_large",
      () => [head("/webhooks/klariqo", { "X-Pad": "p".repeat(20_000) })],
    ],
    [
      "a header name with a space",
      400,
      "malformed_request",
      () => [head("/webhooks/klariqo", { "Bad Name": "1" })],
    ],
    [
      "a NUL in a header value",
      400,
      "malformed_request",
      () => [head("/webhooks/klariqo", { "X-A": "a\u0000b" })],
    ],
    [
      "a bare CR in a header value",
      400,
      "malformed_request",
      () => [head("/webhooks/klariqo", { "X-A": "a\rb" })],
    ],
    [
      "Content-Length with Transfer-Encoding",
      400,
      "malformed_request",
      () => [head("/webhooks/klariqo", { "Content-Length": 2, "Transfer-Encoding": "chunked" }), "0\r\n\r\n"],
    ],
    [
      "two different Content-Lengths",
      400,
      "malformed_request",
      () => [
        "POST /webhooks/klariqo HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
      ],
    ],
    [
      "a non-numeric Content-Length",
      400,
      "malformed_request",
      () => [head("/webhooks/klariqo", { "Content-Length": "ten" })],
    ],
    ["a garbage request line", 400, "malformed_request", () => ["HELLO THERE\r\n\r\n"]],
    [
      "no Host header",
      400,
      "malformed_request",
      () => ["POST /webhooks/klariqo HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"],
    ],
    [
      "a NUL in the path",
      400,
      "malformed_request",
      () => ["POST /webhooks/kla\u0000riqo HTTP/1.1\r\nHost: gw\r\n\r\n"],
    ],
    [
      "an invalid chunk size",
      400,
      "malformed_request",
      () => [head("/webhooks/klariqo", { "Transfer-Encoding": "chunked" }), "zz\r\n{}\r\n0\r\n\r\n"],
    ],
    [
      "a header line with no colon",
      400,
      "malformed_request",
      () => [`${valid().slice(0, -2)}NoColonHere\r\n\r\n{}`],
    ],
  ] as const)("%s → %i %s", async (_name, status, code, parts) => {
    await expectRejected(() => raw(parts()), status, code);
  });
});

describe("floods", () => {
  async function flood(count: number, one: (i: number) => Promise<unknown>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) await one(next++);
      }),
    );
  }

  it("1,000 bad signatures: all answered 401, all counted, a few log lines", async () => {
    const before = {
      logs: rejectionLogs("signature_mismatch").length,
      observed: observedCount("signature_mismatch"),
    };
    const queuedBefore = await queued();
    const headers = good();
    await flood(1000, async () => {
      const res = await fetch(`${stack.gateway.url}/webhooks/klariqo`, {
        method: "POST",
        body: "forged",
        headers,
      });
      expect(res.status).toBe(401);
      await res.arrayBuffer();
    });
    expect(observedCount("signature_mismatch")).toBe(before.observed + 1000);
    expect(rejectionLogs("signature_mismatch").length - before.logs).toBeLessThanOrEqual(41);
    expect(await queued()).toBe(queuedBefore);
  });

  it("1,000 requests to 1,000 different unknown sources: still a few log lines", async () => {
    const before = {
      logs: rejectionLogs("unknown_source").length,
      observed: observedCount("unknown_source"),
    };
    await flood(1000, async (i) => {
      const res = await fetch(`${stack.gateway.url}/webhooks/random-${i}`, { method: "POST", body: "{}" });
      expect(res.status).toBe(404);
      await res.arrayBuffer();
    });
    expect(observedCount("unknown_source")).toBe(before.observed + 1000);
    expect(rejectionLogs("unknown_source").length - before.logs).toBeLessThanOrEqual(41);
  });

  it("300 requests the parser refuses: all answered 400, counted, a few log lines", async () => {
    const before = {
      logs: rejectionLogs("malformed_request").length,
      observed: observedCount("malformed_request"),
    };
    await flood(300, async () => {
      const answer = await raw(["BROKEN\r\n\r\n"]);
      expect(answer.status).toBe(400);
    });
    expect(observedCount("malformed_request")).toBe(before.observed + 300);
    expect(rejectionLogs("malformed_request").length - before.logs).toBeLessThanOrEqual(41);
    expect((await fetch(`${stack.gateway.url}/healthz`)).status).toBe(200);
  });
});

describe("security", () => {
  it("no secret or signature reaches the logs or an answer", () => {
    const logs = stack.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    expect(sentSignatures.size).toBeGreaterThan(10);
    const everything = `${logs}\n${answers.join("\n")}`;
    for (const secret of [KLARIQO_SECRET, OTHER_SECRET, CLAUSUM_SECRET]) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.replace(/^whsec_/, ""));
    }
    for (const signature of sentSignatures) {
      // Values long enough to be a signature (not "v1" or "garbage").
      for (const piece of signature.split(/[ ,=]/).filter((p) => p.length >= 16))
        expect(everything).not.toContain(piece);
    }
  });

  it("sendSigned still works end to end after all of it", async () => {
    const res = await sendSigned(stack, "klariqo", BODY);
    expect(res.status).toBe(202);
  });
});
