// After an outage, an ingest job in backoff is run again as soon as another ingest job succeeds,
// not when its backoff (up to 30 s) ends: events accepted during the outage are recorded, and
// their first attempts sent, right after it.
import { connectDatabase, type Database } from "@hookline/db";
import {
  bullPrefix,
  createProducerConnection,
  INGEST_JOB_NAME,
  INGEST_JOB_OPTIONS,
  INGEST_QUEUE,
  type IngestJob,
} from "@hookline/queue";
import {
  closeAll,
  eventually,
  type Isolated,
  isolate,
  loadTestConfig,
  type Sink,
  type Stack,
  startSink,
  startStack,
} from "@hookline/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestJob, recordedEvent } from "./helpers";

let iso: Isolated;
let sink: Sink;
let stack: Stack;
let database: Database;
let ingest: Queue;

beforeAll(async () => {
  iso = await isolate("ingest-recovery");
  sink = await startSink();
  stack = await startStack(
    iso,
    loadTestConfig(`
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }
targets:
  - { id: sink, url: "${sink.url}/in" }
routes:
  - { source: klariqo, targets: [sink] }
`),
  );
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  ingest = new Queue(INGEST_QUEUE, {
    connection: createProducerConnection(iso.redisUrl),
    prefix: bullPrefix(iso.queuePrefix),
  });
});

afterAll(() => closeAll(ingest, stack, database, sink, iso));

const job = () => ingestJob();

const add = (data: IngestJob) =>
  ingest.add(INGEST_JOB_NAME, data, { ...INGEST_JOB_OPTIONS, jobId: data.eventId });

const eventExists = (id: string) => recordedEvent(database, id);

describe("an ingest job in backoff after an outage", () => {
  it("runs again once another ingest job succeeds, before its backoff ends", async () => {
    // The outage: Postgres refuses new events with an error that is not the event's fault
    // (57P03, cannot_connect_now), as it does while it starts up.
    await database.pool.query(`
      create table refuse_events (since timestamptz not null default now());
      create function refuse_events() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from refuse_events) then
          raise exception 'refused for the test' using errcode = '57P03';
        end if;
        return new;
      end $$;
      create trigger refuse_events before insert on events for each row execute function refuse_events();
      insert into refuse_events default values;`);
    const stuck = job();
    await add(stuck);
    // Failed six times, its next try is 6.4 s (± 20%) away.
    const dueAt = await eventually(
      async () => {
        const j = await ingest.getJob(stuck.eventId);
        if (!j || j.attemptsMade < 6 || !(await j.isDelayed())) return undefined;
        const score = await (await ingest.client).zscore(`${ingest.keys.delayed}`, stuck.eventId);
        // BullMQ scores a delayed job by its due time, shifted left 12 bits.
        return score === null ? undefined : Math.floor(Number(score) / 0x1000);
      },
      { timeoutMs: 30_000, what: "the job's sixth failure" },
    );
    expect(await eventExists(stuck.eventId)).toBe(false);

    // Postgres is back; the next event is recorded, and the one in backoff is promoted.
    await database.pool.query("delete from refuse_events");
    const next = job();
    await add(next);
    await eventually(() => eventExists(next.eventId), { what: "the next event" });
    await eventually(() => eventExists(stuck.eventId), {
      what: "the event in backoff",
      timeoutMs: Math.max(1, dueAt - Date.now() - 200),
    });
    expect(Date.now()).toBeLessThan(dueAt);
    await sink.waitFor(2, 10_000);
  });
});
