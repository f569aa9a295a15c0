// The delivery target of the end-to-end phases: answers 200 at once and notes, per
// `webhook-id`, when the forwarded event arrived. The bench asks for the log over IPC.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type SinkRequest =
  | { readonly type: "reset" }
  | { readonly type: "report" }
  | { readonly type: "count" };
export interface SinkReport {
  readonly type: "report";
  readonly ids: string[];
  /** Arrival times, ms since the epoch (sub-millisecond precision), matching `ids`. */
  readonly at: number[];
  readonly requests: number;
}

let ids: string[] = [];
let at: number[] = [];
let requests = 0;
const origin = performance.timeOrigin;

const server = createServer((req, res) => {
  const id = req.headers["webhook-id"];
  req.on("data", () => {});
  req.on("end", () => {
    requests++;
    if (typeof id === "string") {
      ids.push(id);
      at.push(origin + performance.now());
    }
    res.writeHead(200, { "content-type": "text/plain", "content-length": 2 });
    res.end("ok");
  });
});
server.keepAliveTimeout = 30_000;

process.on("message", (message: SinkRequest) => {
  if (message.type === "reset") {
    ids = [];
    at = [];
    requests = 0;
    process.send?.({ type: "reset" });
  } else if (message.type === "count") {
    process.send?.({ type: "count", requests });
  } else if (message.type === "report") {
    const report: SinkReport = { type: "report", ids, at, requests };
    process.send?.(report);
  }
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  process.disconnect?.();
});
