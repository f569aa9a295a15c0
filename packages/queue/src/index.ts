export { BytesQueue } from "./bytes-queue";
export * from "./catalog";
export { type Closable, closeQueue } from "./close-queue";
export { configFingerprint, swapConfigFingerprint } from "./config-fingerprint";
export * from "./ingest-batch";
export { advanceIngestFloor, ingestSeq } from "./ingest-floor";
export { raiseIngestShards } from "./ingest-shards";
export {
  type Cluster,
  connectRedis,
  createProducerConnection,
  createWorkerConnection,
  describeEndpoint,
  isCluster,
  queueKeysFor,
  type Redis,
  type RedisConnection,
  type RedisEndpoint,
  type RedisNode,
  readyOrLater,
  redisEndpointOf,
} from "./redis";
