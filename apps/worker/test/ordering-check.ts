// What per-key ordering promises, checked against what a target actually received. Shared by the
// in-process test and the one with worker processes killed mid-stream.
import type pg from "pg";

/** One request as the target saw it, in arrival order. */
export interface Seen {
  readonly eventId: string;
  readonly ok: boolean;
}

export interface OrderReport {
  /** Problems found; empty when the promise held. */
  readonly violations: string[];
  /** Successful requests for an event that had already succeeded (a re-send after a crash). */
  readonly resentAfterSuccess: number;
  readonly requests: number;
  readonly failures: number;
}

/** Per key, the event ids of the target's deliveries in acceptance order (ordering_seq). */
export async function acceptanceOrder(pool: pg.Pool, targetId: string): Promise<Map<string, string[]>> {
  const rows = await pool.query<{ event_id: string; ordering_key: string | null }>(
    `select event_id, ordering_key from deliveries where target_id = $1 order by ordering_seq, id`,
    [targetId],
  );
  const byKey = new Map<string, string[]>();
  for (const row of rows.rows) {
    if (row.ordering_key === null) throw new Error(`delivery of ${row.event_id} has no ordering key`);
    byKey.set(row.ordering_key, [...(byKey.get(row.ordering_key) ?? []), row.event_id]);
  }
  return byKey;
}

/**
 * Per key: no request for an event before every earlier event of its key has succeeded, never
 * back to an earlier event once a later one was sent, and every event succeeded. A re-send of
 * the head after it succeeded (a worker killed between the target's answer and the commit) is
 * counted, not a violation: delivery is at least once.
 */
export function checkOrder(
  seen: readonly Seen[],
  order: ReadonlyMap<string, readonly string[]>,
): OrderReport {
  const place = new Map<string, { key: string; rank: number }>();
  for (const [key, ids] of order) for (const [rank, id] of ids.entries()) place.set(id, { key, rank });
  const violations: string[] = [];
  const succeeded = new Map<string, number>(); // key -> how many of its first events have succeeded
  const highest = new Map<string, number>(); // key -> highest rank requested so far
  const successes = new Map<string, number>();
  let resentAfterSuccess = 0;
  let failures = 0;
  for (const [i, request] of seen.entries()) {
    const at = place.get(request.eventId);
    if (!at) {
      violations.push(`request ${i}: event ${request.eventId} is not a delivery of this target`);
      continue;
    }
    const done = succeeded.get(at.key) ?? 0;
    if (at.rank > done)
      violations.push(`request ${i}: ${at.key}#${at.rank} sent while ${at.key}#${done} had not succeeded`);
    const top = highest.get(at.key) ?? -1;
    if (at.rank < top) violations.push(`request ${i}: ${at.key}#${at.rank} sent after ${at.key}#${top}`);
    highest.set(at.key, Math.max(top, at.rank));
    if (!request.ok) {
      failures++;
      continue;
    }
    const count = (successes.get(request.eventId) ?? 0) + 1;
    successes.set(request.eventId, count);
    if (count > 1) resentAfterSuccess++;
    if (at.rank === done) succeeded.set(at.key, done + 1);
  }
  for (const [key, ids] of order)
    if ((succeeded.get(key) ?? 0) !== ids.length)
      violations.push(`key ${key}: ${succeeded.get(key) ?? 0} of ${ids.length} events succeeded`);
  return { violations, resentAfterSuccess, requests: seen.length, failures };
}

/** A small seeded generator, so a failing run can be replayed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}
