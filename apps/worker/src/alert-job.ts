// The alerts queue's jobs: send one alert to one destination (retried with backoff by BullMQ),
// and end a coalescing window. Runs on its own queue and connection, so a destination that is
// down only ever delays other alerts, never a delivery.
import {
  type AlertRaiser,
  alertRequest,
  destinationKey,
  destinationLabel,
  FLUSH_JOB,
  type FlushJob,
  SEND_JOB,
  type SendJob,
} from "@hookline/alerts";
import type { AlertConfig } from "@hookline/config";
import type { Logger } from "@hookline/logger";
import { ALERTS_QUEUE, createWorkerConnection, type RedisEndpoint } from "@hookline/queue";
import { type Job, Worker } from "bullmq";
import { request } from "undici";
import { USER_AGENT } from "./outbound";
import type { WorkerObserver } from "./worker";

export const ALERT_TIMEOUT_MS = 10_000;

export interface AlertWorkerOptions {
  readonly redis: RedisEndpoint;
  /** The alerts queue's BullMQ prefix (QueueKeys.prefix). */
  readonly prefix: string;
  readonly destinations: readonly AlertConfig[];
  readonly raiser: AlertRaiser;
  readonly logger: Logger;
  readonly observer?: Pick<WorkerObserver, "alert">;
  readonly now?: () => number;
}

export interface RunningAlertWorker {
  close(): Promise<void>;
}

/** A destination's answer other than 2xx: BullMQ retries the job. */
export class AlertRefusedError extends Error {
  readonly code = "alert_refused";
  constructor(readonly status: number) {
    super(`the alert destination answered ${status}`);
  }
}

export async function sendAlert(destination: AlertConfig, job: SendJob, nowMs: number): Promise<void> {
  const { body, headers } = alertRequest(job.alert, destination, job.id, nowMs);
  const response = await request(destination.url, {
    method: "POST",
    headers: { ...headers, "user-agent": USER_AGENT, "hookline-alert": job.alert.type },
    body,
    headersTimeout: ALERT_TIMEOUT_MS,
    bodyTimeout: ALERT_TIMEOUT_MS,
  });
  await response.body.dump();
  if (response.statusCode < 200 || response.statusCode > 299)
    throw new AlertRefusedError(response.statusCode);
}

export async function startAlertWorker(options: AlertWorkerOptions): Promise<RunningAlertWorker> {
  const { logger, destinations } = options;
  const now = options.now ?? Date.now;
  const byKey = new Map(destinations.map((d) => [destinationKey(d.url), d]));
  const connection = createWorkerConnection(options.redis);
  const worker = new Worker(
    ALERTS_QUEUE,
    async (job: Job) => {
      if (job.name === FLUSH_JOB) return options.raiser.flush(job.data as FlushJob);
      if (job.name !== SEND_JOB) return;
      const data = job.data as SendJob;
      const destination = byKey.get(data.destination);
      if (!destination) {
        logger.info({ type: data.alert.type }, "alert dropped: its destination is no longer configured");
        return;
      }
      await sendAlert(destination, data, now());
      options.observer?.alert(data.alert.type, "sent");
    },
    { connection, prefix: options.prefix, concurrency: 4 },
  );
  worker.on("error", (error) => logger.error({ err: error }, "alert worker error"));
  worker.on("failed", (job, error) => {
    if (!job || job.name !== SEND_JOB) {
      logger.warn({ err: error }, "alert window not closed; it closes on its own within 10 minutes");
      return;
    }
    const data = job.data as SendJob;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    // The destination's origin only: a Slack webhook's path is its credential.
    const context = {
      type: data.alert.type,
      target: data.alert.targetId,
      destination: destinationLabel(byKey.get(data.destination)?.url ?? ""),
      attempts: job.attemptsMade,
      error: error.message,
    };
    if (final) {
      logger.warn(context, "alert not delivered after every retry; given up");
      options.observer?.alert(data.alert.type, "failed");
    } else logger.info(context, "alert not delivered; retrying");
  });
  await worker.waitUntilReady();
  logger.info({ destinations: destinations.map((d) => destinationLabel(d.url)) }, "alerts on");
  return {
    close: async () => {
      await worker.close();
      connection.disconnect();
    },
  };
}
