// Recording what the gateway accepted. One implementation, for a batch of events; a single event
// is a batch of one. The common case (every event new, each with its own key) is one statement:
// one round trip and one commit for the whole batch, however large. Re-runs and provider
// duplicates take a statement more each, only when the batch has some.
import type pg from "pg";
import { fanoutDeliveryId } from "../ids";
import type { DeliveryStatus } from "../schema/deliveries";

/** A first attempt to open as the delivery is created: the worker sends it without a queue job. */
export interface FirstAttemptPlan {
  readonly attemptId: string;
  /** Until when the delivery counts as in flight (its `next_attempt_at`); see first-attempt.ts. */
  readonly leaseUntil: Date;
}

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
  /** Per target (same order as `targetIds`), a first attempt to open with the delivery, or null. */
  readonly firstAttempts?: readonly (FirstAttemptPlan | null)[];
  /**
   * Per target (same order as `targetIds`), the event's key on an ordered route, or null. A
   * delivery with a key is created held: it waits for its turn (see apps/worker/src/ordering.ts).
   */
  readonly orderingKeys?: readonly (string | null)[];
  /** The event's place in acceptance order; required when any ordering key is set. */
  readonly orderingSeq?: bigint | null;
  /**
   * Per target (same order as `targetIds`), what its route's transform made of the body: the
   * bytes to send, or why it failed (the delivery is then created failed, with no attempt).
   */
  readonly deliveryBodies?: readonly (DeliveryBody | null)[];
  /** W3C trace context of the ingest request, kept on the event for its attempts (tracing on). */
  readonly traceparent?: string | null;
}

/** A transform's outcome for one delivery. */
export type DeliveryBody = { readonly sent: Buffer } | { readonly failed: string };

/** `last_error` of a delivery whose transform failed: `transform_error: <why>`. */
export const TRANSFORM_ERROR = "transform_error";

