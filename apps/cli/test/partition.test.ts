// `hookline partition` as a person runs it: the compiled CLI in a child process, driven by
// retention.partitioning in the config; refused while the config says none; a re-run is a no-op.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectDatabase, type Database, newId, partitionedTables } from "@hookline/db";
import { closeAll, type Isolated, isolate, type NodeRun, runNode } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = "dist/hookline.mjs";

let iso: Isolated;
let database: Database;
let dir: string;

function hookline(config: string, ...args: string[]): Promise<NodeRun> {
  const path = join(dir, `${config.length}.yaml`);
  writeFileSync(path, config);
  return runNode([MAIN, ...args], {
    DATABASE_URL: iso.databaseUrl,
    REDIS_URL: iso.redisUrl,
    HOOKLINE_QUEUE_PREFIX: iso.queuePrefix,
    HOOKLINE_CONFIG: path,
    LOG_LEVEL: "silent",
  });
}

beforeAll(async () => {
  iso = await isolate("clipartition");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  dir = mkdtempSync(join(tmpdir(), "hookline-partition-"));
  const id = newId("evt");
  await database.pool.query(
    `insert into events (id, source_id, dedupe_key, headers, body) values ($1, 'clausum', 'k', '{}', '\\x00')`,
    [id],
  );
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closeAll(database, iso);
});

describe("hookline partition", () => {
  it("is refused while retention.partitioning is none, and changes nothing", async () => {
    const run = await hookline("retention: { partitioning: none }\n", "partition");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("retention.partitioning is none");
    expect(await partitionedTables(database.pool)).toEqual({ events: false, delivery_attempts: false });
  });

  it("converts as the config says, then only reports", async () => {
    const config = "retention: { partitioning: weekly }\n";
    const first = await hookline(config, "partition", "--json");
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as { period: string; converted: string[]; created: string[] };
    expect(report.period).toBe("weekly");
    expect(report.converted).toEqual(["events", "delivery_attempts"]);
    expect(report.created.filter((name) => name.startsWith("events_p"))).toHaveLength(4);
    const again = await hookline(config, "partition");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already partitioned: nothing to convert");
    const count = await database.pool.query<{ n: number }>("select count(*)::int as n from events");
    expect(count.rows[0]?.n).toBe(1);
    const status = await hookline(config, "partition", "--status");
    expect(status.stdout).toMatch(/^events: 6 partitions \(events_default, events_legacy, events_p/m);
  });
});
