import { connectDatabase, type Database } from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";

let iso: Isolated;
let database: Database;

beforeAll(async () => {
  iso = await isolate("dbclient");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});
afterAll(() => closeAll(database, iso));

// A generic plan cached while the tables were empty is a sequential scan that a pooled
// connection keeps until the next autoanalyze (see client.ts): every connection plans each
// execution with its arguments instead.
it("plans every prepared statement with its arguments, on every pooled connection", async () => {
  const clients = await Promise.all([database.pool.connect(), database.pool.connect()]);
  try {
    for (const client of clients) {
      const { rows } = await client.query<{ plan_cache_mode: string }>("show plan_cache_mode");
      expect(rows[0]?.plan_cache_mode).toBe("force_custom_plan");
    }
  } finally {
    for (const client of clients) client.release();
  }
});

// Postgres stopped or restarted while a worker holds a client mid-transaction: the client's
// queries must fail, not the process (an unhandled 'error' event would fail this file).
it("a connection lost while a client is checked out fails its queries, not the process", async () => {
  const held = await database.pool.connect();
  const { rows } = await held.query<{ pid: number }>("select pg_backend_pid() as pid");
  const lost = new Promise((resolve) => held.once("end", resolve));
  const killer = await database.pool.connect();
  try {
    await killer.query("select pg_terminate_backend($1)", [rows[0]?.pid]);
  } finally {
    killer.release();
  }
  await lost;
  await expect(held.query("select 1")).rejects.toThrow();
  held.release();
  // The pool dropped the broken client and serves a fresh one.
  const { rows: again } = await database.pool.query<{ one: number }>("select 1 as one");
  expect(again[0]?.one).toBe(1);
});
