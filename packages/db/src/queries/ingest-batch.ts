import type pg from "pg";
import { fanoutDeliveryId } from "../ids";
import type { DeliveryStatus } from "../schema/deliveries";
import type { DeliveryRef, IngestInput, IngestOutcome } from "./ingest";

interface SeenRow {
  kind: "event" | "duplicate";
  id: string;
  original: string;
}

interface DeliveryRow {
  id: string;
  event_id: string;
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

const keyOf = (input: IngestInput) => `${input.sourceId}\u0000${input.dedupeKey}`;

/**
 * Records several received events in one transaction and a fixed number of statements,
 * whatever the batch size: the same outcomes, event by event, as `recordIngestedEvent` called
 * for each in order. Within the batch the first event with a de-duplication key claims it and
 * later ones are its duplicates; keys are claimed in a fixed order so concurrent batches
 * cannot deadlock on each other.
 */
export async function recordIngestedEvents(
  pool: pg.Pool,
  inputs: readonly IngestInput[],
): Promise<IngestOutcome[]> {
  if (inputs.length === 0) return [];
  const client = await pool.connect();
  let released = false;
  try {
    await client.query("begin");
    const outcomes = await recordInTransaction(client, inputs);
    await client.query("commit");
    return outcomes;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    client.release(true);
    released = true;
    throw error;
  } finally {
    if (!released) client.release();
  }
}

async function recordInTransaction(
  client: pg.PoolClient,
  inputs: readonly IngestInput[],
): Promise<IngestOutcome[]> {
  const outcomes: (IngestOutcome | undefined)[] = new Array(inputs.length);
  const seen = await client.query<SeenRow>({
    name: "hookline_ingest_seen",
    text: `select 'event' as kind, id, id as original from events where id = any($1::text[])
     union all
     select 'duplicate', id, original_event_id from event_duplicates where id = any($1::text[])`,
    values: [inputs.map((i) => i.eventId)],
  });
  const seenById = new Map(seen.rows.map((r) => [r.id, r]));

  // Our own re-runs (the event or its duplicate receipt is already stored), and the rest.
  const reruns: number[] = [];
  const fresh: number[] = [];
  const batchIds = new Set<string>();
  inputs.forEach((input, i) => {
    const previous = seenById.get(input.eventId);
    if (previous?.kind === "event" || batchIds.has(input.eventId)) reruns.push(i);
    else if (previous?.kind === "duplicate")
      outcomes[i] = { kind: "duplicate_rerun", originalEventId: previous.original };
    else fresh.push(i);
    batchIds.add(input.eventId);
  });

  // The first event with each key claims it (a new key, or one whose window has passed);
  // the others in the batch are duplicates of whoever owns the key afterwards.
  const claimers = new Map<string, number>();
  const followers: number[] = [];
  for (const i of fresh) {
    const key = keyOf(inputs[i] as IngestInput);
    if (claimers.has(key)) followers.push(i);
    else claimers.set(key, i);
  }
  const claimOrder = [...claimers.values()].sort((a, b) => {
    const x = inputs[a] as IngestInput;
    const y = inputs[b] as IngestInput;
    return x.sourceId < y.sourceId
      ? -1
      : x.sourceId > y.sourceId
        ? 1
        : x.dedupeKey < y.dedupeKey
          ? -1
          : x.dedupeKey > y.dedupeKey
            ? 1
            : 0;
  });
  const winners = new Set<string>();
  if (claimOrder.length > 0) {
    const rows = claimOrder.map((i) => inputs[i] as IngestInput);
    const claimed = await client.query<{ event_id: string }>({
      name: "hookline_ingest_claim",
      text: `with input as (
         select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
           as t(source_id, dedupe_key, event_id, expires_at, received_at)
       )
       insert into dedupe_keys (source_id, dedupe_key, event_id, expires_at)
       select source_id, dedupe_key, event_id, expires_at from input
       on conflict (source_id, dedupe_key) do update
         set event_id = excluded.event_id, expires_at = excluded.expires_at
         where dedupe_keys.expires_at <= (
           select i.received_at from input i
           where i.source_id = excluded.source_id and i.dedupe_key = excluded.dedupe_key)
       returning event_id`,
      values: [
        rows.map((r) => r.sourceId),
        rows.map((r) => r.dedupeKey),
        rows.map((r) => r.eventId),
        rows.map((r) => new Date(r.receivedAt.getTime() + r.dedupeWindowMs).toISOString()),
        rows.map((r) => r.receivedAt.toISOString()),
      ],
    });
    for (const r of claimed.rows) winners.add(r.event_id);
  }

  const created = fresh.filter((i) => winners.has((inputs[i] as IngestInput).eventId));
  if (created.length > 0) {
    const rows = created.map((i) => inputs[i] as IngestInput);
    await client.query({
      name: "hookline_ingest_events",
      text: `insert into events (id, source_id, event_type, dedupe_key, provider_id, received_at, headers, body, content_type)
       select id, source_id, event_type, dedupe_key, provider_id, received_at, headers::jsonb, body, content_type
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                   $8::bytea[], $9::text[])
         as t(id, source_id, event_type, dedupe_key, provider_id, received_at, headers, body, content_type)`,
      values: [
        rows.map((r) => r.eventId),
        rows.map((r) => r.sourceId),
        rows.map((r) => r.eventType),
        rows.map((r) => r.dedupeKey),
        rows.map((r) => r.providerId),
        rows.map((r) => r.receivedAt.toISOString()),
        rows.map((r) => JSON.stringify(r.headers)),
        rows.map((r) => r.body),
        rows.map((r) => r.contentType),
      ],
    });
  }

  // Provider duplicates: claimers that lost, and followers. Their owner's row is locked by
  // the claim above (or is an event of this batch) until we commit.
  const duplicates = [...fresh.filter((i) => !winners.has((inputs[i] as IngestInput).eventId))].sort(
    (a, b) => a - b,
  );
  if (duplicates.length > 0) {
    const rows = duplicates.map((i) => inputs[i] as IngestInput);
    const owners = await client.query<{ source_id: string; dedupe_key: string; event_id: string }>({
      name: "hookline_ingest_owners",
      text: `select k.source_id, k.dedupe_key, k.event_id from dedupe_keys k
       join unnest($1::text[], $2::text[]) as t(source_id, dedupe_key)
         on k.source_id = t.source_id and k.dedupe_key = t.dedupe_key`,
      values: [rows.map((r) => r.sourceId), rows.map((r) => r.dedupeKey)],
    });
    const ownerOf = new Map(owners.rows.map((o) => [`${o.source_id}\u0000${o.dedupe_key}`, o.event_id]));
    const originals = rows.map((r) => ownerOf.get(keyOf(r)) ?? "");
    await client.query({
      name: "hookline_ingest_duplicates",
      text: `with receipts as (
         insert into event_duplicates (id, original_event_id, source_id, received_at)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
         returning original_event_id, received_at
       )
       update events e set duplicate_count = e.duplicate_count + d.n,
         last_duplicate_at = greatest(e.last_duplicate_at, d.latest)
       from (select original_event_id, count(*)::int as n, max(received_at) as latest
             from receipts group by original_event_id) d
       where e.id = d.original_event_id`,
      values: [
        rows.map((r) => r.eventId),
        originals,
        rows.map((r) => r.sourceId),
        rows.map((r) => r.receivedAt.toISOString()),
      ],
    });
    duplicates.forEach((i, n) => {
      outcomes[i] = { kind: "duplicate", originalEventId: originals[n] as string };
    });
  }

  // Fan-out rows for the new events, in route order per event.
  const fanout = created.flatMap((i) => {
    const input = inputs[i] as IngestInput;
    return input.targetIds.map((targetId) => ({
      input,
      targetId,
      id: fanoutDeliveryId(input.eventId, targetId),
    }));
  });
  const madeByEvent = new Map<string, DeliveryRow[]>();
  if (fanout.length > 0) {
    const made = await client.query<DeliveryRow>({
      name: "hookline_ingest_deliveries",
      text: `insert into deliveries (id, event_id, target_id, source_id, status, created_at, updated_at)
       select id, event_id, target_id, source_id, 'pending', now(), now()
       from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as t(id, event_id, target_id, source_id)
       on conflict (id) do nothing
       returning id, event_id, target_id, status, run_number`,
      values: [
        fanout.map((f) => f.id),
        fanout.map((f) => f.input.eventId),
        fanout.map((f) => f.targetId),
        fanout.map((f) => f.input.sourceId),
      ],
    });
    for (const row of made.rows)
      madeByEvent.set(row.event_id, [...(madeByEvent.get(row.event_id) ?? []), row]);
  }
  for (const i of created) {
    const input = inputs[i] as IngestInput;
    const rows = madeByEvent.get(input.eventId) ?? [];
    const order = new Map(input.targetIds.map((t, n) => [t, n]));
    rows.sort((a, b) => (order.get(a.target_id) ?? 0) - (order.get(b.target_id) ?? 0));
    outcomes[i] = { kind: "created", deliveries: rows.map(toRef) };
  }

  if (reruns.length > 0) {
    const rows = await client.query<DeliveryRow>({
      name: "hookline_ingest_reruns",
      text: `select id, event_id, target_id, status, run_number from deliveries
       where event_id = any($1::text[]) order by created_at, id`,
      values: [reruns.map((i) => (inputs[i] as IngestInput).eventId)],
    });
    const byEvent = new Map<string, DeliveryRef[]>();
    for (const row of rows.rows)
      byEvent.set(row.event_id, [...(byEvent.get(row.event_id) ?? []), toRef(row)]);
    for (const i of reruns) {
      const id = (inputs[i] as IngestInput).eventId;
      // An id twice in one batch: the first copy created it; the second is a re-run of it.
      outcomes[i] = { kind: "rerun", deliveries: byEvent.get(id) ?? outcomeDeliveries(outcomes, inputs, id) };
    }
  }
  return outcomes.map((o, i) => {
    if (!o) throw new Error(`no outcome for ${(inputs[i] as IngestInput).eventId}`);
    return o;
  });
}

function outcomeDeliveries(
  outcomes: readonly (IngestOutcome | undefined)[],
  inputs: readonly IngestInput[],
  eventId: string,
): readonly DeliveryRef[] {
  const first = inputs.findIndex((i) => i.eventId === eventId);
  const outcome = outcomes[first];
  return outcome && (outcome.kind === "created" || outcome.kind === "rerun") ? outcome.deliveries : [];
}
