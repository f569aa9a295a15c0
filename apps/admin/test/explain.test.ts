// Every query ops run — the SQL cookbook's, and the ones behind the admin API, the CLI, bulk
// retry, the retention purge and the dashboard's overview — is served by an index: EXPLAIN against
// 100,000 events (with 150,000 deliveries and attempts) shows no sequential scan. The overview's
// statistics are read whole, and may be: stats_5m holds the last 25 hours of 5-minute buckets
// (the overview reads 24 of them) and stats_deltas the changes not yet folded, seconds of writes.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  connectDatabase,
  convertToPartitioned,
  type Database,
  encodeCursor,
  foldStats,
  getOverview,
  getTargetHealth,
  listAudit,
  listDeliveries,
  listEvents,
  purgeOlderThan,
  retryDeliveries,
  targetBacklogs,
} from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const EVENTS = 100_000;
/** explain-partitioned.test.ts runs this file again on an install converted to daily partitions. */
const partitioning: "none" | "daily" =
  (globalThis as { hooklineExplainPartitioning?: "daily" }).hooklineExplainPartitioning ?? "none";
const COOKBOOK = resolve(import.meta.dirname, "../../../docs/sql-cookbook.md");

let iso: Isolated;
let database: Database;

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

function seqScans(node: PlanNode): string[] {
  const own = node["Node Type"] === "Seq Scan" ? [node["Relation Name"] ?? "?"] : [];
  return [...own, ...(node.Plans ?? []).flatMap(seqScans)];
}

async function explain(
  sql: string,
  params: readonly unknown[] = [],
): Promise<{ scans: string[]; plan: string }> {
  const result = await database.pool.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(
    `explain (format json) ${sql}`,
    [...params],
  );
  const root = result.rows[0]?.["QUERY PLAN"][0]?.Plan;
  if (!root) throw new Error("no plan");
  const text = await database.pool.query<{ "QUERY PLAN": string }>(`explain ${sql}`, [...params]);
  // A partition made ahead is empty, and the planner reads an empty table whole: nothing to
  // read. Such a scan is allowed when the partition really has no row; any other is not.
  const scans: string[] = [];
  for (const relation of seqScans(root)) {
    const empty =
      partitioning !== "none" &&
      (await database.pool.query(`select 1 from ${JSON.stringify(relation)} limit 1`)).rowCount === 0;
    if (!empty) scans.push(relation);
  }
  return { scans, plan: text.rows.map((r) => r["QUERY PLAN"]).join("\n") };
}

/** A pool stand-in that records the statements a query function sends (and finds nothing). */
function recorder(): { pool: Database["pool"]; statements: Array<{ sql: string; params: unknown[] }> } {
  const statements: Array<{ sql: string; params: unknown[] }> = [];
  const query = async (sql: string | { text: string; values?: unknown[] }, params: unknown[] = []) => {
    if (typeof sql === "string") statements.push({ sql, params });
    else statements.push({ sql: sql.text, params: sql.values ?? [] });
    // An advisory lock asked for is granted; every other query finds nothing.
    return {
      rows: [{ ok: true }].filter(() => /advisory/.test(typeof sql === "string" ? sql : sql.text)),
      rowCount: 0,
    };
  };
  const pool = {
    query,
    connect: async () => ({ query, release: () => {} }),
  } as unknown as Database["pool"];
  return { pool, statements };
}

/** Read whole by design (see the top of this file). */
const READ_WHOLE = new Set(["stats_5m", "stats_deltas"]);

