export * from "./catalog";
export { configFingerprint, swapConfigFingerprint } from "./config-fingerprint";
export * from "./ingest-batch";
export { advanceIngestFloor, ingestSeq } from "./ingest-floor";
export { createProducerConnection, createWorkerConnection, type Redis } from "./redis";
