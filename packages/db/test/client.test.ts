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
