// NATS JetStream targets (the nats package): one connection per target, opened on the first
// send, reconnecting by itself after that. A message carries Hookline's headers as NATS headers
// and `Nats-Msg-Id` = the event id, so the stream de-duplicates a re-send (a retry after a lost
// ack); it is delivered when the stream acknowledges it.
import { connect, type JetStreamClient, type NatsConnection, headers as natsHeaders } from "nats";
import { brokerTransport } from "./broker-transport";
import { brokerError, fillTemplate, since, type Transport } from "./transport";

/** A subject token may not hold whitespace or the wildcards `*` and `>`. */
const subjectSafe = (value: string) => value.replace(/[\s*>]/g, "_");

export function createNatsTransport(
  url: string,
  destination: { readonly subject: string },
  connectTimeoutMs: number,
): Transport {
  return brokerTransport<{ nc: NatsConnection; js: JetStreamClient }>({
    peer: "server",
    // The client reconnects by itself: the connection is never lost to the transport.
    connect: () =>
      connect({
        servers: url,
        timeout: connectTimeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
      }).then((nc) => ({ nc, js: nc.jetstream() })),
    async publish({ js }, r, started) {
      const subject = fillTemplate(destination.subject, r, subjectSafe);
      const h = natsHeaders();
      for (const [name, value] of Object.entries(r.headers)) h.set(name, value);
      try {
        const ack = await js.publish(subject, r.body, { msgID: r.eventId, headers: h, timeout: r.timeoutMs });
        return {
          kind: "ack",
          answer: `stored by stream "${ack.stream}" as message ${ack.seq}${ack.duplicate ? " (a duplicate of one already stored)" : ""}`,
          durationMs: since(started),
        };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const message = error instanceof Error ? error.message : String(error);
        if (code === "TIMEOUT" || /timeout/i.test(message))
          return brokerError("timeout", `no stream ack after ${r.timeoutMs} ms`, started);
        if (code === "503")
          return brokerError(
            "broker_refused",
            `no stream takes subject "${subject}" (503 no responders)`,
            started,
          );
        return brokerError("broker_refused", `the stream did not take the message (${message})`, started);
      }
    },
    async close({ nc }) {
      await nc.close().catch(() => {});
    },
  });
}
