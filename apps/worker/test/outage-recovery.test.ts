// After an outage, the jobs that failed during it run again as soon as another job succeeds, not
// each when its backoff (up to 30 s) ends: events accepted during the outage are recorded, and
// the deliveries it interrupted resumed, right after it. The outage: Postgres refuses inserts
// into one table with an error that is not the data's fault (57P03, cannot_connect_now, as while
// it starts up), through a trigger.
import { connectDatabase, type Database } from "@hookline/db";
import {
  bullPrefix,
  createProducerConnection,
  deliveryQueueName,
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
let deliveries: Queue;
/** Answered 500 once, the first time it is seen (a body's marker). */
const failOnce = new Set<string>();

beforeAll(async () => {
  iso = await isolate("outage-recovery");
  sink = await startSink((request) => {
    for (const marker of failOnce)
      if (request.body.includes(marker)) {
        failOnce.delete(marker);
        return { status: 500 };
      }
    return { status: 200 };
  });
  stack = await startStack(
    iso,
    loadTestConfig(`
sources:
  - id: klariqo
    verify: { scheme: klariqo, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }
targets:
  - { id: sink, url: "${sink.url}/in", retry: { schedule: [2s] } }
routes:
  - { source: klariqo, targets: [sink] }
`),
  );
  database = connectDatabase(iso.databaseUrl, { max: 2 });
  const connection = createProducerConnection(iso.redisUrl);
  ingest = new Queue(INGEST_QUEUE, { connection, prefix: bullPrefix(iso.queuePrefix) });
  deliveries = new Queue(deliveryQueueName("sink"), { connection, prefix: bullPrefix(iso.queuePrefix) });
  await database.pool.query(`
    create table refused (table_name text primary key);
    create function refuse() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from refused where table_name = tg_table_name) then
        raise exception 'refused for the test' using errcode = '57P03';
      end if;
      return new;
    end $$;
    create trigger refuse before insert on events for each row execute function refuse();
    create trigger refuse before insert on delivery_attempts for each row execute function refuse();`);
});

afterAll(() => closeAll(ingest, deliveries, stack, database, sink, iso));

const add = (data: IngestJob) =>
  ingest.add(INGEST_JOB_NAME, data, { ...INGEST_JOB_OPTIONS, jobId: data.eventId });

const refuse = (table: string) => database.pool.query("insert into refused values ($1)", [table]);
const stopRefusing = () => database.pool.query("delete from refused");

/**
 * Once the job has failed six times: when BullMQ will next run it, 6.4 s (± 20%) later. (A
 * delayed job's score is its due time shifted left 12 bits.)
 */
const sixthFailure = (queue: Queue, jobId: string) =>
  eventually(
    async () => {
      const j = await queue.getJob(jobId);
      if (!j || j.attemptsMade < 6 || !(await j.isDelayed())) return undefined;
      const score = await (await queue.client).zscore(queue.keys.delayed as string, jobId);
      return score === null ? undefined : Math.floor(Number(score) / 0x1000);
    },
    { timeoutMs: 30_000, what: `job ${jobId}'s sixth failure` },
  );

/** Waits for the probe, failing if it is not true before `dueAt` (with a little to spare). */
const before = async (dueAt: number, probe: () => Promise<boolean>, what: string) => {
  await eventually(probe, { what, timeoutMs: Math.max(1, dueAt - Date.now() - 200) });
  expect(Date.now()).toBeLessThan(dueAt);
};

describe("after an outage", () => {
  it("an ingest job in backoff runs again once another job succeeds, before its backoff ends", async () => {
    await refuse("events");
    const stuck = ingestJob();
    await add(stuck);
    const dueAt = await sixthFailure(ingest, stuck.eventId);
    expect(await recordedEvent(database, stuck.eventId)).toBe(false);

    await stopRefusing();
    const next = ingestJob();
    await add(next);
    await eventually(() => recordedEvent(database, next.eventId), { what: "the next event" });
    await before(dueAt, () => recordedEvent(database, stuck.eventId), "the event in backoff");
    await sink.waitFor(2, 10_000);
  });

  it("a delivery job in backoff runs again once another job succeeds, before its backoff ends", async () => {
    // The first attempt fails at the target; the retry, 2 s later, cannot open its attempt.
    const retried = ingestJob({ body: Buffer.from('{"type":"x.a","marker":"retried"}').toString("base64") });
    failOnce.add("retried");
    const seen = sink.received.length;
    await add(retried);
    await sink.waitFor(seen + 1, 10_000);
    await refuse("delivery_attempts");
    const delivery = await eventually(async () => {
      const r = await database.pool.query<{ id: string; status: string }>(
        "select id, status from deliveries where event_id = $1",
        [retried.eventId],
      );
      return r.rows[0]?.status === "retrying" ? r.rows[0].id : undefined;
    });
    const job = await eventually(async () => (await deliveries.getJobs(["delayed"]))[0]);
    const dueAt = await sixthFailure(deliveries, job.id as string);

    await stopRefusing();
    const next = ingestJob();
    await add(next);
    await eventually(() => recordedEvent(database, next.eventId), { what: "the next event" });
    const status = async () =>
      (
        await database.pool.query<{ status: string }>("select status from deliveries where id = $1", [
          delivery,
        ])
      ).rows[0]?.status === "succeeded";
    await before(dueAt, status, "the retried delivery");
  });
});
