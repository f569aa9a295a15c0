// What the CLI and the tests start: the gateway server. Its app, verdicts and errors are its own.
export type { IngestObserver } from "./app";
export { type GatewayOptions, type RunningGateway, startGateway } from "./server";
