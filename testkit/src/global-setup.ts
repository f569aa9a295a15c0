import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dropDatabase, MIGRATIONS_FOLDER, migrateDatabase, splitDatabaseUrl } from "@hookline/db";
import pg from "pg";
import { ADMIN_URL, TEMPLATE_ENV } from "./env";
import { REPO_ROOT } from "./processes";

/**
 * Migrates one template database per migration set; each test file then clones it
 * (CREATE DATABASE ... TEMPLATE), which takes milliseconds instead of a migration run.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // Tests that start `hookline` as a process run the compiled build, as `pnpm start` does:
  // bring it up to date with the source under test (a no-op when nothing changed).
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-stale"], { cwd: REPO_ROOT, stdio: "inherit" });
  const hash = createHash("sha256");
  for (const f of readdirSync(MIGRATIONS_FOLDER).sort()) {
    if (f.endsWith(".sql")) hash.update(readFileSync(join(MIGRATIONS_FOLDER, f)));
  }
  const name = `hookline_tpl_${hash.digest("hex").slice(0, 12)}`;
  const url = databaseUrlFor(name);
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  const exists = await client.query("select 1 from pg_database where datname = $1", [name]);
  await client.end();
  if (!exists.rowCount) {
    try {
      await migrateDatabase(url);
    } catch (error) {
      await dropDatabase(url).catch(() => {});
      throw error;
    }
  }
  process.env[TEMPLATE_ENV] = name;
  return async () => {};
}

export function databaseUrlFor(name: string): string {
  const base = new URL(ADMIN_URL);
  base.pathname = `/${name}`;
  return base.toString();
}

export { splitDatabaseUrl };
