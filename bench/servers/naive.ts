// What the provider's documentation teaches: a web framework route that verifies the HMAC and
// calls `queue.add` once per request. Same libraries and versions as Hookline (Hono on
// @hono/node-server, BullMQ on ioredis), written the way a user would write it by hand.
import { createHmac, timingSafeEqual } from "node:crypto";
import { serve } from "@hono/node-server";
import { Queue } from "bullmq";
import { Hono } from "hono";
import { Redis } from "ioredis";

const secret = process.env.CLAUSUM_SECRET ?? "";
const TOLERANCE_SECONDS = 24 * 3600; // the bench signs once per run

const connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  maxRetriesPerRequest: null,
});
const queue = new Queue("webhooks", { connection, prefix: process.env.QUEUE_PREFIX ?? "bull" });

const app = new Hono();

app.post("/webhooks/clausum", async (c) => {
  const body = await c.req.text();
  const header = c.req.header("x-clausum-signature") ?? "";
  const parts = Object.fromEntries(header.split(",").map((kv) => kv.split("=") as [string, string]));
  const t = Number(parts.t);
  if (!parts.v1 || !Number.isFinite(t)) return c.json({ error: "bad signature" }, 401);
  if (Math.abs(Date.now() / 1000 - t) > TOLERANCE_SECONDS) return c.json({ error: "too old" }, 401);
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return c.json({ error: "bad signature" }, 401);
  }
  const job = await queue.add("clausum", {
    type: c.req.header("x-clausum-event") ?? null,
    receivedAt: Date.now(),
    body,
  });
  return c.json({ id: job.id }, 202);
});

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" },
  (info) => {
    process.send?.({ port: info.port });
  },
);
process.on("SIGTERM", () => {
  server.close();
  void queue.close().then(() => connection.disconnect());
});
