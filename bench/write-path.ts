// The worker's own writes, alone: batches of new events recorded with their first attempts
// opened (one statement), then the attempts closed (one statement), on one connection, so the
// Postgres backend's CPU per event can be read from /proc and compared between variants of the
// overview's statistics bookkeeping in the same run: none, the triggers as migrated, and the
// attempts' trigger as migration 0010 wrote it (a look-up of the delivery per attempt row).
// `pnpm bench:writes`; not part of `pnpm bench`, which measures the product, not one part of it.
//
// BENCH_WRITE_BATCHES (default 1,5,25): events per statement; BENCH_WRITE_EVENTS (default 6000)
// per variant and batch size; BENCH_WRITE_ROUNDS (default 3), alternating the variants.
import { readFileSync } from "node:fs";
import {
  type AttemptResult,
  closeAttempts,
  type IngestInput,
  newId,
  recordIngestedEvents,
} from "@hookline/db";
import pg from "pg";
import { createInfra } from "./lib/infra";

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const batches = (process.env.BENCH_WRITE_BATCHES ?? "1,5,25").split(",").map(Number);
const eventsPer = Number(process.env.BENCH_WRITE_EVENTS ?? 6000);
const rounds = Number(process.env.BENCH_WRITE_ROUNDS ?? 3);
const body = Buffer.from(JSON.stringify({ event: "fraud.detected", data: { pad: "x".repeat(900) } }));

/** Busy CPU (user + system) of a process, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function runOnce(
  pool: pg.Pool,
  backendPid: number,
  batch: number,
  events = eventsPer,
): Promise<number> {
  const before = cpuMs(backendPid);
  for (let done = 0; done < events; done += batch) {
    const inputs: IngestInput[] = [];
    const attempts: string[] = [];
    for (let i = 0; i < batch; i++) {
      const eventId = newId("evt");
      const attemptId = newId("att");
      attempts.push(attemptId);
      inputs.push({
        eventId,
        sourceId: "clausum",
        eventType: "fraud.detected",
        dedupeKey: eventId,
        providerId: null,
        receivedAt: new Date(),
        headers: { "content-type": "application/json" },
        body,
        contentType: "application/json",
        dedupeWindowMs: 86_400_000,
        targetIds: ["sink"],
        firstAttempts: [{ attemptId, leaseUntil: new Date(Date.now() + 40_000) }],
      });
    }
    const outcomes = await recordIngestedEvents(pool, inputs);
    const results: AttemptResult[] = outcomes.flatMap((o) =>
      o.kind === "created"
        ? o.deliveries.map((d) => ({
            attemptId: d.firstAttemptId as string,
            deliveryId: d.id,
            runNumber: d.runNumber,
            durationMs: 3,
            statusCode: 200,
            responseBody: "ok",
            error: null,
            status: "succeeded" as const,
            nextAttemptAt: null,
          }))
        : [],
    );
    await closeAttempts(pool, results);
  }
  return (cpuMs(backendPid) - before) / events;
}

interface Variant {
  readonly name: string;
  /** SQL that puts this variant's bookkeeping in place. */
  readonly setup: () => string;
}

const TABLES = ["events", "deliveries", "delivery_attempts"];
const triggersOff = TABLES.map(
  (t) =>
    `alter table ${t} disable trigger hookline_stats_insert; alter table ${t} disable trigger hookline_stats_update;`,
).join("\n");
const triggersOn = TABLES.map(
  (t) =>
    `alter table ${t} enable trigger hookline_stats_insert; alter table ${t} enable trigger hookline_stats_update;`,
).join("\n");

/** Filled in main(): the migrated definition of the attempts' statistics function. */
let attemptsFunction = "";
/** The same function as migration 0010 wrote it: a look-up of the delivery per attempt row. */
const attempts0010 = (() => {
  const sql = readFileSync(new URL("../migrations/0010_overview_stats.sql", import.meta.url), "utf8");
  const start = sql.indexOf("CREATE FUNCTION hookline_stats_attempts()");
  return sql
    .slice(start, sql.indexOf("END $$;", start) + "END $$;".length)
    .replace("CREATE", "CREATE OR REPLACE");
})();

const variants: Variant[] = [
  { name: "no statistics", setup: () => triggersOff },
  { name: "statistics", setup: () => `${attemptsFunction};\n${triggersOn}` },
  { name: "statistics, attempts as of 0010", setup: () => `${attempts0010}\n${triggersOn}` },
];

async function main(): Promise<void> {
  const infra = await createInfra(ADMIN_URL, process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  const pool = new pg.Pool({ connectionString: infra.databaseUrl, max: 1 });
  try {
    const pid = (await pool.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]?.pid as number;
    const table: Record<string, Record<number, number[]>> = {};
    attemptsFunction = (
      await pool.query<{ def: string }>(
        "select pg_get_functiondef('hookline_stats_attempts'::regproc) as def",
      )
    ).rows[0]?.def as string;
    for (const batch of batches) {
      for (let round = 0; round < rounds; round++) {
        // Each variant starts from empty tables; each round takes the variants in a rotated order; each
        // variant first runs a few batches unmeasured (its setup invalidates the cached plans).
        const order = variants.map((_, i) => variants[(i + round) % variants.length] as Variant);
        for (const variant of order) {
          await pool.query(
            "truncate events, deliveries, delivery_attempts, dedupe_keys, stats_deltas, stats_5m cascade",
          );
          await pool.query(variant.setup());
          await runOnce(pool, pid, batch, batch * 20);
          const us = (await runOnce(pool, pid, batch)) * 1000;
          const byBatch = table[variant.name] ?? {};
          byBatch[batch] = [...(byBatch[batch] ?? []), us];
          table[variant.name] = byBatch;
          console.log(`batch ${batch} round ${round + 1} ${variant.name}: ${us.toFixed(0)} µs/event`);
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    console.log("\nPostgres backend CPU per event (µs, median of rounds)");
    console.log(`| variant | ${batches.map((b) => `batch ${b}`).join(" | ")} |`);
    for (const variant of variants)
      console.log(
        `| ${variant.name} | ${batches.map((b) => median(table[variant.name]?.[b] ?? []).toFixed(0)).join(" | ")} |`,
      );
  } finally {
    await pool.end();
    await infra.drop();
  }
}

await main();
