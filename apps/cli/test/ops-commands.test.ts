// The ops commands as a person or a script runs them: a child process with DATABASE_URL (and
// REDIS_URL for retry and replay), no gateway running.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectDatabase, type Database } from "@hookline/db";
import { ALERTS_QUEUE, bullPrefix, deliveryQueueName } from "@hookline/queue";
import { closeAll, type Isolated, isolate, type NodeRun, runNode } from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The compiled CLI, as `pnpm hookline` runs it (the global setup keeps dist/ current): each
// command starts in a fraction of the time tsx takes to compile the sources.
const MAIN = "dist/hookline.mjs";

let iso: Isolated;
let database: Database;
let dir: string;
let configPath: string;

function hookline(...args: string[]): Promise<NodeRun> {
  return runNode([MAIN, ...args], {
    DATABASE_URL: iso.databaseUrl,
    REDIS_URL: iso.redisUrl,
    HOOKLINE_QUEUE_PREFIX: iso.queuePrefix,
    HOOKLINE_CONFIG: configPath,
    LOG_LEVEL: "silent",
  });
}

function parse<T>(run: NodeRun): T {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

type Page<T> = { data: T[]; next_cursor: string | null };
type Delivery = { id: string; status: string; target_id: string; run_number: number; attempt_count: number };

const status = async (id: string) =>
  (
    await database.pool.query<{ status: string; run_number: number }>(
      "select status, run_number from deliveries where id = $1",
      [id],
    )
  ).rows[0];

/** The alerts waiting in the alerts queue: type, target, reason, who. */
async function alertsQueued(): Promise<Array<[string, string, unknown, unknown]>> {
  const u = new URL(iso.redisUrl);
  const queue = new Queue(ALERTS_QUEUE, {
    connection: { host: u.hostname, port: Number(u.port || 6379) },
    prefix: bullPrefix(iso.queuePrefix),
  });
  try {
    const jobs = await queue.getJobs(["waiting"]);
    return jobs
      .filter((j) => j.name === "send")
      .map((j) => {
        const alert = (
          j.data as { alert: { type: string; targetId: string; details: Record<string, unknown> } }
        ).alert;
        return [alert.type, alert.targetId, alert.details.reason, alert.details.by];
      });
  } finally {
    await queue.close();
  }
}

async function jobData(targetId: string, jobId: string): Promise<unknown> {
  const u = new URL(iso.redisUrl);
  const queue = new Queue(deliveryQueueName(targetId), {
    connection: { host: u.hostname, port: Number(u.port || 6379) },
    prefix: bullPrefix(iso.queuePrefix),
  });
  try {
    return (await queue.getJob(jobId))?.data;
  } finally {
    await queue.close();
  }
}

beforeAll(async () => {
  iso = await isolate("cli-ops");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  dir = mkdtempSync(join(tmpdir(), "hookline-cli-"));
  configPath = join(dir, "hookline.yaml");
  writeFileSync(
    configPath,
    `sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["clausum-test-secret-0123456789abcdef"] }
targets:
  - { id: fraud-service, url: "http://127.0.0.1:9/fraud" }
  - { id: audit-log, url: "http://127.0.0.1:9/audit" }
routes:
  - { source: clausum, events: ["fraud.*"], targets: [fraud-service, audit-log] }
alerts:
  - { url: "http://127.0.0.1:9/ops", events: [target.paused, target.resumed] }
`,
  );
  await database.pool.query(
    `insert into events (id, source_id, event_type, dedupe_key, provider_id, received_at, headers, body, content_type)
     values
       ('evt_cli1', 'clausum', 'fraud.detected', 'k1', 'ref-1', now() - interval '50 minutes', '{}', convert_to('{"case":1}', 'UTF8'), 'application/json'),
       ('evt_cli2', 'clausum', 'fraud.detected', 'k2', 'ref-2', now() - interval '40 minutes', '{}', convert_to('{"case":2}', 'UTF8'), 'application/json'),
       ('evt_cli3', 'clausum', 'case.created', 'k3', 'ref-3', now() - interval '30 minutes', '{}', convert_to('{"case":3}', 'UTF8'), 'application/json'),
       ('evt_cliold', 'clausum', 'fraud.detected', 'k0', 'ref-0', now() - interval '3 days', '{}', convert_to('{"case":0}', 'UTF8'), 'application/json')`,
  );
  await database.pool.query(
    `insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, last_status_code, last_error,
                             created_at, updated_at)
     values
       ('dlv_cli1', 'evt_cli1', 'fraud-service', 'clausum', 'failed', 3, 503, 'target answered 503; no attempts left', now() - interval '50 minutes', now() - interval '45 minutes'),
       ('dlv_cli1a', 'evt_cli1', 'audit-log', 'clausum', 'succeeded', 1, 200, null, now() - interval '50 minutes', now() - interval '50 minutes'),
       ('dlv_cli2', 'evt_cli2', 'fraud-service', 'clausum', 'failed', 3, 500, 'target answered 500; no attempts left', now() - interval '40 minutes', now() - interval '35 minutes'),
       ('dlv_cliold', 'evt_cliold', 'fraud-service', 'clausum', 'failed', 3, 503, 'target answered 503; no attempts left', now() - interval '3 days', now() - interval '3 days')`,
  );
  await database.pool.query(
    `insert into delivery_attempts (id, delivery_id, attempt_number, started_at, duration_ms, status_code, response_body, error)
     select 'att_cli1_' || n, 'dlv_cli1', n, now() - interval '50 minutes' + n * interval '1 minute', 20 + n, 503,
            'unavailable', 'target answered 503'
     from generate_series(1, 3) n`,
  );
});

afterAll(async () => {
  await closeAll(database, iso);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("hookline deliveries", () => {
  it("list --status failed --json prints the API's page as JSON", async () => {
    const page = parse<Page<Delivery>>(await hookline("deliveries", "list", "--status", "failed", "--json"));
    expect(page.data.map((d) => d.id)).toEqual(["dlv_cli2", "dlv_cli1", "dlv_cliold"]);
    expect(page.next_cursor).toBeNull();
  });

  it("list --status failed --target fraud-service --since 2h prints a readable table", async () => {
    const run = await hookline(
      "deliveries",
      "list",
      "--status",
      "failed",
      "--target",
      "fraud-service",
      "--since",
      "2h",
    );
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      /^ID\s+UPDATED \(UTC\)\s+TARGET\s+STATUS\s+ATTEMPTS\s+LAST\s+EVENT\s+LAST ERROR$/,
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      /^dlv_cli2\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+fraud-service\s+failed\s+3\s+500\s+evt_cli2\s+target/,
    );
    // Columns line up: every row's TARGET starts where the header's does.
    const at = lines[0]?.indexOf("TARGET");
    for (const line of lines.slice(1)) expect(line.indexOf("fraud-service")).toBe(at);
  });

  it("show prints every attempt; a bad filter names the flag", async () => {
    const [show, bad, missing] = await Promise.all([
      hookline("deliveries", "show", "dlv_cli1"),
      hookline("deliveries", "list", "--since", "last week"),
      hookline("deliveries", "show", "dlv_nope"),
    ]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("delivery dlv_cli1 → fraud-service: failed, 3 attempts");
    expect(show.stdout.match(/target answered 503/g)).toHaveLength(3);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--since");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no delivery dlv_nope");
  });
});

describe("hookline events", () => {
  it("list pages with --limit and --cursor, filters by provider id", async () => {
    const first = await hookline("events", "list", "--source", "clausum", "--limit", "2");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("evt_cli3");
    expect(first.stdout).toContain("evt_cli2");
    const cursor = /--cursor (\S+)/.exec(first.stdout)?.[1] ?? "";
    expect(cursor).not.toBe("");
    const [second, byRef] = await Promise.all([
      hookline("events", "list", "--source", "clausum", "--limit", "2", "--cursor", cursor, "--json"),
      hookline("events", "list", "--provider-id", "ref-1", "--json"),
    ]);
    expect(parse<Page<{ id: string }>>(second).data.map((e) => e.id)).toEqual(["evt_cli1", "evt_cliold"]);
    const found = parse<Page<{ id: string; deliveries: Record<string, number> }>>(byRef);
    expect(found.data.map((e) => e.id)).toEqual(["evt_cli1"]);
    expect(found.data[0]?.deliveries).toEqual({ pending: 0, retrying: 0, succeeded: 1, failed: 1 });
  });

  it("show prints the event, its deliveries and attempts; --json the API's answer", async () => {
    const [text, json] = await Promise.all([
      hookline("events", "show", "evt_cli1"),
      hookline("events", "show", "evt_cli1", "--json"),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("event evt_cli1");
    expect(text.stdout).toContain("provider id  ref-1");
    expect(text.stdout).toContain("delivery dlv_cli1 → fraud-service: failed, 3 attempts");
    expect(text.stdout).toContain("delivery dlv_cli1a → audit-log: succeeded, 1 attempt");
    const event = parse<{ body: string; deliveries: Array<{ attempts: unknown[] }> }>(json);
    expect(event.body).toBe('{"case":1}');
    expect(event.deliveries.map((d) => d.attempts.length)).toEqual([3, 0]);
  });
});

describe("hookline retry and replay", () => {
  it("retry DELIVERY_ID starts run 2 and queues it", async () => {
    const run = await hookline("retry", "dlv_cli1");
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("retried dlv_cli1 → fraud-service (run 2): queued");
    expect(await status("dlv_cli1")).toEqual({ status: "pending", run_number: 2 });
    expect(await jobData("fraud-service", "dlv_cli1-r2")).toEqual({ deliveryId: "dlv_cli1", runNumber: 2 });
    const succeeded = await hookline("retry", "dlv_cli1a");
    expect(succeeded.code).toBe(1);
    expect(succeeded.stderr).toContain("--force");
  });

  it("retry by filters: a dry run, then the real thing, with the same filters as the API", async () => {
    const dry = parse<{ matched: number }>(
      await hookline(
        "retry",
        "--status",
        "failed",
        "--target",
        "fraud-service",
        "--since",
        "2h",
        "--dry-run",
        "--json",
      ),
    );
    expect(dry.matched).toBe(1);
    expect(await status("dlv_cli2")).toEqual({ status: "failed", run_number: 1 });
    const real = await hookline("retry", "--status", "failed", "--target", "fraud-service", "--since", "2h");
    expect(real.stdout).toContain("retried 1 delivery: queued");
    expect(await status("dlv_cli2")).toEqual({ status: "pending", run_number: 2 });
    expect(await status("dlv_cliold")).toEqual({ status: "failed", run_number: 1 });
    const usage = await hookline("retry");
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain("hookline retry DELIVERY_ID");
  });

  it("replay to named targets makes new deliveries; an unknown target is named", async () => {
    const replay = parse<{ deliveries: Array<{ id: string; target_id: string }> }>(
      await hookline("replay", "evt_cli3", "--target", "audit-log", "--json"),
    );
    expect(replay.deliveries.map((d) => d.target_id)).toEqual(["audit-log"]);
    const id = replay.deliveries[0]?.id ?? "";
    expect(await status(id)).toEqual({ status: "pending", run_number: 1 });
    expect(await jobData("audit-log", id)).toEqual({ deliveryId: id, runNumber: 1 });
    const [all, unknown] = await Promise.all([
      hookline("replay", "evt_cli2"),
      hookline("replay", "evt_cli2", "--target", "nope"),
    ]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/dlv_\w+\s+fraud-service\s+pending/);
    expect(all.stdout).toMatch(/dlv_\w+\s+audit-log\s+pending/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('"nope"');
  });
});

describe("hookline purge", () => {
  it("--older-than deletes old events with their deliveries, in batches, and reports counts", async () => {
    const run = parse<{ deleted: Record<string, number> }>(
      await hookline("purge", "--older-than", "2d", "--batch-size", "10", "--json"),
    );
    expect(run.deleted.events).toBe(1);
    expect(await status("dlv_cliold")).toBeUndefined();
    expect(await status("dlv_cli2")).toBeDefined();
    const text = await hookline("purge", "--older-than", "2d");
    expect(text.stdout).toContain("deleted 0 events older than");
    const bad = await hookline("purge", "--older-than", "soon");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--older-than");
  });
});

describe("hookline targets, pause, resume", () => {
  type Target = { id: string; paused: boolean; paused_reason: string | null; backlog: number; circuit: null };
  const queuePaused = async (targetId: string) => {
    const u = new URL(iso.redisUrl);
    const queue = new Queue(deliveryQueueName(targetId), {
      connection: { host: u.hostname, port: Number(u.port || 6379) },
      prefix: bullPrefix(iso.queuePrefix),
    });
    try {
      return await queue.isPaused();
    } finally {
      await queue.close();
    }
  };

  it("pauses a target with a reason (stored, its queue paused), lists it, and resumes it", async () => {
    const paused = await hookline("pause", "fraud-service", "--reason", "target deploy");
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain("paused fraud-service");
    expect(await queuePaused("fraud-service")).toBe(true);
    const listed = parse<{ data: Target[] }>(await hookline("targets", "--json"));
    expect(listed.data.map((t) => [t.id, t.paused, t.paused_reason, t.circuit])).toEqual([
      ["fraud-service", true, "target deploy", null],
      ["audit-log", false, null, null],
    ]);
    const table = await hookline("targets");
    expect(table.stdout).toMatch(/fraud-service\s+paused\s+-\s+\d+/);
    expect(table.stdout).toContain("target deploy");

    // The process has exited: its target.paused alert is in Redis already (no worker runs here
    // to send it), raised by the same operation as the API's, with who did it.
    expect(await alertsQueued()).toEqual([["target.paused", "fraud-service", "target deploy", "cli"]]);

    const resumed = await hookline("resume", "fraud-service");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain("resumed fraud-service");
    expect(await queuePaused("fraud-service")).toBe(false);
    const state = await database.pool.query(
      "select paused, paused_reason from target_states where target_id = $1",
      ["fraud-service"],
    );
    expect(state.rows[0]).toEqual({ paused: false, paused_reason: null });
    expect((await alertsQueued()).map(([type]) => type).sort()).toEqual(["target.paused", "target.resumed"]);

    const unknown = await hookline("pause", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('"nope"');
    // The same reason check as the API: one line, at most 500 characters; nothing is stored.
    const long = await hookline("pause", "audit-log", "--reason", "x".repeat(501));
    expect(long.code).toBe(1);
    expect(long.stderr).toContain("--reason: at most 500 characters");
    const stored = await database.pool.query("select 1 from target_states where target_id = 'audit-log'");
    expect(stored.rowCount).toBe(0);
  });
});

describe("the audit log of the commands above", () => {
  it("has one row per change, as `cli`, and none for a dry run, a refused retry or a bad flag", async () => {
    const rows = (
      await database.pool.query<{ actor: string; action: string; subject: string | null; details: unknown }>(
        "select actor, action, subject, details from audit_log order by at, id",
      )
    ).rows;
    expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(["cli"]));
    const summary = rows.map((r) => [r.action, r.subject]);
    expect(summary.filter(([action]) => action === "delivery.retry")).toEqual([
      ["delivery.retry", "dlv_cli1"],
    ]);
    expect(summary.filter(([action]) => action === "deliveries.retry")).toHaveLength(1);
    expect(rows.find((r) => r.action === "deliveries.retry")?.details).toMatchObject({
      filters: { status: "failed", target: "fraud-service" },
      retried: 1,
    });
    // evt_cli3 to a named target, evt_cli2 to its routes; the unknown target changed nothing.
    expect(summary.filter(([action]) => action === "event.replay").map(([, s]) => s)).toEqual(
      expect.arrayContaining(["evt_cli3", "evt_cli2"]),
    );
    expect(summary.filter(([action]) => action === "event.replay")).toHaveLength(2);
    const purges = rows.filter((r) => r.action === "purge");
    expect(purges).toHaveLength(2);
    expect(purges[0]?.details).toMatchObject({ events: 1 });
    expect(purges[1]?.details).toMatchObject({ events: 0 });
    expect(summary.filter(([action]) => action?.startsWith("target."))).toEqual([
      ["target.pause", "fraud-service"],
      ["target.resume", "fraud-service"],
    ]);
  });
});

describe("hookline audit", () => {
  it("lists the log newest first with the API's filters; a bad action names the flag", async () => {
    const purges = parse<{ data: Array<{ actor: string; action: string }>; next_cursor: string | null }>(
      await hookline("audit", "--action", "purge", "--json"),
    );
    expect(purges.data.map((a) => [a.actor, a.action])).toEqual([
      ["cli", "purge"],
      ["cli", "purge"],
    ]);
    const [table, bad] = await Promise.all([
      hookline("audit", "--actor", "cli", "--limit", "2"),
      hookline("audit", "--action", "drop"),
    ]);
    expect(table.stdout).toMatch(/AT \(UTC\)\s+ACTOR\s+ACTION/);
    expect(table.stdout).toMatch(/cli\s+target\.resume\s+fraud-service/);
    expect(table.stdout).toContain("more: --cursor ");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--action: expected one of");
  });
});
