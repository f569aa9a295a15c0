export { createGatewayApp, type GatewayAppDeps, type IngestObserver, type Readiness } from "./app";
export { GATEWAY_ERROR_STATUS, type GatewayErrorCode } from "./errors";
export { type IngestVerdict, ingest, storedHeaders } from "./ingest";
export { type GatewayOptions, type RunningGateway, startGateway } from "./server";
