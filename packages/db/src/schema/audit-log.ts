import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Who changed what through the admin API, the dashboard or the CLI. Each row is written in the
 * transaction of the change it records, so the log holds a row exactly when the change
 * committed. Never a token: `actor` is a token's name.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    /** `aud_` + UUIDv7: increasing with time, the tie-breaker of the listing's keyset. */
    id: text("id").primaryKey(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** A token's name (API), `dashboard:<token name>`, or `cli`. */
    actor: text("actor").notNull(),
    /** `delivery.retry`, `deliveries.retry`, `event.replay`, `target.pause`, ... (AUDIT_ACTIONS). */
    action: text("action").notNull(),
    /** The delivery, event or target id, or a summary of a bulk change's filters. */
    subject: text("subject"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    ip: text("ip"),
  },
  (t) => [
    index("audit_log_at_idx").on(t.at.desc(), t.id.desc()),
    index("audit_log_actor_at_idx").on(t.actor, t.at.desc(), t.id.desc()),
    index("audit_log_action_at_idx").on(t.action, t.at.desc(), t.id.desc()),
  ],
);