beforeAll(async () => {
  iso = await isolate(partitioning === "none" ? "explain" : "explainpart");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  const q = (sql: string) => database.pool.query(sql, [EVENTS]);
  // One INSERT ... SELECT generate_series per table: 30 days of traffic from four sources.
  await q(`insert into events (id, source_id, event_type, dedupe_key, provider_id, received_at, headers, body,
                               content_type, duplicate_count)
           select 'evt_' || lpad(g::text, 8, '0'),
                  (array['clausum', 'stripe', 'github', 'acme'])[g % 4 + 1],
                  (array['fraud.detected', 'case.created', 'payment.succeeded', 'push', 'order.created'])[g % 5 + 1],
                  'key-' || g, 'msg_' || g, now() - g * interval '26 seconds',
                  '{"content-type": "application/json"}'::jsonb, convert_to('{"n":' || g || '}', 'UTF8'),
                  'application/json', case when g % 7 = 0 then 1 else 0 end
           from generate_series(1, $1::int) g`);
  await q(`insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, next_attempt_at,
                                   last_status_code, last_error, created_at, updated_at, succeeded_at)
           select 'dlv_' || t.name || '_' || g, 'evt_' || lpad(g::text, 8, '0'), t.name,
                  (array['clausum', 'stripe', 'github', 'acme'])[g % 4 + 1],
                  case when g % 50 = 0 then 'failed' when g % 500 = 1 then 'retrying'
                       when g % 1000 = 2 then 'pending' else 'succeeded' end,
                  case when g % 50 = 0 then 6 else 1 end,
                  case when g % 500 = 1 or g % 1000 = 2 then now() - g * interval '26 seconds' + interval '1 minute' end,
                  case when g % 50 = 0 then 503 else 200 end,
                  case when g % 50 = 0 then 'target answered 503; no attempts left' end,
                  now() - g * interval '26 seconds', now() - g * interval '26 seconds' + interval '2 seconds',
                  case when g % 50 <> 0 then now() - g * interval '26 seconds' + interval '2 seconds' end
           from generate_series(1, $1::int) g
           join (values ('fraud-service'), ('audit-log')) as t(name) on t.name = 'fraud-service' or g % 2 = 0`);
  await database.pool.query(
    `insert into delivery_attempts (id, delivery_id, attempt_number, started_at, duration_ms, status_code,
                                    response_body)
     select 'att_' || d.id, d.id, 1, d.created_at + interval '1 second', length(d.id) * 37 % 900 + 10,
            d.last_status_code, 'ok'
     from deliveries d`,
  );
  await q(`insert into event_duplicates (id, original_event_id, source_id, received_at)
           select 'evt_dup' || g, 'evt_' || lpad((g * 7)::text, 8, '0'), 'clausum', now() - g * interval '260 seconds'
           from generate_series(1, $1::int / 10) g`);
  // De-duplication keys live for their window (72h here); the purge has removed older ones.
  await q(`insert into dedupe_keys (source_id, dedupe_key, event_id, expires_at)
           select 'clausum', 'key-' || g, 'evt_' || lpad(g::text, 8, '0'), now() + interval '72 hours' - g * interval '26 seconds'
           from generate_series(1, $1::int / 8) g`);
  // A month of audit rows: mostly API and dashboard retries, some sign-ins and failed ones.
  await q(`insert into audit_log (id, at, actor, action, subject, details, ip)
           select 'aud_' || lpad(g::text, 8, '0'), now() - g * interval '52 seconds',
                  (array['ops', 'dashboard:ops', 'cli', 'default', 'dashboard'])[g % 5 + 1],
                  (array['delivery.retry', 'event.replay', 'target.pause', 'login', 'login_failed'])[g % 5 + 1],
                  'dlv_' || g, '{}'::jsonb, '10.0.0.' || g % 250
           from generate_series(1, $1::int / 2) g`);
  // The overview's statistics of that traffic (the triggers kept them as it was written).
  await foldStats(database.pool);
  if (partitioning !== "none") await convertToPartitioned(database.pool, { period: partitioning });
  await database.pool.query("analyze");
}, 120_000);

afterAll(() => closeAll(database, iso));

const cookbook = [...readFileSync(COOKBOOK, "utf8").matchAll(/```sql\n([\s\S]*?)```/g)].map(
  (m) => m[1] ?? "",
);

