export {
  CIRCUIT_STATES,
  type CircuitState,
  createMetrics,
  type HooklineMetrics,
  type IngestMetrics,
  type MetricsOptions,
  type TargetBacklogSample,
  type WatchedQueue,
  type WorkerMetrics,
} from "./metrics";
