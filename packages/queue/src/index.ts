export * from "./catalog";
export * from "./ingest-batch";
export { createProducerConnection, createWorkerConnection, type Redis } from "./redis";
