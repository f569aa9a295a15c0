import { asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../client";
import { deliveries, deliveryAttempts } from "../schema/deliveries";
import { events } from "../schema/events";

export type EventRow = typeof events.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
export type AttemptRow = typeof deliveryAttempts.$inferSelect;

export interface EventDetail {
  readonly event: EventRow;
  readonly deliveries: ReadonlyArray<DeliveryRow & { readonly attempts: readonly AttemptRow[] }>;
}

/** One event with every delivery and every attempt, oldest first. */
export async function getEventDetail(db: Db, eventId: string): Promise<EventDetail | null> {
  const [event] = await db.select().from(events).where(eq(events.id, eventId));
  if (!event) return null;
  const rows = await db
    .select()
    .from(deliveries)
    .where(eq(deliveries.eventId, eventId))
    .orderBy(asc(deliveries.createdAt), asc(deliveries.id));
  const attempts = await attemptsOf(
    db,
    rows.map((r) => r.id),
  );
  return {
    event,
    deliveries: rows.map((d) => ({ ...d, attempts: attempts.filter((a) => a.deliveryId === d.id) })),
  };
}

/** Every attempt of these deliveries (of every run), oldest first. */
export async function attemptsOf(db: Db, deliveryIds: readonly string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db
    .select()
    .from(deliveryAttempts)
    .where(inArray(deliveryAttempts.deliveryId, [...deliveryIds]))
    .orderBy(asc(deliveryAttempts.attemptNumber));
}
