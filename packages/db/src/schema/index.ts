export * from "./admin-sessions";
export * from "./audit-log";
export * from "./deliveries";
export * from "./events";
export * from "./ingest-failures";
export * from "./stats";
export * from "./target-states";
