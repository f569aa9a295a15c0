import { parseArgs } from "node:util";
import { parseDuration } from "@hookline/config";
import {
  BatchAuditRow,
  type MaintainReport,
  maintainPartitions,
  type PurgeCounts,
  purgeOlderThan,
} from "@hookline/db";
import { CliError } from "../context";
import { CLI_ACTOR, type ConfiguredCommand, plural, printJson, withDatabase } from "./ops";

export const PURGE_USAGE =
  "hookline purge [--older-than 30d|forever] [--attempts-older-than 30d|forever] [--batch-size N] [--json]";

function cutoff(flag: string, text: string, nowMs: number): Date | null {
  if (text === "forever") return null;
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) throw new CliError(`--${flag}: expected a duration such as 30d or "forever"`);
  return new Date(nowMs - ms);
}

/**
 * `hookline purge`: what the retention job does, once, now. Without flags it uses the config's
 * `retention`; `--older-than` sets both cutoffs (attempts may have their own). De-duplication
 * keys are only removed once their window has passed, so de-duplication still holds.
 */
export const purgeCommand: ConfiguredCommand = async (args, env, config, print) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      "older-than": { type: "string" },
      "attempts-older-than": { type: "string" },
      "batch-size": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const now = Date.now();
  let eventsBefore: Date | null;
  let attemptsBefore: Date | null;
  // The period new partitions get; daily when there is no config to say (flags only).
  let partitioning = "daily";
  if (values["older-than"] !== undefined || values["attempts-older-than"] !== undefined) {
    try {
      partitioning = config().retention.partitioning;
    } catch {}
  }
  if (values["older-than"] !== undefined || values["attempts-older-than"] !== undefined) {
    const events = values["older-than"];
    eventsBefore = events === undefined ? null : cutoff("older-than", events, now);
    const attempts = values["attempts-older-than"] ?? events;
    attemptsBefore = attempts === undefined ? null : cutoff("attempts-older-than", attempts, now);
  } else {
    const { retention } = config();
    partitioning = retention.partitioning;
    eventsBefore = retention.eventsMs === null ? null : new Date(now - retention.eventsMs);
    attemptsBefore = retention.attemptsMs === null ? null : new Date(now - retention.attemptsMs);
  }
  let batchSize = 5_000;
  if (values["batch-size"] !== undefined) {
    batchSize = /^\d+$/.test(values["batch-size"]) ? Number(values["batch-size"]) : 0;
    if (batchSize < 1 || batchSize > 100_000) throw new CliError("--batch-size: expected 1 to 100000");
  }
  // One audit row, committed with the first batch and brought up to date by each later one.
  const audit = new BatchAuditRow({
    ...CLI_ACTOR,
    action: "purge",
    subject: `events<${eventsBefore?.toISOString() ?? "forever"} attempts<${attemptsBefore?.toISOString() ?? "forever"}`,
    details: {
      events_before: eventsBefore?.toISOString() ?? null,
      attempts_before: attemptsBefore?.toISOString() ?? null,
    },
  });
  const { counts, partitions } = await withDatabase(env, async (database) => {
    // A partitioned install: whole partitions first, as the retention job does.
    const partitions: MaintainReport | null = await maintainPartitions(database.pool, {
      period: partitioning === "weekly" ? "weekly" : "daily",
      eventsBefore,
      attemptsBefore,
    });
    const counts: PurgeCounts = await purgeOlderThan(database.pool, {
      eventsBefore,
      attemptsBefore,
      batchSize,
      pauseMs: 10,
      audit: (tx, totals) =>
        audit.record(tx, { ...totals, partitions_dropped: partitions?.dropped.length ?? 0 }),
    });
    return { counts, partitions };
  });
  if (values.json) {
    printJson(print, {
      events_before: eventsBefore?.toISOString() ?? null,
      attempts_before: attemptsBefore?.toISOString() ?? null,
      deleted: counts,
      ...(partitions === null
        ? {}
        : { partitions_dropped: partitions.dropped, partitions_kept: partitions.kept }),
    });
    return 0;
  }
  print(
    [
      `deleted ${plural(counts.events, "event")} older than ${eventsBefore?.toISOString() ?? "forever (kept)"} (with their deliveries and attempts)`,
      `        ${plural(counts.delivery_attempts, "attempt log")} older than ${attemptsBefore?.toISOString() ?? "forever (kept)"}`,
      `        ${plural(counts.event_duplicates, "duplicate receipt")}`,
      `        ${plural(counts.dedupe_keys, "expired de-duplication key")}`,
      ...(partitions === null
        ? []
        : [
            `dropped ${plural(partitions.dropped.length, "partition")}${partitions.dropped.length > 0 ? ` (${partitions.dropped.join(", ")})` : ""}`,
          ]),
    ].join("\n"),
  );
  return 0;
};
