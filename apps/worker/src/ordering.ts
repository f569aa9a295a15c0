// Per-key ordering: releasing held deliveries in their turn. A delivery on an ordered route is
// created held (no attempt, no job). It is released when two things are true, both checked again
// by the statement that releases it (releaseHeads), so no stale view and no race between
// workers can send a key out of order:
//
// 1. Its event is below the ingest floor: every event the gateway accepted before it has been
//    recorded, so no earlier delivery of its key can still appear (packages/queue's
//    ingest-floor.ts). Ingest jobs are recorded concurrently and out of order; without this, a
//    later event could be sent before an earlier one exists in Postgres.
// 2. No earlier delivery of its target and key is live (pending or retrying).
//
// Two paths release, and a slow sweep backs them up:
// - The floor moves (a tick, nudged when an ingest job completes): heads between the last floor
//   and the new one are released.
// - A head becomes final: closeAttempts names its successor, which is released at once. The
//   floor is read again first: a tick that passed the successor while its head was still live
//   raised the floor before it read Postgres, so this read sees that floor.
// - Every FULL_SWEEP_MS (and first thing at start), the head of every key, key by key: what a
//   process killed between a head's close and its successor's release left behind. It runs
//   beside the ticks, never holding them up.
//
// A released delivery is sent inline when its target has a free slot (inline-attempt.ts), and
// otherwise queued; from there on it is an ordinary delivery: retries, pause, rate limit and
// circuit apply, and it stays its key's head until it is final.
import { Batcher } from "@hookline/batch";
import type { Database, HeadCandidate, ReleaseRequest, ReleaseResult } from "@hookline/db";
import { heldHeads, heldHeadsByKey, releaseHeads } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import { advanceIngestFloor, type RedisConnection } from "@hookline/queue";
import type { InlineAttempts } from "./inline-attempt";
import { Underway } from "./underway";

/** How often every held head below the floor is looked at, whatever else happened. */
const FULL_SWEEP_MS = 5_000;
/** Heads read per query; a tick reads on until it has them all. */
const HEADS_PER_QUERY = 500;
/** Heads a full sweep releases at most (the next one takes the rest). */
const FULL_SWEEP_LIMIT = 5_000;
/**
 * Nudged ticks come at least this far apart: under load every ingest job's completion nudges,
 * and a tick per job would cost a Redis call and a query each.
 */
const MIN_TICK_GAP_MS = 10;

export interface OrderingDeps {
  readonly pool: Database["pool"];
  readonly redis: RedisConnection;
  /** The BullMQ prefix of ingest shard 0, the only one numbering events in acceptance order. */
  readonly prefix: string;
  readonly inline: InlineAttempts;
  readonly isConfigured: (targetId: string) => boolean;
  readonly logger: Logger;
  readonly now: () => number;
  /** How often the floor is read when nothing nudges. */
  readonly intervalMs: number;
  /**
   * Whether any route is ordered. Without one, only the slow sweep runs (for deliveries held
   * under an earlier config).
   */
  readonly ordered: boolean;
}

export interface Ordering {
  /** Held deliveries whose head just became final (from closeAttempts). */
  offer(candidates: readonly HeadCandidate[]): void;
  /** An ingest job completed: the floor may have moved. */
  nudge(): void;
  /** Reads the floor and releases what it passed (exported for tests). */
  tick(): Promise<void>;
  close(): Promise<void>;
}

