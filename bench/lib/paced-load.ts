// Open-loop load for the end-to-end phases: events are due at a fixed rate whatever the
// server does, sent over at most N keep-alive connections. An event waiting for a free
// connection keeps its due time, so latency is measured from when it should have been sent
// (no coordinated omission).
import { Pool } from "undici";
import type { EventFactory } from "./payload";

export interface PacedLoad {
  readonly origin: string;
  readonly path: string;
  readonly rate: number;
  readonly seconds: number;
  readonly connections: number;
  readonly events: EventFactory;
}

export interface PacedLoadResult {
  /** ms since the epoch when the load began and ended (the measured window). */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly offered: number;
  /** event id -> when its POST was due (ms since the epoch). */
  readonly dueAt: Map<string, number>;
  /** 202 answer times, ms after the POST was due. */
  readonly ingestMs: number[];
  readonly rejected: number;
  readonly errors: number;
  /** The highest number of events that were due but had no free connection. */
  readonly maxBacklog: number;
}

const now = () => performance.timeOrigin + performance.now();

export async function runPacedLoad(load: PacedLoad): Promise<PacedLoadResult> {
  const pool = new Pool(load.origin, {
    connections: load.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
  });
  const total = Math.round(load.rate * load.seconds);
  const interval = 1000 / load.rate;
  const dueAt = new Map<string, number>();
  const ingestMs: number[] = [];
  let rejected = 0;
  let errors = 0;
  let sent = 0;
  let inflight = 0;
  let maxBacklog = 0;
  const startedAt = now();

  let finish: () => void = () => {};
  const finished = new Promise<void>((done) => {
    finish = done;
  });

  const send = (due: number) => {
    inflight++;
    const { body, headers } = load.events.next();
    pool
      .request({ origin: load.origin, path: load.path, method: "POST", headers, body })
      .then(async (res) => {
        const text = await res.body.text();
        const answered = now();
        if (res.statusCode === 202) {
          const { id } = JSON.parse(text) as { id: string };
          dueAt.set(id, due);
          ingestMs.push(answered - due);
        } else {
          rejected++;
        }
      })
      .catch(() => {
        errors++;
      })
      .finally(() => {
        inflight--;
        pump();
      });
  };

  const pump = () => {
    const due = Math.min(total, Math.floor((now() - startedAt) / interval) + 1);
    maxBacklog = Math.max(maxBacklog, due - sent);
    while (sent < due && inflight < load.connections) {
      send(startedAt + sent * interval);
      sent++;
    }
    if (sent >= total && inflight === 0) finish();
  };

  const timer = setInterval(pump, 1);
  pump();
  await finished;
  clearInterval(timer);
  const endedAt = now();
  await pool.close();
  return { startedAt, endedAt, offered: total, dueAt, ingestMs, rejected, errors, maxBacklog };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
