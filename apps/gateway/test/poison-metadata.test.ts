// Correctly signed events whose metadata Postgres cannot store (a NUL, or a value too long for a
// btree index) used to get 202 and then an ingest job that failed forever. Each is now refused
// at the gateway with a reason code, or normalised so that it is recorded: never 202 and lost.
import { randomBytes } from "node:crypto";
import { connectDatabase, type Database } from "@hookline/db";
import { bullPrefix, createProducerConnection, INGEST_QUEUE } from "@hookline/queue";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  startSink,
  startStack,
} from "@hookline/testkit";
import { signRequest } from "@hookline/verify";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SECRETS = {
  stripe: "whsec_poisonStripeSecret0123456789",
  github: "github-poison-secret-0123456789",
  clausum: "clausum-poison-secret-0123456789",
  klariqo: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
};

let iso: Isolated;
let sink: Sink;
let stack: Stack;
let database: Database;
let queue: Queue;

beforeAll(async () => {
  iso = await isolate("poison");
  sink = await startSink();
  stack = await startStack(
    iso,
    loadTestConfig(`
sources:
  - id: stripe
    verify: { scheme: stripe, secrets: ["${SECRETS.stripe}"] }
  - id: github
    verify: { scheme: github, secrets: ["${SECRETS.github}"] }
  - id: clausum
    verify: { scheme: clausum, secrets: ["${SECRETS.clausum}"] }
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["${SECRETS.klariqo}"] }
  - id: keyed
    verify: { scheme: klariqo, secrets: ["${SECRETS.klariqo}"] }
    dedupe: { key: { header: X-Blob-Key } }
targets:
  - id: sink
    url: ${sink.url}/in
    retry: { schedule: [100ms] }
routes:
  - { source: stripe, targets: [sink] }
  - { source: github, targets: [sink] }
  - { source: clausum, targets: [sink] }
  - { source: klariqo, targets: [sink] }
  - { source: keyed, targets: [sink] }
`),
  );
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  queue = new Queue(INGEST_QUEUE, {
    connection: createProducerConnection(iso.redisUrl),
    prefix: bullPrefix(iso.queuePrefix),
  });
});

afterAll(() => closeAll(queue, stack, database, sink, iso));

async function send(
  sourceId: string,
  body: string,
  sign: { eventType?: string; id?: string } = {},
  override: Record<string, string> = {},
): Promise<{ status: number; code: string | undefined; id: string | undefined }> {
  const source = stack.config.sources.find((s) => s.id === sourceId);
  if (!source) throw new Error(`no source ${sourceId}`);
  const signed = signRequest(source.spec, { body: Buffer.from(body), nowMs: Date.now(), ...sign });
  if (!signed.ok) throw new Error(signed.message);
  const res = await stack.post(sourceId, body, {
    "content-type": "application/json",
    ...signed.headers,
    ...override,
  });
  const answer = (await res.json()) as { code?: string; id?: string };
  return { status: res.status, code: answer.code, id: answer.id };
}

const eventCount = async () =>
  Number((await database.pool.query<{ n: string }>("select count(*) as n from events")).rows[0]?.n);

