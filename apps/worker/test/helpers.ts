import { type Database, newId } from "@hookline/db";
import type { IngestJob } from "@hookline/queue";
import { clausumConfig, type Sink } from "@hookline/testkit";

export { CLAUSUM_SECRET, clausumBody } from "@hookline/testkit";
export const SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** A config with one Clausum source routed by event-type globs to the given sinks. */
export function spineConfig(
  targets: Record<string, { sink: Sink; path?: string; extra?: string; retry?: string }>,
  routes: string,
): string {
  const targetYaml = Object.entries(targets)
    .map(
      ([id, t]) => `  - id: ${id}
    url: ${t.sink.url}${t.path ?? `/${id}`}
    timeout: 2s
    retry: { schedule: ${t.retry ?? "[100ms, 100ms, 100ms]"} }
    signing_secret: "${SIGNING_SECRET}"
${t.extra ?? ""}`,
    )
    .join("\n");
  return clausumConfig(targetYaml, routes);
}

/** An ingest job as the gateway queues it: a new event of source `klariqo`, its own key. */
export function ingestJob(patch: Partial<IngestJob> = {}): IngestJob {
  return {
    eventId: newId("evt"),
    sourceId: "klariqo",
    eventType: "x.a",
    dedupeKey: newId("evt"),
    providerId: null,
    receivedAt: Date.now(),
    headers: { "content-type": "application/json" },
    contentType: "application/json",
    body: Buffer.from('{"type":"x.a"}').toString("base64"),
    ...patch,
  };
}

/** Whether the event is recorded in `events`. */
export async function recordedEvent(database: Database, id: string): Promise<boolean> {
  return ((await database.pool.query("select 1 from events where id = $1", [id])).rowCount ?? 0) > 0;
}
