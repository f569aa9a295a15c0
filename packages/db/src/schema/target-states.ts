import { boolean, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * What an operator decided about a target, kept apart from the config so it survives restarts
 * and deploys: a paused target's deliveries are created and wait until it is resumed. A target
 * with no row has never been paused.
 */
export const targetStates = pgTable("target_states", {
  targetId: text("target_id").primaryKey(),
  paused: boolean("paused").notNull().default(false),
  pausedAt: timestamp("paused_at", { withTimezone: true, mode: "date" }),
  pausedReason: text("paused_reason"),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});
