import type { HooklineConfig, HooklineEnv } from "@hookline/config";
import { connectDatabase, getEventDetail } from "@hookline/db";
import { signRequest } from "@hookline/verify";
import { CliError } from "../context";
import { defaultEventType, sampleData, samplePayload } from "../samples";

export interface SendOptions {
  readonly source: string;
  readonly event?: string;
  readonly data?: string;
  readonly url?: string;
  readonly privateKey?: string;
  /** Seconds to follow the event through the worker; 0 = just POST. */
  readonly follow: number;
}

type Print = (line: string) => void;

/** Signs a sample exactly as the source's provider would, POSTs it, and follows it to its targets. */
export async function send(
  config: HooklineConfig,
  env: HooklineEnv,
  options: SendOptions,
  print: Print,
): Promise<number> {
  const source = config.sources.find((s) => s.id === options.source);
  if (!source) {
    throw new CliError(
      `no source "${options.source}"; configured: ${config.sources.map((s) => s.id).join(", ") || "none"}`,
    );
  }
  const scheme = source.spec.verify.scheme;
  const eventType = options.event ?? defaultEventType(scheme);
  let data: unknown = sampleData(scheme);
  if (options.data !== undefined) {
    try {
      data = JSON.parse(options.data);
    } catch {
      throw new CliError("--data is not valid JSON");
    }
  }
  const now = Date.now();
  const body = Buffer.from(samplePayload(scheme, eventType, data, now));
  const base = options.url ?? `http://127.0.0.1:${config.server.port}`;
  const url = `${base}/webhooks/${source.id}`;
  const signed = signRequest(source.spec, {
    body,
    nowMs: now,
    eventType,
    url,
    ...(options.privateKey ? { privateKey: options.privateKey } : {}),
  });
  if (!signed.ok) throw new CliError(`cannot sign as ${scheme}: ${signed.message}`);
  const headers = { "content-type": "application/json", ...signed.headers };
  print(`→ POST ${url}  (${scheme}, ${eventType}, ${body.length} bytes)`);
  for (const name of Object.keys(signed.headers)) print(`    ${name}: ${signed.headers[name]}`);
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", body, headers });
  } catch (error) {
    throw new CliError(
      `the gateway at ${base} is not answering (${(error as Error).message}); is \`pnpm start\` running?`,
    );
  }
  const text = await response.text();
  print(`← ${response.status} ${text}`);
  if (response.status !== 202) return 1;
  if (options.follow <= 0) return 0;
  const eventId = (JSON.parse(text) as { id: string }).id;
  const database = connectDatabase(env.databaseUrl, { max: 1, applicationName: "hookline-cli" });
  try {
    const deadline = Date.now() + options.follow * 1000;
    let shown = "";
    for (;;) {
      const detail = await getEventDetail(database.db, eventId);
      const lines: string[] = [];
      if (detail) {
        lines.push(`  event ${eventId} recorded (dedupe key ${detail.event.dedupeKey.slice(0, 24)}…)`);
        if (detail.deliveries.length === 0) lines.push("  no route matched: nothing to forward");
        for (const d of detail.deliveries) {
          lines.push(`  → ${d.targetId}: ${d.status} after ${d.attemptCount} attempt(s)`);
          for (const a of d.attempts) {
            lines.push(
              `      #${a.attemptNumber} ${a.statusCode ?? "-"} ${a.durationMs ?? "?"} ms${a.error ? ` ${a.error}` : ""}`,
            );
          }
        }
      } else {
        lines.push("  queued; waiting for the worker…");
      }
      const block = lines.join("\n");
      if (block !== shown) {
        print(block);
        shown = block;
      }
      const settled = detail?.deliveries.every((d) => d.status === "succeeded" || d.status === "failed");
      if (settled || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await database.close();
  }
  return 0;
}
