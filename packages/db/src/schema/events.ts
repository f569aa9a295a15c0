import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { bytea } from "./bytea";

/** One row per event a provider sent, after de-duplication. */
export const events = pgTable(
  "events",
  {
    id: text("id").primaryKey(),
    sourceId: text("source_id").notNull(),
    eventType: text("event_type"),
    dedupeKey: text("dedupe_key").notNull(),
    /** The provider's own id (webhook-id, X-GitHub-Delivery, evt_...), for look-ups by reference. */
    providerId: text("provider_id"),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    headers: jsonb("headers").$type<Record<string, string>>().notNull(),
    body: bytea("body").notNull(),
    contentType: text("content_type"),
    /** W3C trace context of the ingest request (tracing on), so every attempt joins its trace. */
    traceparent: text("traceparent"),
    duplicateCount: integer("duplicate_count").notNull().default(0),
    lastDuplicateAt: timestamp("last_duplicate_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("events_received_at_idx").on(t.receivedAt.desc(), t.id.desc()),
    index("events_source_received_idx").on(t.sourceId, t.receivedAt.desc(), t.id.desc()),
    index("events_type_received_idx").on(t.eventType, t.receivedAt.desc()),
    index("events_provider_id_idx").on(t.providerId).where(sql`${t.providerId} is not null`),
  ],
);

/**
 * The de-duplication window: who owns a (source, key) until when. Kept apart from `events`
 * so that retention can delete old events while de-duplication still holds for its window,
 * and so that claiming a key is one atomic upsert.
 */
export const dedupeKeys = pgTable(
  "dedupe_keys",
  {
    sourceId: text("source_id").notNull(),
    dedupeKey: text("dedupe_key").notNull(),
    eventId: text("event_id").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.sourceId, t.dedupeKey] }),
    index("dedupe_keys_expires_idx").on(t.expiresAt),
  ],
);

/**
 * Provider duplicates: each received copy that was folded into an earlier event. The row is
 * also the worker's receipt, so a re-run of the same job never counts a duplicate twice.
 */
export const eventDuplicates = pgTable(
  "event_duplicates",
  {
    id: text("id").primaryKey(),
    originalEventId: text("original_event_id").notNull(),
    sourceId: text("source_id").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    index("event_duplicates_original_idx").on(t.originalEventId),
    index("event_duplicates_received_idx").on(t.receivedAt),
  ],
);
