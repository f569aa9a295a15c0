import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Ingest jobs set aside because recording them failed for a reason that will not go away
 * (a data error, not an outage). Retrying them forever would hide them; here ops see them, and
 * the whole job is kept so nothing acknowledged is lost.
 */
export const ingestFailures = pgTable(
  "ingest_failures",
  {
    /** The BullMQ job id: setting the same job aside twice keeps one row. */
    id: text("id").primaryKey(),
    sourceId: text("source_id"),
    /** The Hookline event id(s) the job carried; a batch job carries several. */
    eventIds: text("event_ids").array().notNull(),
    /** A stable reason code (`invalid_data`, `index_row_too_large`, ...). */
    reason: text("reason").notNull(),
    /** Postgres's message, secrets aside. */
    error: text("error").notNull(),
    /** The job's data as queued, body included (base64), for a re-drive after a fix. */
    job: jsonb("job").notNull(),
    failedAt: timestamp("failed_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("ingest_failures_failed_idx").on(t.failedAt.desc(), t.id.desc())],
);
