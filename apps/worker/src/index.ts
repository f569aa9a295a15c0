export { CircuitBreaker, type CircuitState } from "./circuit";
export { type ForwardResult, forward, parseRetryAfter } from "./forward";
export { outboundHeaders } from "./outbound";
export { type RetentionOptions, type RunningRetention, startRetention } from "./retention";
export { decide, isRetryableStatus } from "./retry-policy";
export { type RunningWorker, startWorker, type WorkerObserver, type WorkerRunOptions } from "./worker";
