// RabbitMQ targets (amqplib): one connection and one confirm channel per target, opened on the
// first send and again after either closes. A message is persistent, carries Hookline's headers
// as message headers and the event id as its message id; it is delivered when the broker
// confirms it (publisher confirm), not when it is written to the socket.
import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import { brokerTransport } from "./broker-transport";
import type { ForwardResult } from "./forward";
import { brokerError, fillTemplate, since, type Transport } from "./transport";

interface Open {
  readonly connection: ChannelModel;
  readonly channel: ConfirmChannel;
  /**
   * Why the broker closed this channel (an unknown exchange, say): a publish's callback only
   * sees "closed". Kept per channel, so concurrent sends cannot clear each other's reason.
   */
  closedBecause: string | null;
}

export function createAmqpTransport(
  url: string,
  destination: { readonly exchange: string; readonly routingKey: string },
  connectTimeoutMs: number,
): Transport {
  let closing = false;
  return brokerTransport<Open>({
    peer: "broker",
    async connect(lost) {
      const connection = await amqp.connect(url, { timeout: connectTimeoutMs });
      let state: Open | null = null;
      const drop = (error?: Error) => {
        if (error && state) state.closedBecause = error.message;
        lost();
      };
      connection.on("error", drop);
      connection.on("close", () => drop());
      try {
        const channel = await connection.createConfirmChannel();
        channel.on("error", drop);
        channel.on("close", () => {
          drop();
          // The connection outlives a channel the broker closed: close it too, the next send
          // opens both again.
          connection.close().catch(() => {});
        });
        state = { connection, channel, closedBecause: null };
        return state;
      } catch (error) {
        await connection.close().catch(() => {});
        throw error;
      }
    },
    publish: (opened, r, started) => {
      const { channel } = opened;
      const routingKey = fillTemplate(destination.routingKey, r);
      return new Promise<ForwardResult>((resolve) => {
        let settled = false;
        const done = (result: ForwardResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(result);
        };
        // A confirm that comes after the limit still delivered the message: at least once.
        const timer = setTimeout(
          () => done(brokerError("timeout", `no publisher confirm after ${r.timeoutMs} ms`, started)),
          r.timeoutMs,
        );
        try {
          channel.publish(
            destination.exchange,
            routingKey,
            r.body,
            {
              persistent: true,
              messageId: r.eventId,
              contentType: r.headers["content-type"],
              timestamp: Math.floor(Date.now() / 1000),
              headers: r.headers,
            },
            (error) => {
              if (error)
                done(
                  brokerError(
                    "broker_refused",
                    `broker did not take the message (${opened.closedBecause ?? String(error)})`,
                    started,
                  ),
                );
              else
                done({
                  kind: "ack",
                  answer: `confirmed by the broker: exchange "${destination.exchange}", routing key "${routingKey}"`,
                  durationMs: since(started),
                });
            },
          );
        } catch (error) {
          done(
            brokerError(
              "connection_error",
              `publish failed (${error instanceof Error ? error.message : String(error)})`,
              started,
            ),
          );
        }
      });
    },
    async close(opened) {
      if (closing) return;
      closing = true;
      await opened.connection.close().catch(() => {});
    },
  });
}
