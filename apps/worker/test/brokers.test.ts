// Targets that are brokers, against the real RabbitMQ (127.0.0.1:5672) and NATS JetStream
// (127.0.0.1:4222) of every machine of this project: a message per delivery, Hookline's headers
// as message headers, delivered on the broker's confirm or the stream's ack and logged like an
// HTTP attempt (no status code; the broker's answer kept). A broker that refuses or cannot be
// reached is an outage of its target: retried, logged, and no other target waits.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:net";
import { connectDatabase, type Database, setTargetPaused } from "@hookline/db";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  sendSigned,
  startSink,
  startStack,
} from "@hookline/testkit";
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";
import { connect, type JetStreamManager, type NatsConnection } from "nats";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAUSUM_SECRET, SIGNING_SECRET } from "./helpers";
import { acceptanceOrder, checkOrder } from "./ordering-check";

const RABBIT = "amqp://guest:guest@127.0.0.1:5672";
const NATS = "nats://127.0.0.1:4222";
const tag = randomBytes(4).toString("hex");
const exchange = `hookline-test-${tag}`;
const stream = `HOOKLINE_TEST_${tag.toUpperCase()}`;
const subjectRoot = `hooktest${tag}`;

let iso: Isolated;
let http: Sink;
let stack: Stack;
let database: Database;
let rabbit: ChannelModel;
let channel: Channel;
let queue: string;
const received: ConsumeMessage[] = [];
const ordered: ConsumeMessage[] = [];
// A broker that takes the connection and never says a word.
let silent: Server;
let nats: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  iso = await isolate("brokers");
  http = await startSink();
  rabbit = await amqp.connect(RABBIT);
  channel = await rabbit.createChannel();
  await channel.assertExchange(exchange, "topic", { durable: false, autoDelete: true });
  ({ queue } = await channel.assertQueue("", { exclusive: true }));
  await channel.bindQueue(queue, exchange, "clausum.#");
  await channel.consume(queue, (m) => m && received.push(m), { noAck: true });
  const second = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(second.queue, exchange, "ordered.#");
  await channel.consume(second.queue, (m) => m && ordered.push(m), { noAck: true });
  silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const silentPort = (silent.address() as AddressInfo).port;
  nats = await connect({ servers: NATS });
  jsm = await nats.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [`${subjectRoot}.>`] });

  const target = (id: string, lines: string) => `  - id: ${id}
${lines}
    timeout: 2s
    retry: { schedule: [200ms, 200ms, 200ms, 200ms, 200ms] }
    circuit_breaker: { failure_threshold: 1000 }
    signing_secret: "${SIGNING_SECRET}"`;
  const config = loadTestConfig(`
sources:
  - id: clausum
    verify: { scheme: clausum, secrets: ["${CLAUSUM_SECRET}"] }
targets:
${target("rabbit", `    type: amqp\n    url: ${RABBIT}\n    exchange: ${exchange}\n    routing_key: "{source}.{event_type}"`)}
${target("nostore", `    type: amqp\n    url: ${RABBIT}\n    exchange: missing-${tag}\n    routing_key: "{source}"`)}
${target("rabbitdown", `    type: amqp\n    url: amqp://guest:guest@127.0.0.1:1\n    exchange: ""\n    routing_key: x`)}
${target("jetstream", `    type: nats\n    url: ${NATS}\n    subject: "${subjectRoot}.{source}.{event_type}"`)}
${target("nostream", `    type: nats\n    url: ${NATS}\n    subject: "nostream${tag}.{source}"`)}
${target("web", `    url: ${http.url}/web`)}
${target("rabbitordered", `    type: amqp\n    url: ${RABBIT}\n    exchange: ${exchange}\n    routing_key: "ordered.{event_type}"`)}
${target("rabbithang", `    type: amqp\n    url: amqp://guest:guest@127.0.0.1:${silentPort}\n    connect_timeout: 300ms\n    exchange: ""\n    routing_key: x`)}
routes:
  - { source: clausum, events: ["case.*"], targets: [rabbit, nostore, rabbitdown, jetstream, nostream, web] }
  - { source: clausum, events: ["ord.*"], targets: [rabbitordered], ordering_key: /data/key }
  - { source: clausum, events: ["hang.*"], targets: [rabbithang, web] }
`);
  stack = await startStack(iso, config);
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});

afterAll(async () => {
  silent?.close();
  await jsm?.streams.delete(stream).catch(() => {});
  await nats?.close();
  await rabbit?.close().catch(() => {});
  await closeAll(stack, database, http, iso);
});

interface Row {
  target_id: string;
  status: string;
  attempt_count: number;
  last_error: string | null;
  status_code: number | null;
  response_body: string | null;
}

const rowsOf = async (eventId: string) =>
  new Map(
    (
      await database.pool.query<Row>(
        `select d.target_id, d.status, d.attempt_count, d.last_error, a.status_code, a.response_body
         from deliveries d
         left join lateral (select * from delivery_attempts a where a.delivery_id = d.id
                            order by a.attempt_number desc limit 1) a on true
         where d.event_id = $1`,
        [eventId],
      )
    ).rows.map((r) => [r.target_id, r]),
  );

const verifies = (body: Buffer, headers: Record<string, string>) =>
  new Webhook(SIGNING_SECRET).verify(body.toString("utf8"), headers);

describe("broker targets", () => {
  it("publish to RabbitMQ and NATS JetStream, delivered on the confirm and the ack", async () => {
    const body = JSON.stringify({
      event: "case.created",
      timestamp: "2026-11-28T12:00:00.000Z",
      data: { id: 1 },
    });
    const res = await sendSigned(stack, "clausum", body);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    // RabbitMQ: persistent, routed by the template, Hookline's headers on the message.
    await eventually(() => received.length >= 1, { what: "a message on the bound queue" });
    const m = received[0] as ConsumeMessage;
    expect(m.fields.routingKey).toBe("clausum.case.created");
    expect(m.content.toString("utf8")).toBe(body);
    expect(m.properties.messageId).toBe(id);
    expect(m.properties.deliveryMode).toBe(2);
    const amqpHeaders = m.properties.headers as Record<string, string>;
    expect(amqpHeaders["webhook-id"]).toBe(id);
    expect(amqpHeaders["hookline-event-type"]).toBe("case.created");
    expect(() => verifies(m.content, amqpHeaders)).not.toThrow();

    // JetStream: stored once, with the event id as Nats-Msg-Id.
    const stored = await eventually(async () =>
      jsm.streams
        .getMessage(stream, { last_by_subj: `${subjectRoot}.clausum.case.created` })
        .catch(() => undefined),
    );
    expect(Buffer.from(stored.data).toString("utf8")).toBe(body);
    expect(stored.header.get("Nats-Msg-Id")).toBe(id);
    expect(stored.header.get("webhook-id")).toBe(id);
    const natsHeaders = Object.fromEntries(
      ["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [h, stored.header.get(h)]),
    );
    expect(() => verifies(Buffer.from(stored.data), natsHeaders)).not.toThrow();

    const rows = await eventually(async () => {
      const r = await rowsOf(id);
      return r.get("rabbit")?.status === "succeeded" && r.get("jetstream")?.status === "succeeded"
        ? r
        : undefined;
    });
    expect(rows.get("rabbit")).toMatchObject({ attempt_count: 1, status_code: null, last_error: null });
    expect(rows.get("rabbit")?.response_body).toMatch(/^confirmed by the broker: exchange "hookline-test-/);
    expect(rows.get("jetstream")).toMatchObject({ attempt_count: 1, status_code: null });
    expect(rows.get("jetstream")?.response_body).toMatch(
      new RegExp(`^stored by stream "${stream}" as message \\d+`),
    );
    // The HTTP target got it too: the brokers held nothing back.
    expect(rows.get("web")?.status).toBe("succeeded");
  });

  it("retry and log a broker that refuses or cannot be reached, as an outage of that target only", async () => {
    const body = JSON.stringify({
      event: "case.closed",
      timestamp: "2026-11-28T12:00:00.000Z",
      data: { id: 2 },
    });
    const res = await sendSigned(stack, "clausum", body);
    const { id } = (await res.json()) as { id: string };
    const rows = await eventually(
      async () => {
        const r = await rowsOf(id);
        const failing = ["nostore", "rabbitdown", "nostream"].map((t) => r.get(t));
        return failing.every((d) => d && d.attempt_count >= 2) && r.get("web")?.status === "succeeded"
          ? r
          : undefined;
      },
      { timeoutMs: 30_000, what: "two attempts at each failing broker target" },
    );
    for (const t of ["nostore", "rabbitdown", "nostream"]) {
      expect(["retrying", "pending"]).toContain(rows.get(t)?.status);
      expect(rows.get(t)?.status_code).toBeNull();
    }
    expect(rows.get("nostore")?.last_error).toMatch(
      /broker did not take the message \(.*NOT_FOUND.*missing-/,
    );
    expect(rows.get("rabbitdown")?.last_error).toMatch(/^broker unreachable \(/);
    expect(rows.get("nostream")?.last_error).toMatch(
      /no stream takes subject "nostream.*\.clausum" \(503 no responders\)/,
    );
    expect(rows.get("rabbit")?.status).toBe("succeeded");
    expect(rows.get("jetstream")?.status).toBe("succeeded");
  });

  it("keep each key in acceptance order on a broker target too", async () => {
    const keys = ["a", "b", "c"];
    const pending = keys.flatMap((key) => Array.from({ length: 8 }, (_, n) => ({ key, n })));
    const lane = async () => {
      for (let item = pending.shift(); item; item = pending.shift()) {
        const body = JSON.stringify({
          event: "ord.updated",
          timestamp: "2026-11-28T12:00:00.000Z",
          data: { key: item.key, n: item.n },
        });
        expect((await sendSigned(stack, "clausum", body)).status).toBe(202);
      }
    };
    await Promise.all(Array.from({ length: 6 }, lane));
    await eventually(() => ordered.length >= 24, { what: "24 ordered messages" });
    const order = await acceptanceOrder(database.pool, "rabbitordered");
    const report = checkOrder(
      ordered.map((m) => ({ eventId: String(m.properties.messageId), ok: true })),
      order,
    );
    expect(report.violations).toEqual([]);
    expect(ordered).toHaveLength(24);
  });

  it("treat a broker that never answers as a timed-out attempt, retried, holding nothing back", async () => {
    const body = JSON.stringify({
      event: "hang.now",
      timestamp: "2026-11-28T12:00:00.000Z",
      data: { id: 3 },
    });
    const { id } = (await (await sendSigned(stack, "clausum", body)).json()) as { id: string };
    const rows = await eventually(
      async () => {
        const r = await rowsOf(id);
        return (r.get("rabbithang")?.attempt_count ?? 0) >= 2 && r.get("web")?.status === "succeeded"
          ? r
          : undefined;
      },
      { timeoutMs: 30_000, what: "two attempts at the silent broker" },
    );
    expect(rows.get("rabbithang")?.last_error).toMatch(/^broker unreachable \(.*/);
    expect(["retrying", "pending"]).toContain(rows.get("rabbithang")?.status);
  });

  it("hold a paused broker target's messages, and publish them on resume", async () => {
    await setTargetPaused(database.pool, "rabbitordered", { paused: true, reason: "test" });
    // Every worker applies a pause within a second (target-control.ts polls every 500 ms).
    await new Promise((r) => setTimeout(r, 1_200));
    const before = ordered.length;
    const body = JSON.stringify({
      event: "ord.paused",
      timestamp: "2026-11-28T12:00:00.000Z",
      data: { key: "p", n: 0 },
    });
    const { id } = (await (await sendSigned(stack, "clausum", body)).json()) as { id: string };
    await eventually(async () => (await rowsOf(id)).get("rabbitordered")?.status === "pending");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(ordered.length).toBe(before);
    expect((await rowsOf(id)).get("rabbitordered")?.attempt_count).toBe(0);
    await setTargetPaused(database.pool, "rabbitordered", { paused: false });
    await eventually(() => ordered.some((m) => m.properties.messageId === id), {
      what: "the held message after resume",
    });
  });
});
