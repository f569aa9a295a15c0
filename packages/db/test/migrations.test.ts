// Data migrations, run against rows as an older version stored them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectDatabase, type Database, MIGRATIONS_FOLDER } from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let iso: Isolated;
let database: Database;

beforeAll(async () => {
  iso = await isolate("dbmigrations");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});
afterAll(() => closeAll(database, iso));

describe("0003_redact_stored_signatures", () => {
  it("shortens every stored signature header to 16 characters and leaves the rest alone", async () => {
    const full = {
      "stripe-signature": `t=1700000000,v1=${"a".repeat(64)}`,
      "x-hub-signature-256": `sha256=${"b".repeat(64)}`,
      "webhook-signature": `v1,${"c".repeat(44)}`,
      "x-acme-signature": "d".repeat(64),
      "x-custom-hmac": "e".repeat(40),
      "x-short-signature": "abc",
      "x-github-delivery": "f".repeat(36),
      "content-type": "application/json",
    };
    await database.pool.query(
      "insert into events (id, source_id, dedupe_key, headers, body) values ('evt_old', 's', 'k', $1, '\\x7b7d')",
      [JSON.stringify(full)],
    );
    const sql = readFileSync(join(MIGRATIONS_FOLDER, "0003_redact_stored_signatures.sql"), "utf8");
    await database.pool.query(sql);
    await database.pool.query(sql); // idempotent: a second run changes nothing more
    const row = await database.pool.query<{ headers: Record<string, string> }>(
      "select headers from events where id = 'evt_old'",
    );
    expect(row.rows[0]?.headers).toEqual({
      "stripe-signature": "t=1700000000,v1=…",
      "x-hub-signature-256": "sha256=bbbbbbbbb…",
      "webhook-signature": "v1,ccccccccccccc…",
      "x-acme-signature": "dddddddddddddddd…",
      "x-custom-hmac": "eeeeeeeeeeeeeeee…",
      "x-short-signature": "abc",
      "x-github-delivery": "f".repeat(36),
      "content-type": "application/json",
    });
  });
});
