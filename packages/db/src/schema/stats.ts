import { bigint, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * What the dashboard's overview counts, in 5-minute buckets over the last 25 hours, so that it
 * reads a few thousand rows whatever the size of the history. Kept exact by triggers on events,
 * deliveries and delivery_attempts (migration 0010): each writing statement appends what it
 * changed to `stats_deltas`, in its own transaction; the worker folds the deltas in here
 * (packages/db/src/queries/stats.ts). Readers add the two.
 *
 * `kind` and what `subject` and `detail` hold:
 * - `event`: a source; '' (events by `received_at`).
 * - `delivery`: a target; a status (deliveries by `updated_at`, their last change).
 * - `attempt`: a target; `ok` (a 2xx) or `not_ok` (by `started_at`; `latest` is the newest start).
 * - `attempt_ms`: a target; the upper bound of a duration bucket in ms, or `inf`.
 */
export const stats5m = pgTable(
  "stats_5m",
  {
    bucket: timestamp("bucket", { withTimezone: true, mode: "date" }).notNull(),
    kind: text("kind").notNull(),
    subject: text("subject").notNull(),
    detail: text("detail").notNull().default(""),
    n: bigint("n", { mode: "number" }).notNull().default(0),
    latest: timestamp("latest", { withTimezone: true, mode: "date" }),
  },
  (t) => [primaryKey({ columns: [t.kind, t.bucket, t.subject, t.detail] })],
);

/**
 * Changes not yet folded into `stats_5m`: append-only, so writers never wait on each other's
 * row locks. Small by design (a few seconds of writes), read whole.
 */
export const statsDeltas = pgTable("stats_deltas", {
  bucket: timestamp("bucket", { withTimezone: true, mode: "date" }).notNull(),
  kind: text("kind").notNull(),
  subject: text("subject").notNull(),
  detail: text("detail").notNull().default(""),
  n: bigint("n", { mode: "number" }).notNull(),
  latest: timestamp("latest", { withTimezone: true, mode: "date" }),
});