export interface DeliveryRef {
  readonly id: string;
  readonly targetId: string;
  readonly status: DeliveryStatus;
  readonly runNumber: number;
  /** Set when the delivery was created with its first attempt already opened (attempt 1). */
  readonly firstAttemptId?: string;
  /** Ordered and waiting for its turn: it gets no job until it is released. */
  readonly held: boolean;
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

interface RecordRow {
  /** `seen`: the id was already stored (ref: 'event' or the original's id); `claimed`; `delivery`. */
  kind: "seen_event" | "seen_duplicate" | "claimed" | "delivery";
  event_id: string;
  ref: string | null;
  target_id: string | null;
  status: DeliveryStatus | null;
  run_number: number | null;
  opened: boolean | null;
  held: boolean | null;
}

interface StoredDeliveryRow {
  id: string;
  event_id: string;
  target_id: string;
  status: DeliveryStatus;
  run_number: number;
  held: boolean;
}

const keyOf = (input: IngestInput) => `${input.sourceId}\u0000${input.dedupeKey}`;

/**
 * Records received events: for each, our own re-run (same event id, already stored) is told
 * apart from a provider duplicate (new event id, a key another event holds inside its window),
 * and a new event's fan-out rows are created exactly once, with the first attempts it asks
 * for opened. Within a batch the first event with a key claims it and later ones are its
 * duplicates; keys are claimed in a fixed order, so concurrent batches cannot deadlock.
 */
export async function recordIngestedEvents(
  pool: pg.Pool,
  inputs: readonly IngestInput[],
): Promise<IngestOutcome[]> {
  if (inputs.length === 0) return [];
  const fanout = inputs.flatMap((input) =>
    input.targetIds.map((targetId, n) => {
      const bodyOf = input.deliveryBodies?.[n] ?? null;
      // A failed transform ends the delivery as it is created: final, so it holds no key back.
      const failed = bodyOf !== null && "failed" in bodyOf ? `${TRANSFORM_ERROR}: ${bodyOf.failed}` : null;
      const orderingKey = failed === null ? (input.orderingKeys?.[n] ?? null) : null;
      if (orderingKey !== null && (input.orderingSeq ?? null) === null)
        throw new Error(`event ${input.eventId}: an ordering key needs an ordering seq`);
      return {
        id: fanoutDeliveryId(input.eventId, targetId),
        eventId: input.eventId,
        targetId,
        // A held delivery is never sent on the way in: its turn comes after every earlier one.
        first: orderingKey === null && failed === null ? (input.firstAttempts?.[n] ?? null) : null,
        orderingKey,
        orderingSeq: orderingKey === null ? null : (input.orderingSeq ?? null),
        sentBody: bodyOf !== null && "sent" in bodyOf ? bodyOf.sent : null,
        failed,
      };
    }),
  );
  // One statement: which ids are already stored, the key claims, the events that won theirs,
  // their deliveries and first attempts. Its sub-statements share one snapshot, so everything
  // that depends on a claim reads the claim's RETURNING, never the tables.
  const result = await pool.query<RecordRow>({
    name: "hookline_ingest_record",
    text: `with input as (
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                            $7::text[], $8::bytea[], $9::text[], $10::timestamptz[], $20::text[])
         with ordinality as t(id, source_id, event_type, dedupe_key, provider_id, received_at, headers, body,
                              content_type, expires_at, traceparent, ord)
     ), seen as (
       select 'seen_event' as kind, id, null::text as original from events where id = any($1::text[])
       union all
       select 'seen_duplicate', id, original_event_id from event_duplicates where id = any($1::text[])
     ), candidates as (
       select distinct on (source_id, dedupe_key) * from input i
       where not exists (select 1 from seen s where s.id = i.id)
       order by source_id, dedupe_key, ord
     ), claimed as (
       insert into dedupe_keys (source_id, dedupe_key, event_id, expires_at)
       select source_id, dedupe_key, id, expires_at from candidates order by source_id, dedupe_key
       on conflict (source_id, dedupe_key) do update
         set event_id = excluded.event_id, expires_at = excluded.expires_at
         where dedupe_keys.expires_at <= (
           select c.received_at from candidates c
           where c.source_id = excluded.source_id and c.dedupe_key = excluded.dedupe_key)
       returning event_id
     ), created as (
       insert into events (id, source_id, event_type, dedupe_key, provider_id, received_at, headers, body, content_type,
                           traceparent)
       select i.id, i.source_id, i.event_type, i.dedupe_key, i.provider_id, i.received_at, i.headers::jsonb, i.body,
              i.content_type, i.traceparent
       from candidates i join claimed c on c.event_id = i.id
       returning id, source_id
     ), fanout as (
       select * from unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::timestamptz[], $16::text[],
                            $17::bigint[], $18::bytea[], $19::text[])
         as f(id, event_id, target_id, attempt_id, lease_until, ordering_key, ordering_seq, sent_body, failed)
     ), made as (
       insert into deliveries (id, event_id, target_id, source_id, status, attempt_count, next_attempt_at,
                               created_at, updated_at, ordering_key, ordering_seq, held, sent_body, last_error)
       select f.id, f.event_id, f.target_id, e.source_id, case when f.failed is null then 'pending' else 'failed' end,
              case when f.attempt_id is null then 0 else 1 end, f.lease_until, now(), now(),
              f.ordering_key, f.ordering_seq, f.ordering_key is not null, f.sent_body, f.failed
       from fanout f join created e on e.id = f.event_id
       on conflict (id) do nothing
       returning id, event_id, target_id, status, run_number, attempt_count = 1 as opened, held
     ), opened as (
       insert into delivery_attempts (id, delivery_id, target_id, attempt_number, started_at)
       select f.attempt_id, m.id, m.target_id, 1, now() from made m join fanout f on f.id = m.id where m.opened
     )
     select kind, id as event_id, original as ref, null as target_id, null as status, null::int as run_number,
            null::boolean as opened, null::boolean as held
     from seen
     union all
     select 'claimed', event_id, null, null, null, null, null, null from claimed
     union all
     select 'delivery', event_id, id, target_id, status, run_number, opened, held from made`,
    values: [
      inputs.map((i) => i.eventId),
      inputs.map((i) => i.sourceId),
      inputs.map((i) => i.eventType),
      inputs.map((i) => i.dedupeKey),
      inputs.map((i) => i.providerId),
      inputs.map((i) => i.receivedAt.toISOString()),
      inputs.map((i) => JSON.stringify(i.headers)),
      inputs.map((i) => i.body),
      inputs.map((i) => i.contentType),
      inputs.map((i) => new Date(i.receivedAt.getTime() + i.dedupeWindowMs).toISOString()),
      fanout.map((f) => f.id),
      fanout.map((f) => f.eventId),
      fanout.map((f) => f.targetId),
      fanout.map((f) => f.first?.attemptId ?? null),
      fanout.map((f) => f.first?.leaseUntil.toISOString() ?? null),
      fanout.map((f) => f.orderingKey),
      fanout.map((f) => (f.orderingSeq === null ? null : f.orderingSeq.toString())),
      fanout.map((f) => f.sentBody),
      fanout.map((f) => f.failed),
      inputs.map((i) => i.traceparent ?? null),
    ],
  });

  const seen = new Map<string, RecordRow>();
  const claimed = new Set<string>();
  const made = new Map<string, DeliveryRef[]>();
  const attemptOf = new Map(fanout.map((f) => [f.id, f.first?.attemptId]));
  for (const row of result.rows) {
    if (row.kind === "seen_event" || row.kind === "seen_duplicate") seen.set(row.event_id, row);
    else if (row.kind === "claimed") claimed.add(row.event_id);
    else {
      const id = row.ref as string;
      const attemptId = row.opened ? attemptOf.get(id) : undefined;
      const ref: DeliveryRef = {
        id,
        targetId: row.target_id as string,
        status: row.status as DeliveryStatus,
        runNumber: row.run_number as number,
        held: row.held === true,
        ...(attemptId ? { firstAttemptId: attemptId } : {}),
      };
      made.set(row.event_id, [...(made.get(row.event_id) ?? []), ref]);
    }
  }

  const outcomes: (IngestOutcome | undefined)[] = new Array(inputs.length);
  const reruns: number[] = [];
  const duplicates: number[] = [];
  const done = new Set<string>();
  inputs.forEach((input, i) => {
    const previous = seen.get(input.eventId);
    if (previous?.kind === "seen_event" || done.has(input.eventId)) {
      // Stored before, or an id twice in one batch: the first copy created it.
      reruns.push(i);
    } else if (previous) {
      outcomes[i] = { kind: "duplicate_rerun", originalEventId: previous.ref as string };
    } else if (claimed.has(input.eventId)) {
      const order = new Map(input.targetIds.map((t, n) => [t, n]));
      const deliveries = [...(made.get(input.eventId) ?? [])].sort(
        (a, b) => (order.get(a.targetId) ?? 0) - (order.get(b.targetId) ?? 0),
      );
      outcomes[i] = { kind: "created", deliveries };
    } else {
      duplicates.push(i);
    }
    done.add(input.eventId);
  });

  if (duplicates.length > 0) await recordDuplicates(pool, inputs, duplicates, outcomes, reruns);
  if (reruns.length > 0) {
    const rows = await pool.query<StoredDeliveryRow>({
      name: "hookline_ingest_reruns",
      text: `select id, event_id, target_id, status, run_number, held from deliveries
       where event_id = any($1::text[]) order by created_at, id`,
      values: [reruns.map((i) => (inputs[i] as IngestInput).eventId)],
    });
    const byEvent = new Map<string, DeliveryRef[]>();
    for (const row of rows.rows)
      byEvent.set(row.event_id, [
        ...(byEvent.get(row.event_id) ?? []),
        {
          id: row.id,
          targetId: row.target_id,
          status: row.status,
          runNumber: row.run_number,
          held: row.held,
        },
      ]);
    for (const i of reruns)
      outcomes[i] = { kind: "rerun", deliveries: byEvent.get((inputs[i] as IngestInput).eventId) ?? [] };
  }
  return outcomes.map((o, i) => {
    if (!o) throw new Error(`no outcome for ${(inputs[i] as IngestInput).eventId}`);
    return o;
  });
}

/**
 * Provider duplicates: events whose key another event holds (one stored earlier, or one of the
 * same batch). Each gets a receipt and counts on its original. An event that lost its key to
 * itself (the same job run twice at once by two processes) is a re-run, not its own duplicate.
 */
async function recordDuplicates(
  pool: pg.Pool,
  inputs: readonly IngestInput[],
  indexes: readonly number[],
  outcomes: (IngestOutcome | undefined)[],
  reruns: number[],
): Promise<void> {
  const rows = indexes.map((i) => inputs[i] as IngestInput);
  const owners = await pool.query<{ source_id: string; dedupe_key: string; event_id: string }>({
    name: "hookline_ingest_owners",
    text: `select k.source_id, k.dedupe_key, k.event_id from dedupe_keys k
     join unnest($1::text[], $2::text[]) as t(source_id, dedupe_key)
       on k.source_id = t.source_id and k.dedupe_key = t.dedupe_key`,
    values: [rows.map((r) => r.sourceId), rows.map((r) => r.dedupeKey)],
  });
  const ownerOf = new Map(owners.rows.map((o) => [`${o.source_id}\u0000${o.dedupe_key}`, o.event_id]));
  const receipts: { index: number; input: IngestInput; original: string }[] = [];
  for (const [n, index] of indexes.entries()) {
    const input = rows[n] as IngestInput;
    const original = ownerOf.get(keyOf(input)) ?? "";
    if (original === input.eventId) reruns.push(index);
    else receipts.push({ index, input, original });
  }
  if (receipts.length === 0) return;
  await pool.query({
    name: "hookline_ingest_duplicates",
    text: `with receipts as (
       insert into event_duplicates (id, original_event_id, source_id, received_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
       on conflict (id) do nothing
       returning original_event_id, received_at
     )
     update events e set duplicate_count = e.duplicate_count + d.n,
       last_duplicate_at = greatest(e.last_duplicate_at, d.latest)
     from (select original_event_id, count(*)::int as n, max(received_at) as latest
           from receipts group by original_event_id) d
     where e.id = d.original_event_id`,
    values: [
      receipts.map((r) => r.input.eventId),
      receipts.map((r) => r.original),
      receipts.map((r) => r.input.sourceId),
      receipts.map((r) => r.input.receivedAt.toISOString()),
    ],
  });
  for (const r of receipts) outcomes[r.index] = { kind: "duplicate", originalEventId: r.original };
}

/** `recordIngestedEvents` for one event. */
export async function recordIngestedEvent(pool: pg.Pool, input: IngestInput): Promise<IngestOutcome> {
  const [outcome] = await recordIngestedEvents(pool, [input]);
  if (!outcome) throw new Error(`no outcome for ${input.eventId}`);
  return outcome;
}
