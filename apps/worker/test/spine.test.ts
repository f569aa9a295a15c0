import { connectDatabase, type Database, getOverview, getTargetHealth } from "@hookline/db";
import {
  closeAll,
  deliveryQueueIdle,
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
import { CLAUSUM_SECRET, clausumBody, SIGNING_SECRET, spineConfig } from "./helpers";

let iso: Isolated;
let fraud: Sink;
let audit: Sink;
let stack: Stack;
let database: Database;

const statusOf = async (eventId: string) =>
  (
    await database.pool.query<{ target_id: string; status: string; attempt_count: number }>(
      "select target_id, status, attempt_count from deliveries where event_id = $1 order by target_id",
      [eventId],
    )
  ).rows;

beforeAll(async () => {
  iso = await isolate("spine");
  fraud = await startSink();
  audit = await startSink();
  const config = loadTestConfig(
    spineConfig(
      { "fraud-service": { sink: fraud }, audit: { sink: audit } },
      `  - source: clausum
    events: ["fraud.*", "case.created"]
    targets: [fraud-service]
  - source: clausum
    events: ["*"]
    targets: [audit]`,
    ),
  );
  stack = await startStack(iso, config);
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(() => closeAll(stack, database, fraud, audit, iso));

describe("fan-out", () => {
  it("forwards an event to every target whose globs match, byte for byte and re-signed", async () => {
    // Odd spacing and unicode: only the exact bytes verify and must be forwarded.
    const body = `{"event":"fraud.detected",  "timestamp":"2026-05-29T18:30:00.000Z","data":{"case_id":"c-1","note":"ünïcödé"}}`;
    const res = await sendSigned(stack, "clausum", body);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/^evt_/);

    const [got] = await fraud.waitFor(1);
    await audit.waitFor(1);
    expect(got?.body.equals(Buffer.from(body))).toBe(true);
    expect(got?.headers["webhook-id"]).toBe(id);
    expect(got?.headers["hookline-source"]).toBe("clausum");
    expect(got?.headers["hookline-event-type"]).toBe("fraud.detected");
    expect(got?.headers["hookline-attempt"]).toBe("1");
    expect(got?.headers["content-type"]).toBe("application/json");
    // The consumer's own library accepts Hookline's signature.
    const wh = new Webhook(SIGNING_SECRET);
    expect(() =>
      wh.verify(got?.body.toString("utf8") ?? "", {
        "webhook-id": String(got?.headers["webhook-id"]),
        "webhook-timestamp": String(got?.headers["webhook-timestamp"]),
        "webhook-signature": String(got?.headers["webhook-signature"]),
      }),
    ).not.toThrow();

    await eventually(async () => {
      const rows = await statusOf(id);
      return rows.length === 2 && rows.every((r) => r.status === "succeeded") && rows;
    });
    const events = await database.pool.query("select body, source_id, event_type from events where id = $1", [
      id,
    ]);
    expect((events.rows[0].body as Buffer).equals(Buffer.from(body))).toBe(true);
    expect(events.rows[0].event_type).toBe("fraud.detected");
  });

  it("routes by glob: an event matching only `*` goes to one target", async () => {
    const before = { fraud: fraud.received.length, audit: audit.received.length };
    const res = await sendSigned(stack, "clausum", clausumBody("payout.sent", "c-2"));
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await eventually(async () => {
      const rows = await statusOf(id);
      return rows.length === 1 && rows[0]?.status === "succeeded" && rows;
    });
    expect((await statusOf(id)).map((r) => r.target_id)).toEqual(["audit"]);
    expect(audit.received.length).toBe(before.audit + 1);
    expect(fraud.received.length).toBe(before.fraud);
  });
});

describe("de-duplication", () => {
  it("folds a provider duplicate into the original: counted, never forwarded twice", async () => {
    const body = clausumBody("case.created", "dup-1");
    const before = fraud.received.length;
    const first = await sendSigned(stack, "clausum", body);
    // The provider retries later: new signature timestamp, same event.
    const second = await sendSigned(stack, "clausum", body, { nowMs: Date.now() + 2_000 });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    const a = ((await first.json()) as { id: string }).id;
    const b = ((await second.json()) as { id: string }).id;
    expect(a).not.toBe(b);
    await eventually(async () => {
      const r = await database.pool.query<{ n: number }>(
        "select count(*)::int as n from event_duplicates where original_event_id = $1",
        [a],
      );
      return r.rows[0]?.n === 1;
    });
    await eventually(async () => (await statusOf(a)).every((r) => r.status === "succeeded"));
    const events = await database.pool.query<{ id: string; duplicate_count: number }>(
      "select id, duplicate_count from events where id = any($1)",
      [[a, b]],
    );
    expect(events.rows).toEqual([{ id: a, duplicate_count: 1 }]);
    expect(await statusOf(b)).toEqual([]);
    await deliveryQueueIdle(stack, "fraud-service");
    expect(fraud.received.length).toBe(before + 1);
  });
});

describe("the dashboard overview's statistics", () => {
  it("are folded by the running worker and match the tables", async () => {
    const res = await sendSigned(stack, "clausum", clausumBody("case.created", "c-overview"));
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await eventually(async () => (await statusOf(id)).every((r) => r.status === "succeeded") && true);
    // Every delta folded (the worker folds every 2 s), and nothing the tables hold left out.
    await eventually(
      async () =>
        Number(
          (await database.pool.query<{ n: string }>("select count(*) as n from stats_deltas")).rows[0]?.n,
        ) === 0,
      { what: "the worker to fold the statistics" },
    );
    const direct = await database.pool.query<{ events: number; deliveries: number; attempts: number }>(
      `select (select count(*) from events)::int as events,
              (select count(*) from deliveries where status = 'succeeded')::int as deliveries,
              (select count(*) from delivery_attempts where status_code between 200 and 299)::int as attempts`,
    );
    const overview = await getOverview(database.pool);
    const health = await getTargetHealth(database.pool);
    expect(overview.eventsBySource.get("clausum")?.day).toBe(direct.rows[0]?.events);
    expect(overview.deliveriesByStatus.get("succeeded")?.day).toBe(direct.rows[0]?.deliveries);
    expect([...health.values()].reduce((n, h) => n + h.succeeded, 0)).toBe(direct.rows[0]?.attempts);
  });
});

describe("ingest answers", () => {
  it("401s with a reason code for a missing, malformed or wrong signature and a stale timestamp", async () => {
    const body = clausumBody("fraud.detected", "bad-1");
    const missing = await stack.post("clausum", body, { "content-type": "application/json" });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { code: string }).code).toBe("signature_missing");

    const malformed = await stack.post("clausum", body, { "x-clausum-signature": "garbage" });
    expect(malformed.status).toBe(401);
    expect(((await malformed.json()) as { code: string }).code).toBe("signature_malformed");

    const t = Math.floor(Date.now() / 1000);
    const wrong = await stack.post("clausum", body, {
      "x-clausum-signature": `t=${t},v1=${"ab".repeat(32)}`,
    });
    expect(wrong.status).toBe(401);
    const wrongBody = (await wrong.json()) as { code: string; message: string };
    expect(wrongBody.code).toBe("signature_mismatch");
    expect(JSON.stringify(wrongBody)).not.toContain(CLAUSUM_SECRET);

    const stale = await sendSigned(stack, "clausum", body, { nowMs: Date.now() - 3_600_000 });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { code: string }).code).toBe("timestamp_out_of_tolerance");
  });

  it("404s an unknown source and 405s other methods", async () => {
    const unknown = await stack.post("nope", "{}", {});
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe("unknown_source");
    const get = await fetch(`${stack.gateway.url}/webhooks/clausum`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });

  it("answers healthz and readyz", async () => {
    expect((await fetch(`${stack.gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${stack.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ redis: "up", postgres: "up" });
  });

  it("never logs the secret or a signature", () => {
    const logs = stack.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(CLAUSUM_SECRET);
    expect(logs).not.toContain(SIGNING_SECRET);
    expect(logs).not.toMatch(/v1=[0-9a-f]{64}/);
  });
});
