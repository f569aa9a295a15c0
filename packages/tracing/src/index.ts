// OpenTelemetry tracing, off unless the standard OTEL_* variables turn it on: one trace per event,
// from the ingest request through the ingest job to every delivery attempt. The trace context
// crosses processes as a W3C `traceparent`: in the ingest job, on the event's row (for retries
// days later), and on every forwarded request. While it is off, `startSpan` returns null and
// callers do no tracing work at all on the hot path.
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  TracerProvider,
} from "@opentelemetry/sdk-trace";

export { type Context, type Span, SpanKind, SpanStatusCode };

export type TracingSettings =
  | { readonly exporter: "otlp"; readonly url: string; readonly serviceName: string }
  | { readonly exporter: "console"; readonly serviceName: string }
  /** Tests: spans go to this exporter as they end. */
  | { readonly exporter: SpanExporter; readonly serviceName: string };

/**
 * What the standard environment variables ask for (given, not read from process.env): null
 * (off) unless OTEL_TRACES_EXPORTER is otlp or console, or an OTLP endpoint is set with no
 * exporter named. OTEL_SDK_DISABLED=true turns it off whatever else is set.
 */
export function tracingFromEnv(env: Readonly<Record<string, string | undefined>>): TracingSettings | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return null;
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || "hookline";
  const named = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  const tracesUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim().replace(/\/+$/, "");
  const url = tracesUrl || (base ? `${base}/v1/traces` : "http://localhost:4318/v1/traces");
  if (named === "console") return { exporter: "console", serviceName };
  if (named === "otlp") return { exporter: "otlp", url, serviceName };
  if (named === undefined || named === "")
    return tracesUrl || base ? { exporter: "otlp", url, serviceName } : null;
  return null; // "none", or an exporter this build does not have
}

let provider: TracerProvider | null = null;
let tracer: Tracer | null = null;

export interface Tracing {
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

export function startTracing(settings: TracingSettings): Tracing {
  const exporter =
    settings.exporter === "otlp"
      ? new OTLPTraceExporter({ url: settings.url })
      : settings.exporter === "console"
        ? new ConsoleSpanExporter()
        : settings.exporter;
  const processor =
    typeof settings.exporter === "string"
      ? new BatchSpanProcessor({ exporter })
      : new SimpleSpanProcessor({ exporter });
  const started = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": settings.serviceName }),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(started);
  provider = started;
  tracer = started.getTracer("hookline");
  return {
    shutdown: async () => {
      tracer = null;
      provider = null;
      await started.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** A span whose parent is the given `traceparent` (a new trace without one). Null while tracing is off. */
export function startSpan(
  name: string,
  kind: SpanKind,
  parent: string | null | undefined,
  attributes: Readonly<Record<string, string | number | boolean>> = {},
): Span | null {
  if (tracer === null) return null;
  return tracer.startSpan(name, { kind, attributes: { ...attributes } }, contextOf(parent));
}

/** The context a `traceparent` carries (the root context for null or a malformed one). */
function contextOf(parent: string | null | undefined): Context {
  if (!parent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent: parent });
}

/** The W3C `traceparent` of a span, to carry its trace into another process or request. */
export function traceparentOf(span: Span): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent ?? null;
}

/** Ends a span: ok, or with an error status and the reason when `failure` is given. */
export function endSpan(span: Span, failure: string | null): void {
  if (failure !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
  span.end();
}

/** For tests: the provider's spans are exported before this resolves. */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush();
}

/** For tests: an exporter that keeps every span in memory. */
export { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
