// What the RabbitMQ and NATS transports share: one connection per target, opened on the first
// send and shared by the sends after it. An open that fails is not kept, nor is a connection the
// client reports lost: the next send opens another. A send that cannot connect is an outcome
// (connection_error or connect_timeout), not a throw.
import type { ForwardResult } from "./forward";
import { type SendRequest, type Transport, unreachable } from "./transport";

export interface BrokerClient<C> {
  /** Who could not be reached, in the outcome's message: "broker unreachable (…)". */
  readonly peer: "broker" | "server";
  /** Opens a connection; `lost` forgets it (the broker closed it), so the next send opens another. */
  connect(lost: () => void): Promise<C>;
  /** Sends one message on the open connection; `started` is when the send began (performance.now()). */
  publish(connection: C, request: SendRequest, started: number): Promise<ForwardResult>;
  close(connection: C): Promise<void>;
}

export function brokerTransport<C>(client: BrokerClient<C>): Transport {
  let current: Promise<C> | null = null;
  const lost = () => {
    current = null;
  };
  const connection = (): Promise<C> => {
    current ??= client.connect(lost).catch((error: unknown) => {
      current = null;
      throw error;
    });
    return current;
  };

  return {
    async send(request) {
      const started = performance.now();
      let opened: C;
      try {
        opened = await connection();
      } catch (error) {
        return unreachable(client.peer, error, started);
      }
      return client.publish(opened, request, started);
    },
    async close() {
      const opened = await current?.catch(() => null);
      if (opened) await client.close(opened);
    },
  };
}