describe("the SQL cookbook", () => {
  it("has the queries ops run most", () => {
    expect(cookbook.length).toBeGreaterThanOrEqual(10);
    const text = cookbook.join("\n");
    expect(text).toContain("provider_id");
    expect(text).toContain("percentile_cont");
  });

  it("was run against 100,000 events", async () => {
    const n = await database.pool.query<{ n: string }>("select count(*) as n from events");
    expect(Number(n.rows[0]?.n)).toBe(EVENTS);
  });

  it.each(cookbook.map((sql) => [sql.split("\n")[0] ?? "", sql]))(
    "uses an index: %s",
    async (_first, sql) => {
      const { scans, plan } = await explain(sql.replace(/;\s*$/, ""));
      expect(scans, plan).toEqual([]);
    },
  );
});

describe("the admin API's and CLI's queries", () => {
  const hourAgo = () => new Date(Date.now() - 3_600_000);
  const cursor = () =>
    encodeCursor({ at: new Date(Date.now() - 86_400_000).toISOString(), id: "evt_00003000" });
  const cases: Array<[string, (pool: Database["pool"]) => Promise<unknown>]> = [
    ["events: newest", (p) => listEvents(p, {})],
    ["events: next page", (p) => listEvents(p, { cursor: cursor() })],
    ["events: by source", (p) => listEvents(p, { source: "stripe" })],
    ["events: by type since", (p) => listEvents(p, { type: "push", since: hourAgo() })],
    ["events: by provider id", (p) => listEvents(p, { providerId: "msg_4242" })],
    [
      "events: time window",
      (p) => listEvents(p, { since: new Date(Date.now() - 7_200_000), until: hourAgo() }),
    ],
    ["deliveries: newest", (p) => listDeliveries(p, {})],
    ["deliveries: next page", (p) => listDeliveries(p, { cursor: cursor() })],
    ["deliveries: failed", (p) => listDeliveries(p, { status: ["failed"] })],
    [
      "deliveries: failed to a target since 2h",
      (p) =>
        listDeliveries(p, {
          status: ["failed"],
          target: "fraud-service",
          since: new Date(Date.now() - 7_200_000),
        }),
    ],
    ["deliveries: by target", (p) => listDeliveries(p, { target: "audit-log" })],
    [
      "deliveries: by source and status",
      (p) => listDeliveries(p, { source: "github", status: ["failed", "retrying"] }),
    ],
    ["deliveries: of an event", (p) => listDeliveries(p, { eventId: "evt_00000100" })],
    ["deliveries: since", (p) => listDeliveries(p, { since: hourAgo() })],
    // target_states is not here: one row per target, read whole.
    ["targets: backlog and oldest pending (listing, metrics)", (p) => targetBacklogs(p)],
    ["audit: newest", (p) => listAudit(p, {})],
    ["audit: next page", (p) => listAudit(p, { cursor: cursor() })],
    ["audit: by actor", (p) => listAudit(p, { actor: "cli" })],
    ["audit: by action since", (p) => listAudit(p, { action: "login_failed", since: hourAgo() })],
    [
      "audit: time window",
      (p) => listAudit(p, { since: new Date(Date.now() - 7_200_000), until: hourAgo() }),
    ],
    [
      "bulk retry batch",
      (p) =>
        retryDeliveries(
          p,
          { status: ["failed"], target: "fraud-service", since: hourAgo() },
          { targets: ["fraud-service", "audit-log"], onBatch: async () => {} },
        ),
    ],
    ["dashboard overview: counts and events per hour", (p) => getOverview(p)],
    ["dashboard overview: target health", (p) => getTargetHealth(p)],
    ["dashboard overview: statistics fold", (p) => foldStats(p)],
    [
      "retention purge",
      (p) =>
        purgeOlderThan(p, {
          eventsBefore: new Date(Date.now() - 29 * 86_400_000),
          attemptsBefore: new Date(Date.now() - 29 * 86_400_000),
        }),
    ],
  ];

  it.each(cases)("uses an index: %s", async (_label, run) => {
    const { pool, statements } = recorder();
    await run(pool);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      if (/^\s*(begin|commit|rollback)\s*$/i.test(s.sql)) continue;
      const { scans, plan } = await explain(s.sql, s.params);
      expect(
        scans.filter((t) => !READ_WHOLE.has(t)),
        `${s.sql}\n${plan}`,
      ).toEqual([]);
    }
  });
});