describe("poison metadata", () => {
  const big = (n: number) => "x".repeat(n);
  it.each([
    ["a NUL in Stripe's type", "stripe", '{"id":"evt_a","type":"x.a\\u0000b"}', {}, {}, "event_type_invalid"],
    ["a NUL in Stripe's id", "stripe", '{"id":"evt_\\u0000","type":"x.a"}', {}, {}, "event_id_invalid"],
    ["a 4 KB Stripe id", "stripe", `{"id":"evt_${big(4096)}","type":"x.a"}`, {}, {}, "event_id_invalid"],
    [
      "an 8 KB X-Clausum-Event",
      "clausum",
      '{"event":"x","timestamp":"t","data":{}}',
      { eventType: big(8192) },
      {},
      "event_type_invalid",
    ],
    ["an 8 KB webhook-id", "klariqo", '{"type":"x.a"}', { id: big(8192) }, {}, "event_id_invalid"],
    [
      "an 8 KB X-GitHub-Delivery (unsigned)",
      "github",
      '{"action":"opened"}',
      { eventType: "issues" },
      { "x-github-delivery": big(8192) },
      "event_id_invalid",
    ],
  ])("%s → 422 with its reason code, nothing queued", async (_name, source, body, sign, override, code) => {
    const answer = await send(source, body, sign, override);
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 422, code });
  });

  it("an 8 KB de-duplication key is stored as its digest: recorded once, its re-send a duplicate", async () => {
    const body = JSON.stringify({ type: "blob.sent" });
    // Random, so that Postgres could not compress it under the btree limit.
    const key = { "x-blob-key": randomBytes(4096).toString("hex") };
    const first = await send("keyed", body, { id: "msg_first" }, key);
    expect(first.status).toBe(202);
    await eventually(async () => {
      const row = await database.pool.query<{ dedupe_key: string }>(
        "select dedupe_key from events where id = $1",
        [first.id],
      );
      return row.rows[0]?.dedupe_key;
    }).then((key) => expect(key).toMatch(/^sha256:[0-9a-f]{64}$/));
    const again = await send("keyed", body, { id: "msg_again" }, key);
    expect(again.status).toBe(202);
    await eventually(async () => {
      const row = await database.pool.query<{ duplicate_count: number }>(
        "select duplicate_count from events where id = $1",
        [first.id],
      );
      return row.rows[0]?.duplicate_count === 1;
    });
  });

  it("a Clausum event whose data is nested too deeply to serialise again: recorded once (keyed by its body hash), its re-send a duplicate", async () => {
    // JSON.parse takes this nesting; JSON.stringify of it overflows the stack. The worker
    // computes Clausum's key (the gateway leaves it), so a throw there would fail the job forever.
    const body = `{"event":"deep.nested","timestamp":"t","data":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
    const first = await send("clausum", body, { eventType: "deep.nested" });
    expect(first.status).toBe(202);
    const key = await eventually(async () => {
      const row = await database.pool.query<{ dedupe_key: string }>(
        "select dedupe_key from events where id = $1",
        [first.id],
      );
      return row.rows[0]?.dedupe_key;
    });
    expect(key).toMatch(/^body:[0-9a-f]{64}$/);
    expect((await send("clausum", body, { eventType: "deep.nested" })).status).toBe(202);
    await eventually(async () => {
      const row = await database.pool.query<{ duplicate_count: number }>(
        "select duplicate_count from events where id = $1",
        [first.id],
      );
      return row.rows[0]?.duplicate_count === 1;
    });
  });

  it("after all of it: every accepted event is recorded and no ingest job is failing or waiting to retry", async () => {
    // The barrier: a good event sent last. Once it is delivered, the earlier jobs have run.
    const good = await send("stripe", '{"id":"evt_good","type":"x.a"}');
    expect(good.status).toBe(202);
    await eventually(async () => {
      return sink.received.some((r) => r.headers["webhook-id"] === good.id);
    });
    expect(await eventCount()).toBe(3); // the keyed event, the deeply nested one and this one
    // A first attempt is sent while its ingest job is still completing, so the job may be
    // active a moment longer than the send.
    const counts = await eventually(async () => {
      const c = await queue.getJobCounts("failed", "delayed", "wait", "active");
      return c.active === 0 ? c : undefined;
    });
    expect(counts).toEqual({ failed: 0, delayed: 0, wait: 0, active: 0 });
  });
});

describe("stored signatures", () => {
  it("events.headers keeps only a 16-character prefix of every signature header, whatever the scheme", async () => {
    const sent = [
      await send("stripe", '{"id":"evt_sig","type":"x.a"}'),
      await send("github", '{"action":"closed"}', { eventType: "issues" }),
      await send("clausum", '{"event":"x","timestamp":"2026-01-01T00:00:00Z","data":{}}', { eventType: "x" }),
      await send("klariqo", '{"type":"x.b"}'),
    ];
    expect(sent.map((s) => s.status)).toEqual([202, 202, 202, 202]);
    const ids = sent.map((s) => s.id);
    const rows = await eventually(async () => {
      const r = await database.pool.query<{ headers: Record<string, string> }>(
        "select headers from events where id = any($1)",
        [ids],
      );
      return r.rows.length === ids.length ? r.rows : undefined;
    });
    const signatures = rows.flatMap((r) =>
      Object.entries(r.headers).filter(([name]) => /signature/.test(name)),
    );
    expect(signatures.map(([name]) => name).sort()).toEqual([
      "stripe-signature",
      "webhook-signature",
      "x-clausum-signature",
      "x-hub-signature", // GitHub's legacy SHA-1 signature, shortened by its name
      "x-hub-signature-256",
    ]);
    for (const [, value] of signatures) expect(value).toMatch(/^.{16}…$/u);
  });
});
