export * from "./admin-sessions";
export * from "./deliveries";
export * from "./events";
export * from "./ingest-failures";
export * from "./target-states";
