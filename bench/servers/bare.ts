// The ceiling: node:http reading the body and answering 202, nothing else.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const ANSWER = '{"id":"evt_00000000000000000000000000000000"}';

const server = createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    res.writeHead(202, { "content-type": "application/json", "content-length": ANSWER.length });
    res.end(ANSWER);
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
