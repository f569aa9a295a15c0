// Drain: N distinct events are queued first (the consumer not running), then the consumer is
// started and the clock runs from the moment the queue is released until every delivery is
// `succeeded` with its attempt logged. The same for Hookline and for the hand-written pipeline
// (bench/servers/naive.ts + naive-worker.ts), against the same sink, in the same run.
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { runPacedLoad } from "./paced-load";
import { EventFactory } from "./payload";
import { type CpuGroups, cpuMeter, waitForQuiet } from "./proc";

export interface DrainContender {
  readonly name: string;
  /** Starts what accepts the events (the consumer must not run yet); returns its origin. */
  startIngress(): Promise<{ origin: string; stop(): Promise<void> }>;
  /** The BullMQ queue the ingress fills: held paused until the consumer is up. */
  readonly queue: { readonly name: string; readonly prefix: string };
  startConsumer(): Promise<{ stop(): Promise<void> }>;
  /** Deliveries `succeeded` so far (cheap: polled while the drain runs). */
  readonly doneSql: string;
  /** Deliveries `succeeded` with an attempt row that says so (checked once at the end). */
  readonly loggedSql: string;
  readonly cpu: CpuGroups;
}

export interface DrainResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerS: number;
  /** Busy CPU of the whole machine during the drain, per delivered event. */
  readonly cpuMsPerEvent: number;
  readonly logged: number;
  readonly cores: Record<string, number>;
}

const LOAD_RATE = 4000;

export async function measureDrain(
  c: DrainContender,
  o: { events: number; databaseUrl: string; redisUrl: string; log: (line: string) => void },
): Promise<DrainResult> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(c.queue.name, { connection: redis, prefix: c.queue.prefix });
  const db = new pg.Client({ connectionString: o.databaseUrl });
  await db.connect();
  try {
    await queue.pause();
    const ingress = await c.startIngress();
    const load = await runPacedLoad({
      origin: ingress.origin,
      path: "/webhooks/clausum",
      rate: LOAD_RATE,
      seconds: o.events / LOAD_RATE,
      connections: 50,
      events: new EventFactory(),
    });
    await ingress.stop();
    const accepted = load.dueAt.size;
    if (accepted !== o.events || load.rejected > 0 || load.errors > 0)
      throw new Error(
        `${c.name}: ${accepted} of ${o.events} events accepted (rejected ${load.rejected}, errors ${load.errors})`,
      );
    const counts = await queue.getJobCounts("paused", "wait");
    o.log(`  ${c.name}: ${accepted} events queued as ${(counts.paused ?? 0) + (counts.wait ?? 0)} jobs`);
    const consumer = await c.startConsumer();
    try {
      await waitForQuiet();
      const meter = cpuMeter(c.cpu);
      const started = performance.now();
      await queue.resume();
      const deadline = started + 600_000;
      let done = 0;
      while (done < accepted) {
        if (performance.now() > deadline)
          throw new Error(`${c.name}: drain timed out at ${done}/${accepted}`);
        await new Promise((r) => setTimeout(r, 100));
        done = (await db.query<{ n: number }>(c.doneSql)).rows[0]?.n ?? 0;
      }
      const seconds = (performance.now() - started) / 1000;
      const cores = meter.stop();
      const logged = (await db.query<{ n: number }>(c.loggedSql)).rows[0]?.n ?? 0;
      const result = {
        events: accepted,
        seconds,
        eventsPerS: accepted / seconds,
        cpuMsPerEvent: ((cores.machine ?? 0) * seconds * 1000) / accepted,
        logged,
        cores,
      };
      o.log(
        `  ${c.name.padEnd(8)} ${result.eventsPerS.toFixed(0).padStart(6)} events/s  ${seconds.toFixed(1)} s  ` +
          `logged ${logged}/${accepted}  machine CPU ${result.cpuMsPerEvent.toFixed(2)} ms/event\n` +
          `    cores: ${Object.entries(cores)
            .map(([k, v]) => `${k} ${v.toFixed(2)}`)
            .join(", ")}`,
      );
      return result;
    } finally {
      await consumer.stop();
    }
  } finally {
    await queue.close();
    redis.disconnect();
    await db.end();
  }
}
