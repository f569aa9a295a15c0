import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { connectDatabase, ensureDatabase } from "./client";

/**
 * The repository's `migrations/`, found by walking up from this module: it runs from
 * packages/db/src under tsx and from dist/ once compiled (scripts/build.mjs), and both sit below it.
 */
export const MIGRATIONS_FOLDER = findMigrations(dirname(fileURLToPath(import.meta.url)));

function findMigrations(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "migrations");
    if (existsSync(join(candidate, "meta", "_journal.json"))) return candidate;
    // None anywhere: migrate then fails naming the path it looked for.
    if (dirname(dir) === dir) return join(from, "migrations");
  }
}

export interface MigrateOutcome {
  readonly createdDatabase: boolean;
}

/** Creates the database when missing, then applies the generated SQL in `migrations/`. */
export async function migrateDatabase(url: string): Promise<MigrateOutcome> {
  const createdDatabase = await ensureDatabase(url);
  const database = connectDatabase(url, { max: 1, applicationName: "hookline-migrate" });
  try {
    await migrate(database.db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await database.close();
  }
  return { createdDatabase };
}
