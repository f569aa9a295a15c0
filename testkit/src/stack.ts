import { Writable } from "node:stream";
import { formatIssues, type HooklineConfig, loadConfigText } from "@hookline/config";
import { type IngestObserver, type RunningGateway, startGateway } from "@hookline/gateway";
import { createLogger, type Logger } from "@hookline/logger";
import {
  createProducerConnection,
  deliveryQueueName,
  queueKeysFor,
  type RedisEndpoint,
} from "@hookline/queue";
import { signRequest } from "@hookline/verify";
import {
  type RunningWorker,
  startWorker,
  type WorkerObserver,
  type WorkerRunOptions,
} from "@hookline/worker";
import { Queue } from "bullmq";
import type { Isolated } from "./isolation";
import { eventually } from "./wait";

/** A worker observer that ignores everything but what `watch` gives. */
export function observeWorker(watch: Partial<WorkerObserver>): WorkerObserver {
  return {
    attempt: () => {},
    firstSuccess: () => {},
    circuit: () => {},
    ingestSetAside: () => {},
    deliveriesReconciled: () => {},
    deliveriesTargetRemoved: () => {},
    targetPaused: () => {},
    firstAttempts: () => {},
    eventsUnrouted: () => {},
    alert: () => {},
    ...watch,
  };
}

/** Every log line a stack wrote, as text: tests grep it for secrets. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  text(): string {
    return this.lines.join("\n");
  }
}

export function loadTestConfig(yaml: string, env: Record<string, string> = {}): HooklineConfig {
  const result = loadConfigText(yaml, env);
  if (!result.ok) throw new Error(`test config invalid:\n${formatIssues(result.issues)}`);
  return result.config;
}

/** What a stack's gateway and worker are started with; a server or worker started beside them takes the same. */
export interface StackShared {
  readonly config: HooklineConfig;
  readonly databaseUrl: string;
  readonly redis: RedisEndpoint;
  readonly queuePrefix: string;
  readonly logger: Logger;
}

export interface Stack {
  readonly config: HooklineConfig;
  readonly shared: StackShared;
  readonly gateway: RunningGateway;
  readonly worker: RunningWorker | null;
  readonly logs: LogCapture;
  readonly logger: Logger;
  post(source: string, body: string | Buffer, headers: Record<string, string>): Promise<Response>;
  startWorker(): Promise<RunningWorker>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  readonly withWorker?: boolean;
  /** Another Redis than the isolated one (an unreachable one, to test an outage). */
  readonly redis?: RedisEndpoint;
  /** Another database than the isolated one (an unreachable one, to test an outage). */
  readonly databaseUrl?: string;
  /** Sees every ingest request's outcome, as the metrics do. */
  readonly observer?: IngestObserver;
  /** Sees what the worker reports to the metrics. */
  readonly workerObserver?: WorkerObserver;
  /** How long a body may stop arriving before 408 (the gateway's default is 10 s). */
  readonly bodyIdleTimeoutMs?: number;
  readonly alertTiming?: WorkerRunOptions["alertTiming"];
}

/** A real gateway and worker, in this process, against the isolated database and queue prefix. */
export async function startStack(
  iso: Isolated,
  config: HooklineConfig,
  options: StackOptions = {},
): Promise<Stack> {
  const logs = new LogCapture();
  const logger = createLogger({ level: "debug", name: "test" }, logs.stream);
  const common: StackShared = {
    config,
    databaseUrl: options.databaseUrl ?? iso.databaseUrl,
    redis: options.redis ?? iso.redisUrl,
    queuePrefix: iso.queuePrefix,
    logger,
  };
  const gateway = await startGateway({
    ...common,
    port: 0,
    host: "127.0.0.1",
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.bodyIdleTimeoutMs === undefined ? {} : { bodyIdleTimeoutMs: options.bodyIdleTimeoutMs }),
  });
  let worker: RunningWorker | null = null;
  const launchWorker = async () => {
    worker = await startWorker({
      ...common,
      // A stalled job comes back in seconds, not the default 20 s: tests kill workers.
      config: { ...config, worker: { ...config.worker, lockDurationMs: 2_000, stalledIntervalMs: 500 } },
      ...(options.workerObserver ? { observer: options.workerObserver } : {}),
      ...(options.alertTiming ? { alertTiming: options.alertTiming } : {}),
    });
    return worker;
  };
  if (options.withWorker ?? true) await launchWorker();
  return {
    config,
    shared: common,
    gateway,
    get worker() {
      return worker;
    },
    logs,
    logger,
    post: (source, body, headers) =>
      fetch(`${gateway.url}/webhooks/${source}`, { method: "POST", body, headers }),
    startWorker: launchWorker,
    stopWorker: async () => {
      await worker?.close();
      worker = null;
    },
    close: async () => {
      await worker?.close();
      await gateway.close();
    },
  };
}

/** Signs `body` exactly as the source's provider would and POSTs it to the stack's gateway. */
export async function sendSigned(
  stack: Stack,
  sourceId: string,
  body: string | Buffer,
  options: { eventType?: string; nowMs?: number; extraHeaders?: Record<string, string> } = {},
): Promise<Response> {
  const source = stack.config.sources.find((s) => s.id === sourceId);
  if (!source) throw new Error(`no source ${sourceId}`);
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const eventType = options.eventType ?? typeFromBody(bytes);
  const signed = signRequest(source.spec, {
    body: bytes,
    nowMs: options.nowMs ?? Date.now(),
    ...(eventType ? { eventType } : {}),
  });
  if (!signed.ok) throw new Error(signed.message);
  return stack.post(sourceId, bytes, {
    "content-type": "application/json",
    ...signed.headers,
    ...options.extraHeaders,
  });
}

/** Providers put the type in a header as well as the body; tests name it once, in the body. */
function typeFromBody(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { event?: unknown; type?: unknown };
    const value = parsed.event ?? parsed.type;
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves once the target's delivery queue holds no job that could still run (waiting,
 * active, delayed, prioritized): the barrier that proves nothing more will be sent to it,
 * where a fixed sleep would only hope so.
 */
export async function deliveryQueueIdle(stack: Stack, targetId: string): Promise<void> {
  const connection = createProducerConnection(stack.shared.redis);
  const name = deliveryQueueName(targetId);
  const queue = new Queue(name, {
    connection,
    prefix: queueKeysFor(stack.shared.queuePrefix, stack.shared.redis).prefix(name),
  });
  try {
    await eventually(
      async () => {
        const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
        return Object.values(counts).every((n) => n === 0);
      },
      { what: `the ${targetId} queue to be idle` },
    );
  } finally {
    await queue.close();
    connection.disconnect(); // BullMQ does not close a connection it was handed
  }
}
