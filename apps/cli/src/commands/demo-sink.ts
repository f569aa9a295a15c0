import { createServer } from "node:http";
import type { Logger } from "@hookline/logger";
import type { Running } from "./run";

/** `pnpm dev`'s stand-in target: prints every forwarded request and answers 200. */
export async function startDemoSink(port: number, logger: Logger): Promise<Running> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      logger.info(
        {
          path: req.url,
          webhookId: req.headers["webhook-id"],
          source: req.headers["hookline-source"],
          eventType: req.headers["hookline-event-type"],
          attempt: req.headers["hookline-attempt"],
          signed: Boolean(req.headers["webhook-signature"]),
          body: body.length > 500 ? `${body.slice(0, 500)}…` : body,
        },
        `demo sink received ${req.method} ${req.url}`,
      );
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  logger.info({ url: `http://127.0.0.1:${port}` }, "demo sink listening");
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}
