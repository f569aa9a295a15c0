// The worker's delivery statements look rows up by id, and the ordering check probes one key,
// when the planner's statistics are wrong the way a backlog makes them wrong: taken while nothing
// was held or live, then thousands of deliveries held. Before, Postgres planned the earlier-live
// check (NOT EXISTS) as an anti-join that read the whole of deliveries_ordering_idx for every
// candidate, and the release and attempt statements read deliveries_held_idx or
// deliveries_status_updated_idx whole; under the bench's ordered load the backlog then grew
// faster than it drained. The plans are checked, not timed: EXPLAIN against that state.
import {
  closeAttempts,
  connectDatabase,
  type Database,
  heldHeads,
  newId,
  openAttempts,
  postponeDelivery,
  recordIngestedEvents,
  releaseHeads,
} from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderedEvent } from "./ordered-event";

let iso: Isolated;
let database: Database;

const KEYS = 20;
const HISTORY_PER_KEY = 50;
const BACKLOG_PER_KEY = 250;

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Index Cond"?: string;
  Plans?: PlanNode[];
}

function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}

/** Sends nothing: keeps the statement a query function would send. */
function capture(): { pool: Database["pool"]; sent: Array<{ text: string; values: unknown[] }> } {
  const sent: Array<{ text: string; values: unknown[] }> = [];
  const query = async (statement: string | { text: string; values?: unknown[] }, values: unknown[] = []) => {
    if (typeof statement === "string") sent.push({ text: statement, values });
    else sent.push({ text: statement.text, values: statement.values ?? [] });
    return { rows: [], rowCount: 0 };
  };
  return { pool: { query } as unknown as Database["pool"], sent };
}

async function planOf(statement: { text: string; values: unknown[] }): Promise<PlanNode[]> {
  const result = await database.pool.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(
    `explain (format json) ${statement.text}`,
    statement.values,
  );
  const root = result.rows[0]?.["QUERY PLAN"][0]?.Plan;
  if (!root) throw new Error("no plan");
  return nodes(root);
}

/** The indexes of deliveries a plan reads. */
function deliveryIndexes(plan: readonly PlanNode[]): Set<string | undefined> {
  return new Set(plan.map((n) => n["Index Name"]).filter((name) => name?.startsWith("deliveries_")));
}

async function record(keyOf: (n: number) => string, count: number, firstSeq: bigint): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < count; from += 500) {
    const size = Math.min(500, count - from);
    const outcomes = await recordIngestedEvents(
      database.pool,
      Array.from({ length: size }, (_, i) =>
        orderedEvent(keyOf(from + i), firstSeq + BigInt(from + i) * 65_536n),
      ),
    );
    for (const o of outcomes) {
      if (o.kind !== "created" || !o.deliveries[0]) throw new Error(`not created: ${o.kind}`);
      ids.push(o.deliveries[0].id);
    }
  }
  return ids;
}

beforeAll(async () => {
  iso = await isolate("dborderplans");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  // Statistics stay as the test leaves them, whatever the server's autovacuum does.
  await database.pool.query("alter table deliveries set (autovacuum_enabled = false)");
  // Delivered history on every key, analysed while nothing is held or live...
  await record((n) => `k${n % KEYS}`, KEYS * HISTORY_PER_KEY, 65_536n);
  await database.pool.query(
    "update deliveries set held = false, status = 'succeeded', succeeded_at = now(), updated_at = now()",
  );
  await database.pool.query("vacuum analyze deliveries");
  // ...then a backlog the statistics know nothing of.
  await record((n) => `k${n % KEYS}`, KEYS * BACKLOG_PER_KEY, 1_000_000n * 65_536n);
}, 120_000);
afterAll(() => closeAll(database, iso));

