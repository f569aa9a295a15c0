// How a delivery reaches its target: an HTTP POST (forward.ts), a message published to a
// RabbitMQ exchange (amqp-transport.ts), or to a NATS JetStream subject (nats-transport.ts).
// Each keeps its own connections, per target, and reconnects by itself; every outcome is a
// value, never a throw, so retries, the circuit breaker and the attempt log treat all three
// alike. A broker that is down is an outage of its target, not of Hookline.
import type { TargetConfig } from "@hookline/config";
import { createAmqpTransport } from "./amqp-transport";
import { createTargetAgent, type ForwardResult, forward } from "./forward";
import { createNatsTransport } from "./nats-transport";

export interface SendRequest {
  /** Hookline's headers (webhook-id, -timestamp, -signature...), as HTTP headers or message headers. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly timeoutMs: number;
  readonly eventId: string;
  readonly sourceId: string;
  readonly eventType: string | null;
}

export interface Transport {
  send(request: SendRequest): Promise<ForwardResult>;
  close(): Promise<void>;
}

export function createTransport(target: TargetConfig): Transport {
  const { destination } = target;
  switch (destination.kind) {
    case "http": {
      const agent = createTargetAgent(target.concurrency, target.connectTimeoutMs, target.tls);
      return {
        send: (r) =>
          forward(agent, { url: target.url, headers: r.headers, body: r.body, timeoutMs: r.timeoutMs }),
        close: () => agent.close(),
      };
    }
    case "amqp":
      return createAmqpTransport(target.url, destination, target.connectTimeoutMs);
    case "nats":
      return createNatsTransport(target.url, destination, target.connectTimeoutMs);
    default: {
      const exhaustive: never = destination;
      return exhaustive;
    }
  }
}

/** Fills `{source}` and `{event_type}`; `clean` makes a value safe where it goes. */
export function fillTemplate(
  template: string,
  fields: { readonly sourceId: string; readonly eventType: string | null },
  clean: (value: string) => string = (v) => v,
): string {
  return template
    .replaceAll("{source}", clean(fields.sourceId))
    .replaceAll("{event_type}", clean(fields.eventType ?? "none"));
}

/** Time spent since `started` (performance.now()), in whole ms. */
export const since = (started: number) => Math.round(performance.now() - started);

/** The outcome of a send whose connection could not be opened. */
export function unreachable(what: "broker" | "server", error: unknown, started: number): ForwardResult {
  const message = error instanceof Error ? error.message : String(error);
  return brokerError(
    /timeout/i.test(message) ? "connect_timeout" : "connection_error",
    `${what} unreachable (${message})`,
    started,
  );
}

/** An outcome that is no HTTP answer: the broker did not take the message, or could not be reached. */
export function brokerError(
  code: "timeout" | "connect_timeout" | "connection_error" | "broker_refused",
  message: string,
  started: number,
): ForwardResult {
  return { kind: "error", code, message, durationMs: since(started) };
}
