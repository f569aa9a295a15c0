// How many ingest shards an installation has ever used. Lowering `ingest.shards` must not strand
// the jobs still queued in the shards given up: every process records the most shards it was
// configured with, and workers consume that many (the extra ones cost an idle blocking
// connection each), whatever their own config says.
import type { QueueKeys } from "./catalog";
import type { RedisConnection } from "./redis";

const SHARDS_KEY = "ingest-shards";

// KEYS: the count. ARGV: this process's shards. The larger of the two is kept and returned.
const RAISE = `
local seen = tonumber(redis.call('GET', KEYS[1]) or '1')
local mine = tonumber(ARGV[1])
if mine > seen then
  redis.call('SET', KEYS[1], mine)
  return mine
end
return seen`;

/** Records that this process uses `shards` ingest shards; returns the most any process has. */
export async function raiseIngestShards(
  redis: RedisConnection,
  keys: QueueKeys,
  shards: number,
): Promise<number> {
  const seen = await redis.eval(RAISE, 1, keys.own(SHARDS_KEY), shards);
  if (typeof seen !== "number") throw new Error(`ingest shards: unexpected reply ${String(seen)}`);
  return Math.max(seen, shards);
}
