import type pg from "pg";
import { fanoutDeliveryId } from "../ids";
import type { DeliveryStatus } from "../schema/deliveries";

export interface IngestInput {
  readonly eventId: string;
  readonly sourceId: string;
  readonly eventType: string | null;
  readonly dedupeKey: string;
  readonly providerId: string | null;
  readonly receivedAt: Date;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly contentType: string | null;
  readonly dedupeWindowMs: number;
  /** Targets the routes select for this event, in config order. */
  readonly targetIds: readonly string[];
}

export interface DeliveryRef {
  readonly id: string;
  readonly targetId: string;
  readonly status: DeliveryStatus;
  readonly runNumber: number;
}

/**
 * What recording an event did. `created` and `rerun` carry the deliveries still to run; a
 * provider duplicate carries none: its original's deliveries already exist.
 */
export type IngestOutcome =
  | { readonly kind: "created"; readonly deliveries: readonly DeliveryRef[] }
  | { readonly kind: "rerun"; readonly deliveries: readonly DeliveryRef[] }
  | { readonly kind: "duplicate"; readonly originalEventId: string }
  | { readonly kind: "duplicate_rerun"; readonly originalEventId: string };

interface DeliveryRow {
  id: string;
  target_id: string;
  status: DeliveryStatus;
  run_number: number;
}

const toRef = (r: DeliveryRow): DeliveryRef => ({
  id: r.id,
  targetId: r.target_id,
  status: r.status,
  runNumber: r.run_number,
});

/**
 * Records one received event in a single transaction: our own re-run (same event id) is told
 * apart from a provider duplicate (new event id, same de-duplication key inside the window),
 * and the fan-out rows are created exactly once.
 */
export async function recordIngestedEvent(pool: pg.Pool, input: IngestInput): Promise<IngestOutcome> {
  const client = await pool.connect();
  let released = false;
  try {
    await client.query("begin");
    const seen = await client.query<{ kind: "event" | "duplicate"; original: string }>(
      `select 'event' as kind, id as original from events where id = $1
       union all
       select 'duplicate', original_event_id from event_duplicates where id = $1`,
      [input.eventId],
    );
    const previous = seen.rows[0];
    if (previous?.kind === "event") {
      const rows = await client.query<DeliveryRow>(
        "select id, target_id, status, run_number from deliveries where event_id = $1 order by created_at, id",
        [input.eventId],
      );
      await client.query("commit");
      return { kind: "rerun", deliveries: rows.rows.map(toRef) };
    }
    if (previous?.kind === "duplicate") {
      await client.query("commit");
      return { kind: "duplicate_rerun", originalEventId: previous.original };
    }

    const expiresAt = new Date(input.receivedAt.getTime() + input.dedupeWindowMs);
    // Claim the key: a new key, or one whose window has passed. Losing the claim means a
    // live owner exists, and the conflicting row stays locked until we commit.
    const claim = await client.query<{ event_id: string }>(
      `insert into dedupe_keys (source_id, dedupe_key, event_id, expires_at) values ($1, $2, $3, $4)
       on conflict (source_id, dedupe_key) do update
         set event_id = excluded.event_id, expires_at = excluded.expires_at
         where dedupe_keys.expires_at <= $5
       returning event_id`,
      [input.sourceId, input.dedupeKey, input.eventId, expiresAt, input.receivedAt],
    );
    if (claim.rowCount === 0) {
      const owner = await client.query<{ event_id: string }>(
        "select event_id from dedupe_keys where source_id = $1 and dedupe_key = $2",
        [input.sourceId, input.dedupeKey],
      );
      const originalEventId = owner.rows[0]?.event_id ?? "";
      await client.query(
        "insert into event_duplicates (id, original_event_id, source_id, received_at) values ($1, $2, $3, $4)",
        [input.eventId, originalEventId, input.sourceId, input.receivedAt],
      );
      await client.query(
        `update events set duplicate_count = duplicate_count + 1,
           last_duplicate_at = greatest(last_duplicate_at, $2)
         where id = $1`,
        [originalEventId, input.receivedAt],
      );
      await client.query("commit");
      return { kind: "duplicate", originalEventId };
    }

    await client.query(
      `insert into events (id, source_id, event_type, dedupe_key, provider_id, received_at, headers, body, content_type)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        input.eventId,
        input.sourceId,
        input.eventType,
        input.dedupeKey,
        input.providerId,
        input.receivedAt,
        JSON.stringify(input.headers),
        input.body,
        input.contentType,
      ],
    );
    let deliveries: DeliveryRef[] = [];
    if (input.targetIds.length > 0) {
      const ids = input.targetIds.map((t) => fanoutDeliveryId(input.eventId, t));
      const rows = await client.query<DeliveryRow>(
        `insert into deliveries (id, event_id, target_id, source_id, status, created_at, updated_at)
         select d.id, $1, d.target_id, $2, 'pending', now(), now()
         from unnest($3::text[], $4::text[]) as d(id, target_id)
         on conflict (id) do nothing
         returning id, target_id, status, run_number`,
        [input.eventId, input.sourceId, ids, input.targetIds],
      );
      deliveries = rows.rows.map(toRef);
    }
    await client.query("commit");
    return { kind: "created", deliveries };
  } catch (error) {
    await client.query("rollback").catch(() => {});
    client.release(true);
    released = true;
    throw error;
  } finally {
    if (!released) client.release();
  }
}
