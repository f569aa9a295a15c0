import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { bytea } from "./bytea";
import { events } from "./events";

export const DELIVERY_STATUSES = ["pending", "retrying", "succeeded", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One row per (event, target) fan-out, and one more per replay. */
export const deliveries = pgTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    targetId: text("target_id").notNull(),
    /** Copied from the event so ops can filter deliveries by source without a join. */
    sourceId: text("source_id").notNull(),
    status: text("status").$type<DeliveryStatus>().notNull().default("pending"),
    attemptCount: integer("attempt_count").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    /** Bumped by a manual retry so the new run gets a fresh queue job id. */
    runNumber: integer("run_number").notNull().default(1),
    /** attempt_count when the current run began: a run may make 1 + schedule length attempts. */
    runBaseAttempt: integer("run_base_attempt").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    succeededAt: timestamp("succeeded_at", { withTimezone: true, mode: "date" }),
    /** The event's key on an ordered route (routes[].ordering_key); null: not ordered. */
    orderingKey: text("ordering_key"),
    /**
     * Acceptance order of an ordered delivery's event: the gateway's ingest job number (BullMQ's
     * counter, taken as the job is stored) * 65536 + the event's place in that job.
     */
    orderingSeq: bigint("ordering_seq", { mode: "bigint" }),
    /** An ordered delivery waiting for its turn: no job, no attempt, until its key's earlier ones are final. */
    held: boolean("held").notNull().default(false),
    /** What is sent when it is not the event's body: a route's transform result (JSON). */
    sentBody: bytea("sent_body"),
  },
  (t) => [
    check("deliveries_status_check", sql`${t.status} in ('pending', 'retrying', 'succeeded', 'failed')`),
    index("deliveries_event_idx").on(t.eventId),
    index("deliveries_status_updated_idx").on(t.status, t.updatedAt.desc(), t.id.desc()),
    index("deliveries_target_status_updated_idx").on(t.targetId, t.status, t.updatedAt.desc()),
    index("deliveries_source_status_updated_idx").on(t.sourceId, t.status, t.updatedAt.desc()),
    // The admin API's unfiltered listing and `--since` windows: most recently changed first.
    index("deliveries_updated_idx").on(t.updatedAt.desc(), t.id.desc()),
    // A key's live deliveries in acceptance order: its head, and whether anything precedes one.
    index("deliveries_ordering_idx")
      .on(t.targetId, t.orderingKey, t.orderingSeq)
      .where(sql`${t.orderingKey} is not null and ${t.status} in ('pending', 'retrying')`),
    // Held deliveries in acceptance order: which may be released as the ingest floor rises.
    index("deliveries_held_idx").on(t.orderingSeq).where(sql`${t.held}`),
  ],
);

/** Every try, appended; never updated except to record the outcome of the try itself. */
export const deliveryAttempts = pgTable(
  "delivery_attempts",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => deliveries.id, { onDelete: "cascade" }),
    attemptNumber: integer("attempt_number").notNull(),
    /**
     * The delivery's target, copied onto the attempt so the overview's statistics triggers need no
     * look-up per attempt (migration 0011). Null on attempts written before that migration.
     */
    targetId: text("target_id"),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    durationMs: integer("duration_ms"),
    statusCode: integer("status_code"),
    /** First 4 KiB of the target's answer. */
    responseBody: text("response_body"),
    error: text("error"),
  },
  (t) => [
    index("delivery_attempts_delivery_idx").on(t.deliveryId, t.attemptNumber),
    index("delivery_attempts_started_idx").on(t.startedAt),
  ],
);
