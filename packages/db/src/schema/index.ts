export * from "./deliveries";
export * from "./events";
