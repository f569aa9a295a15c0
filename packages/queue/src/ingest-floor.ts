// Acceptance order, for per-key ordering. BullMQ numbers every job it stores from one counter
// (`INCR <queue>:id`, in the same Lua call that stores the job), so an ingest job's number says
// when Redis took it, and the gateway answers 202 only after that. An event's place in
// acceptance order is its job's number * 65536 + its place in the job.
//
// The floor is the lowest job number that is not yet finished: every event of every job below it
// has been recorded in Postgres (a job completes only after its events are recorded) or set
// aside. Walking it forward is cheap: job numbers are dense, finished jobs are removed (or carry
// `finishedOn`), and each call resumes from where the last one stopped.
import { createHash } from "node:crypto";
import { INGEST_QUEUE } from "./catalog";
import type { RedisConnection } from "./redis";

/** More events than this never share an ingest job (INGEST_BATCH_MAX_EVENTS is far below). */
const EVENTS_PER_JOB = 65_536n;
/** At most this many job numbers are walked per call (a first call on an old queue resumes next time). */
const MAX_STEPS = 100_000;

/** An event's place in acceptance order, or null when its job was not numbered by BullMQ. */
export function ingestSeq(jobId: string | undefined, indexInJob: number): bigint | null {
  if (jobId === undefined || !/^[1-9][0-9]{0,15}$/.test(jobId)) return null;
  return BigInt(jobId) * EVENTS_PER_JOB + BigInt(indexInJob);
}

const FLOOR_SCRIPT = `
local floor = tonumber(redis.call('GET', KEYS[1]) or '1')
local top = tonumber(redis.call('GET', KEYS[2]) or '0')
-- The counter went back (the queue was obliterated): numbering starts over, so does the floor.
if floor > top + 1 then floor = 1 end
local steps = 0
local limit = tonumber(ARGV[2])
while floor <= top and steps < limit do
  local job = ARGV[1] .. floor
  if redis.call('EXISTS', job) == 1 and redis.call('HEXISTS', job, 'finishedOn') == 0 then break end
  floor = floor + 1
  steps = steps + 1
end
redis.call('SET', KEYS[1], floor)
return floor
`;
const FLOOR_SHA = createHash("sha1").update(FLOOR_SCRIPT).digest("hex");

/**
 * Moves the ingest floor forward and returns it as a place in acceptance order: every event
 * below it is recorded. `prefix` is the ingest queue's BullMQ prefix (QueueKeys.prefix). Only
 * shard 0 (the queue `ingest`) numbers events in acceptance order: with more shards there is no
 * single order, and the config refuses ordered routes.
 */
export async function advanceIngestFloor(redis: RedisConnection, prefix: string): Promise<bigint> {
  const queueKey = `${prefix}:${INGEST_QUEUE}`;
  const args = [2, `${queueKey}:ordering-floor`, `${queueKey}:id`, `${queueKey}:`, MAX_STEPS] as const;
  let floor: unknown;
  try {
    floor = await redis.evalsha(FLOOR_SHA, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    floor = await redis.eval(FLOOR_SCRIPT, ...args);
  }
  if (typeof floor !== "number") throw new Error(`ingest floor: unexpected reply ${String(floor)}`);
  return BigInt(floor) * EVENTS_PER_JOB;
}
