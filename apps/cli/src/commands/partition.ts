import { parseArgs } from "node:util";
import {
  convertToPartitioned,
  listPartitions,
  migrateDatabase,
  PARTITIONED_TABLES,
  type PartitionPeriod,
  partitionedTables,
} from "@hookline/db";
import { CliError } from "../context";
import { type ConfiguredCommand, printJson, withDatabase } from "./ops";

export const PARTITION_USAGE = "hookline partition [--period daily|weekly] [--status] [--json]";

/**
 * `hookline partition`: makes `events` and `delivery_attempts` time-partitioned tables, as
 * `retention.partitioning` asks (or --period). Applies migrations first, converts in one
 * transaction (a crash leaves the install as it was; run it again), and on an install that is
 * already partitioned only adds partitions that are missing. `--status` changes nothing.
 */
export const partitionCommand: ConfiguredCommand = async (args, env, config, print) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      period: { type: "string" },
      status: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  let period: PartitionPeriod | null = null;
  if (!values.status) {
    const wanted = values.period ?? config().retention.partitioning;
    if (wanted !== "daily" && wanted !== "weekly")
      throw new CliError(
        values.period === undefined
          ? "retention.partitioning is none: set it to daily or weekly in the config (or pass --period daily|weekly)"
          : `--period: expected daily or weekly, got "${values.period}"`,
      );
    period = wanted;
    await migrateDatabase(env.databaseUrl);
  }
  return withDatabase(env, async (database) => {
    const report = period === null ? null : await convertToPartitioned(database.pool, { period });
    const state = await partitionedTables(database.pool);
    const tables = await Promise.all(
      PARTITIONED_TABLES.map(async ({ table }) => ({
        table,
        partitioned: state[table],
        partitions: state[table] ? (await listPartitions(database.pool, table)).map((p) => p.name) : [],
      })),
    );
    if (values.json) {
      printJson(print, {
        period,
        converted: report?.converted ?? [],
        created: report?.created ?? [],
        tables,
      });
      return 0;
    }
    if (report !== null)
      print(
        report.converted.length > 0
          ? `converted ${report.converted.join(" and ")} to ${period} partitions`
          : "already partitioned: nothing to convert",
      );
    if (report !== null && report.created.length > 0) print(`created ${report.created.join(", ")}`);
    for (const t of tables)
      print(
        t.partitioned
          ? `${t.table}: ${t.partitions.length} partitions (${t.partitions.join(", ")})`
          : `${t.table}: not partitioned`,
      );
    return 0;
  });
};
