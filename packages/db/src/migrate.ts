import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { connectDatabase, ensureDatabase } from "./client";

export const MIGRATIONS_FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), "../../../migrations");

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