describe("ordering statements under a backlog the statistics missed", () => {
  it("holds the backlog the statements are planned against", async () => {
    const held = await database.pool.query<{ n: number }>(
      "select count(*)::int as n from deliveries where held",
    );
    expect(held.rows[0]?.n).toBe(KEYS * BACKLOG_PER_KEY);
    const stats = await database.pool.query<{ reltuples: number }>(
      "select reltuples from pg_class where relname = 'deliveries_held_idx'",
    );
    expect(stats.rows[0]?.reltuples).toBe(0);
  });

  it("searches heads with one probe of the key's earlier deliveries per candidate", async () => {
    const { pool, sent } = capture();
    await heldHeads(pool, { fromSeq: 0n, belowSeq: 2n ** 62n, limit: 500 });
    const plan = await planOf(sent[0] as (typeof sent)[number]);
    const probes = plan.filter((n) => n["Index Name"] === "deliveries_ordering_idx");
    expect(probes.length).toBeGreaterThan(0);
    for (const probe of probes) expect(probe["Index Cond"]).toMatch(/ordering_key = d\.ordering_key/);
    // It is right, too: the first of each key, and only those.
    const heads = await heldHeads(database.pool, { fromSeq: 0n, belowSeq: 2n ** 62n, limit: 500 });
    expect(heads).toHaveLength(KEYS);
  });

  it("releases by id, probing only the released delivery's key", async () => {
    const some = await database.pool.query<{ id: string }>(
      "select id from deliveries where held order by ordering_seq limit 100",
    );
    const { pool, sent } = capture();
    await releaseHeads(
      pool,
      some.rows.map((r) => ({ deliveryId: r.id, attemptId: null, leaseUntil: null })),
      2n ** 62n,
    );
    const plan = await planOf(sent[0] as (typeof sent)[number]);
    // Not deliveries_held_idx nor deliveries_status_updated_idx read for "held" or "pending".
    expect(deliveryIndexes(plan)).toEqual(new Set(["deliveries_pkey", "deliveries_ordering_idx"]));
    const probes = plan.filter((n) => n["Index Name"] === "deliveries_ordering_idx");
    expect(probes.length).toBeGreaterThan(0);
    for (const probe of probes)
      expect(probe["Index Cond"]).toMatch(/ordering_key = deliveries\.ordering_key/);
    // Released: the first of each key among the 100 (the oldest 100 cover every key).
    const released = await releaseHeads(
      database.pool,
      some.rows.map((r) => ({ deliveryId: r.id, attemptId: null, leaseUntil: null })),
      2n ** 62n,
    );
    expect(released.filter((r) => r !== null)).toHaveLength(KEYS);
  });

  it("opens, closes and postpones attempts by id, and names successors by probing the key", async () => {
    const some = await database.pool.query<{ id: string }>(
      "select id from deliveries where not held and status = 'pending' limit 20",
    );
    const { pool, sent } = capture();
    const now = new Date();
    await openAttempts(
      pool,
      some.rows.map((r) => ({ deliveryId: r.id, runNumber: 1, attemptId: newId("att"), now })),
    );
    await closeAttempts(
      pool,
      some.rows.map((r) => ({
        attemptId: newId("att"),
        deliveryId: r.id,
        runNumber: 1,
        durationMs: 3,
        statusCode: 200,
        responseBody: "ok",
        error: null,
        status: "succeeded" as const,
        nextAttemptAt: null,
      })),
    );
    await postponeDelivery(pool, some.rows[0]?.id as string, 1, now);
    expect(sent).toHaveLength(3);
    for (const statement of sent) {
      const plan = await planOf(statement);
      const used = deliveryIndexes(plan);
      used.delete("deliveries_ordering_idx");
      expect(used, statement.text.slice(0, 80)).toEqual(new Set(["deliveries_pkey"]));
      for (const probe of plan.filter((n) => n["Index Name"] === "deliveries_ordering_idx"))
        expect(probe["Index Cond"]).toMatch(/ordering_key = c\.ordering_key/);
    }
  });
});
