export {
  CIRCUIT_STATES,
  type CircuitState,
  createMetrics,
  type HooklineMetrics,
  type IngestMetrics,
  type MetricsOptions,
  QUEUE_STATES,
  type TargetBacklogSample,
  UNKNOWN_SOURCE_LABEL,
  type WatchedQueue,
  type WorkerMetrics,
} from "./metrics";