export function createOrdering(deps: OrderingDeps): Ordering {
  const { inline, logger } = deps;
  let floor = 0n;
  let sweptTo = 0n;
  let lastFullSweep = Number.NEGATIVE_INFINITY;
  let closed = false;
  const dispatching = new Set<string>();
  const underway = new Underway();

  const refreshFloor = async (): Promise<bigint> => {
    const next = await advanceIngestFloor(deps.redis, deps.prefix);
    if (next > floor) floor = next;
    return floor;
  };

  // Releases of concurrent dispatches share a statement; each is checked against the floor
  // known when the statement is written.
  const releases = new Batcher<ReleaseRequest, ReleaseResult>({
    write: (items) => releaseHeads(deps.pool, items, floor),
    maxItems: 256,
    maxInFlight: 2,
    isolateFailures: true,
  });

  const dispatchOne = async (head: HeadCandidate): Promise<void> => {
    const r = deps.isConfigured(head.targetId) ? await inline.reserve(head.targetId) : null;
    let result: ReleaseResult;
    try {
      result = await releases.call({
        deliveryId: head.id,
        attemptId: r?.attemptId ?? null,
        leaseUntil: r?.leaseUntil ?? null,
      });
    } catch (error) {
      if (r) inline.giveBack(r);
      throw error;
    }
    if (result === null || result.kind === "queue") {
      if (r) inline.giveBack(r);
      // Released to a target that is no longer configured: the reconciler ends it.
      if (result?.kind === "queue" && deps.isConfigured(head.targetId))
        await inline.enqueue([{ id: head.id, targetId: head.targetId, runNumber: result.runNumber }]);
      return;
    }
    if (!r) throw new Error(`delivery ${head.id}: released with an attempt nobody reserved`);
    inline.start(
      r,
      { id: head.id, targetId: head.targetId, runNumber: result.runNumber },
      result.attempt,
      logger.child({ target: head.targetId, delivery: head.id }),
    );
  };

  /** Each head once at a time in this process; the release statement arbitrates between processes. */
  const dispatch = (heads: readonly HeadCandidate[]) => {
    for (const head of heads) {
      if (closed || dispatching.has(head.id)) continue;
      dispatching.add(head.id);
      underway.add(
        dispatchOne(head)
          .catch((error: unknown) =>
            // Still held: the next sweep finds it. Released but not queued: the reconciler does.
            logger.warn(
              { delivery: head.id, err: error },
              "ordered delivery not released or not queued; retried later",
            ),
          )
          .finally(() => dispatching.delete(head.id)),
      );
    }
  };

  // Key by key: the sweep's cost does not grow with the backlog held behind failing heads. It
  // sees every head below the floor, so the range below has nothing more to find.
  const fullSweep = async (below: bigint) => {
    dispatch(await heldHeadsByKey(deps.pool, below, FULL_SWEEP_LIMIT));
    if (below > sweptTo) sweptTo = below;
  };
  let sweeping: Promise<void> | null = null;

  const tick = async () => {
    const full = sweeping === null && deps.now() - lastFullSweep >= FULL_SWEEP_MS;
    if (!full && !deps.ordered) return;
    const below = await refreshFloor();
    if (full) {
      lastFullSweep = deps.now();
      const swept = fullSweep(below)
        .catch((error: unknown) => {
          lastFullSweep = Number.NEGATIVE_INFINITY; // the next tick sweeps again
          logger.warn({ err: error }, "ordering: full sweep failed; the next tick tries again");
        })
        .finally(() => {
          sweeping = null;
        });
      sweeping = swept;
      underway.add(swept);
      // The first sweep stands for the range scan from nothing. Later ones run beside the ticks:
      // the sweep reads every entry of the key index (delivered ones too, until a vacuum), and
      // the releases of the heads the floor just passed must not wait for it.
      if (sweptTo === 0n) {
        await swept;
        return;
      }
    }
    let from = sweptTo;
    while (from < below && !closed) {
      const heads = await heldHeads(deps.pool, { fromSeq: from, belowSeq: below, limit: HEADS_PER_QUERY });
      dispatch(heads);
      const last = heads[heads.length - 1];
      if (heads.length < HEADS_PER_QUERY || !last) break;
      from = last.seq + 1n;
    }
    sweptTo = below;
  };

  // One tick at a time, at most one per MIN_TICK_GAP_MS; a nudge during a tick asks for one more.
  let running: Promise<void> | null = null;
  let again = false;
  let waiting = false;
  let lastStart = Number.NEGATIVE_INFINITY;
  const run = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    const wait = lastStart + MIN_TICK_GAP_MS - performance.now();
    if (wait > 0) {
      if (!waiting) {
        waiting = true;
        setTimeout(() => {
          waiting = false;
          run();
        }, wait).unref();
      }
      return;
    }
    again = false;
    lastStart = performance.now();
    running = tick()
      .catch((error: unknown) =>
        logger.warn({ err: error }, "ordering: floor or heads not read; next tick tries again"),
      )
      .finally(() => {
        running = null;
        if (again) run();
      });
  };
  const timer = setInterval(run, deps.intervalMs);
  timer.unref();

  return {
    offer(candidates) {
      if (candidates.length === 0 || closed) return;
      underway.add(
        refreshFloor()
          .then(() => dispatch(candidates))
          .catch((error: unknown) =>
            logger.warn({ err: error }, "ordering: floor not read; the next tick releases these heads"),
          ),
      );
    },
    // Without an ordered route nothing is released on the way in: an ingest job's completion
    // (every one of them, on the hot path) has nothing to start.
    nudge: deps.ordered ? run : () => {},
    tick,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
      await underway.drain();
    },
  };
}
