// Route transforms end to end: the target receives the expression's result as JSON, signed over
// the bytes actually sent; the event keeps the provider's bytes; a failing or runaway expression
// fails that delivery with transform_error, without an attempt and without a retry, and holds
// nothing else back.
import { connectDatabase, type Database, retryDelivery } from "@hookline/db";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIGNING_SECRET, spineConfig } from "./helpers";

let iso: Isolated;
let shaped: Sink;
let raw: Sink;
let stack: Stack;
let database: Database;

beforeAll(async () => {
  iso = await isolate("transforms");
  shaped = await startSink();
  raw = await startSink();
  const config = loadTestConfig(
    spineConfig(
      { shaped: { sink: shaped }, raw: { sink: raw } },
      `  - source: clausum
    targets: [shaped]
    transform: '{ "kind": event, "case": data.case_id, "total": $sum(data.items.amount), "loop": data.loop ? $sum([1..10000].($sum([1..10000]))) }'
    transform_timeout: 50ms
  - source: clausum
    targets: [raw]`,
    ),
  );
  stack = await startStack(iso, config);
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(stack, database, shaped, raw, iso));

async function send(data: Record<string, unknown>): Promise<{ id: string; body: string }> {
  const body = JSON.stringify({ event: "case.updated", timestamp: "2026-11-28T12:00:00.000Z", data });
  const res = await sendSigned(stack, "clausum", body);
  expect(res.status).toBe(202);
  return { id: ((await res.json()) as { id: string }).id, body };
}

const idOf = async (eventId: string, target: string) =>
  (
    await database.pool.query<{ id: string }>(
      "select id from deliveries where event_id = $1 and target_id = $2",
      [eventId, target],
    )
  ).rows[0]?.id;

const deliveryTo = async (eventId: string, target: string) =>
  (
    await database.pool.query<{
      status: string;
      attempt_count: number;
      last_error: string | null;
      sent_body: Buffer | null;
    }>(
      "select status, attempt_count, last_error, sent_body from deliveries where event_id = $1 and target_id = $2",
      [eventId, target],
    )
  ).rows[0];

describe("route transforms", () => {
  it("send the expression's result as JSON, signed over the bytes sent; the event keeps its own", async () => {
    const { id, body } = await send({ case_id: "c-1", items: [{ amount: 40 }, { amount: 2 }] });
    const [got] = await shaped.waitFor(1, 10_000);
    if (!got) throw new Error("nothing received");
    expect(JSON.parse(got.body.toString("utf8"))).toEqual({ kind: "case.updated", case: "c-1", total: 42 });
    expect(got.headers["content-type"]).toBe("application/json");
    // A consumer verifies the bytes it received with the Standard Webhooks library.
    const headers = Object.fromEntries(
      ["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [h, String(got.headers[h])]),
    );
    expect(() => new Webhook(SIGNING_SECRET).verify(got.body.toString("utf8"), headers)).not.toThrow();
    // The other route's target gets the provider's bytes; so does the event row.
    const [plain] = await raw.waitFor(1, 10_000);
    expect(plain?.body.toString("utf8")).toBe(body);
    const stored = await database.pool.query<{ body: Buffer }>("select body from events where id = $1", [id]);
    expect(stored.rows[0]?.body.toString("utf8")).toBe(body);
    expect((await deliveryTo(id, "shaped"))?.sent_body?.toString("utf8")).toBe(got.body.toString("utf8"));
  });

  it("fail a delivery whose expression errs or runs over its limit: transform_error, no attempt, no retry", async () => {
    const before = shaped.received.length;
    const noValue = await send({ case_id: "c-3", items: [{ amount: "forty" }], loop: false });
    const runaway = await send({ case_id: "c-2", items: [{ amount: 1 }], loop: true });
    // The other target is not held back by either.
    await raw.waitFor(3, 10_000);
    for (const { id } of [runaway]) {
      const d = await eventually(async () => deliveryTo(id, "shaped"));
      expect(d).toMatchObject({ status: "failed", attempt_count: 0, sent_body: null });
      expect(d?.last_error).toMatch(/^transform_error: D1012: Evaluation timeout after 50 milliseconds/);
    }
    // $sum over a list holding a string is a JSONata error: the delivery fails the same way.
    const failed = await eventually(async () => deliveryTo(noValue.id, "shaped"));
    expect(failed).toMatchObject({ status: "failed", attempt_count: 0 });
    expect(failed?.last_error).toMatch(/^transform_error: /);
    // Nothing was sent for either, and nothing is retried later.
    await new Promise((r) => setTimeout(r, 500));
    expect(shaped.received.length).toBe(before);
    const attempts = await database.pool.query(
      `select 1 from delivery_attempts a join deliveries d on d.id = a.delivery_id
       where d.event_id = any($1::text[]) and d.target_id = 'shaped'`,
      [[noValue.id, runaway.id]],
    );
    expect(attempts.rowCount).toBe(0);
    // A retry by hand would send the event's bytes, which are not what this target takes: refused.
    const retry = await retryDelivery(
      database.pool,
      (await idOf(noValue.id, "shaped")) as string,
      ["failed"],
      ["shaped"],
    );
    expect(retry).toEqual({ kind: "transform_failed" });
  });
});
