import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
  readonly at: number;
}

export type SinkResponder = (
  req: ReceivedRequest,
  index: number,
) =>
  | {
      status: number;
      body?: string;
      headers?: Record<string, string>;
      /** Declare the whole body, send only this many bytes of it, then close the connection. */
      truncate?: number;
    }
  | "hang"
  | "destroy";

export interface Sink {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedRequest[];
  respond(responder: SinkResponder): void;
  /** Resolves once `count` requests have arrived (or rejects after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** A real HTTP target on loopback that records every request it gets. */
export async function startSink(
  responder: SinkResponder = () => ({ status: 200, body: "ok" }),
  options: { readonly port?: number } = {},
): Promise<Sink> {
  const received: ReceivedRequest[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const hanging: ServerResponse[] = [];
  let current = responder;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const entry: ReceivedRequest = {
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      const index = received.length;
      received.push(entry);
      for (const w of waiters.splice(0)) {
        if (received.length >= w.count) w.resolve();
        else waiters.push(w);
      }
      const answer = current(entry, index);
      if (answer === "hang") {
        hanging.push(res);
        return;
      }
      if (answer === "destroy") {
        req.socket.destroy();
        return;
      }
      if (answer.truncate !== undefined) {
        const bytes = Buffer.from(answer.body ?? "");
        res.writeHead(answer.status, {
          "content-type": "text/plain",
          ...(answer.headers ?? {}),
          "content-length": String(bytes.length),
        });
        res.write(bytes.subarray(0, answer.truncate), () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.status, { "content-type": "text/plain", ...(answer.headers ?? {}) });
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    respond: (r) => {
      current = r;
    },
    waitFor: (count, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        if (received.length >= count) return resolve(received);
        const timer = setTimeout(
          () => reject(new Error(`sink got ${received.length} of ${count} requests in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(received);
          },
        });
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
