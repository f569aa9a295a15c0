import type { Logger } from "@hookline/logger";
import { startTracing, type Tracing, tracingFromEnv } from "@hookline/tracing";

/**
 * OpenTelemetry, when the standard OTEL_* variables ask for it (read here, at the edge):
 * OTEL_TRACES_EXPORTER=otlp|console, or OTEL_EXPORTER_OTLP_ENDPOINT / _TRACES_ENDPOINT. Off
 * otherwise, at no cost. Started before anything that makes spans.
 */
export function startTracingFromEnv(logger: Logger): Tracing | null {
  const settings = tracingFromEnv(process.env);
  if (settings === null) return null;
  const tracing = startTracing(settings);
  // The endpoint is not logged: it may carry credentials in its query or user part.
  logger.info(
    {
      exporter: typeof settings.exporter === "string" ? settings.exporter : "custom",
      service_name: settings.serviceName,
    },
    "tracing on (OpenTelemetry)",
  );
  return tracing;
}
