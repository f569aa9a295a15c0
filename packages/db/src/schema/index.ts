export * from "./deliveries";
export * from "./events";
export * from "./admin-sessions";
export * from "./ingest-failures";
