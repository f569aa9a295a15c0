// The worker on an install converted to daily partitions (retention.partitioning: daily):
// events and attempts land in today's partitions, retries and de-duplication work as before,
// and the retention job keeps partitions ahead.
import { connectDatabase, convertToPartitioned, type Database, listPartitions } from "@hookline/db";
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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clausumBody, spineConfig } from "./helpers";

const DAY = 86_400_000;
const today = () =>
  new Date(Math.floor(Date.now() / DAY) * DAY).toISOString().slice(0, 10).replaceAll("-", "");

let iso: Isolated;
let sink: Sink;
let stack: Stack;
let database: Database;

beforeAll(async () => {
  iso = await isolate("partworker");
  sink = await startSink();
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  // Converted as of yesterday: the legacy partition ends at today's start, so today's rows go
  // to a day partition, as on any day after the conversion.
  await convertToPartitioned(database.pool, { period: "daily", now: new Date(Date.now() - DAY) });
  const config = loadTestConfig(
    spineConfig(
      { t: { sink, extra: "    circuit_breaker: { failure_threshold: 100 }\n" } },
      `  - { source: clausum, events: ["*"], targets: [t] }`,
    ) + "retention: { events: 30d, attempts: 30d, interval: 500ms, partitioning: daily }\n",
  );
  stack = await startStack(iso, config);
});

afterAll(() => closeAll(stack, database, sink, iso));

describe("a partitioned install", () => {
  it("records, retries and delivers, with events and attempts in today's partitions", async () => {
    sink.respond((_req, i) => (i < 1 ? { status: 503, body: "busy" } : { status: 200, body: "ok" }));
    const res = await sendSigned(stack, "clausum", clausumBody("fraud.detected", "case_part_1"));
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { id: string }).id;
    await eventually(async () => {
      const d = await database.pool.query<{ status: string; attempt_count: number }>(
        "select status, attempt_count from deliveries where event_id = $1",
        [id],
      );
      expect(d.rows).toEqual([{ status: "succeeded", attempt_count: 2 }]);
      return true;
    });
    const where = await database.pool.query<{ p: string }>(
      "select tableoid::regclass::text as p from events where id = $1",
      [id],
    );
    expect(where.rows[0]?.p).toBe(`events_p${today()}`);
    const attempts = await database.pool.query<{ p: string; status_code: number }>(
      `select a.tableoid::regclass::text as p, a.status_code from delivery_attempts a
       join deliveries d on d.id = a.delivery_id where d.event_id = $1 order by a.attempt_number`,
      [id],
    );
    expect(attempts.rows).toEqual([
      { p: `delivery_attempts_p${today()}`, status_code: 503 },
      { p: `delivery_attempts_p${today()}`, status_code: 200 },
    ]);
  });

  it("de-duplicates a provider's re-send", async () => {
    const body = clausumBody("fraud.detected", "case_part_2");
    const first = ((await (await sendSigned(stack, "clausum", body)).json()) as { id: string }).id;
    const again = ((await (await sendSigned(stack, "clausum", body)).json()) as { id: string }).id;
    await eventually(async () => {
      const e = await database.pool.query<{ duplicate_count: number }>(
        "select duplicate_count from events where id = $1",
        [first],
      );
      expect(e.rows[0]?.duplicate_count).toBe(1);
      return true;
    });
    const copies = await database.pool.query("select 1 from events where id = $1", [again]);
    expect(copies.rowCount).toBe(0);
  });

  it("has its partitions ahead kept by the retention job", async () => {
    // Converted "yesterday" with a week ahead: the job adds the day that week now lacks.
    const last = () =>
      listPartitions(database.pool, "events").then((ps) => Math.max(...ps.map((p) => p.toMs ?? 0)));
    await eventually(async () => {
      expect(await last()).toBeGreaterThanOrEqual(Math.floor(Date.now() / DAY) * DAY + 8 * DAY);
      return true;
    });
  });
});
