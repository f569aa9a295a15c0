// `hookline check-config --try PAYLOAD.json --source ID [--header K:V]... [--event TYPE]`: which
// routes and targets a payload would reach under this config, and why not for the others.
// Routing is the worker's own (packages/routing), on the same view of the event: the source's
// event type and the headers as the gateway stores them (lower-cased names).
import { readFileSync } from "node:fs";
import type { HooklineConfig, SourceConfig } from "@hookline/config";
import { orderingKey, routableEvent, routeMiss } from "@hookline/routing";
import { signRequest } from "@hookline/verify";
import { CliError } from "../context";

export interface TryOptions {
  readonly payloadPath: string;
  readonly sourceId: string;
  /** `Name: value` pairs, as given. */
  readonly headers: readonly string[];
  readonly eventType: string | null;
}

export interface RouteVerdict {
  readonly route: number;
  readonly targets: readonly string[];
  /** Null when the route takes the event. */
  readonly miss: string | null;
  /** The event's ordering key on this route, when the route is ordered and takes it. */
  readonly orderingKey?: string | null;
}

export interface TryResult {
  readonly sourceId: string;
  readonly eventType: string | null;
  readonly routes: readonly RouteVerdict[];
  /** Every target the event reaches, once each, in config order. */
  readonly reached: readonly string[];
}

function parseHeaders(pairs: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf(":");
    if (at <= 0) throw new CliError(`--header takes NAME:VALUE, got "${pair}"`, 2);
    headers[pair.slice(0, at).trim().toLowerCase()] = pair.slice(at + 1).trim();
  }
  return headers;
}

/** The event type as the source reads it: the payload signed as its provider would, then verified. */
function sourceEventType(source: SourceConfig, body: Buffer, headers: Record<string, string>) {
  const nowMs = Date.now();
  const signed = signRequest(source.spec, { body, nowMs });
  if (!signed.ok) return null;
  const lower = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const verified = source.verifier.verify({ body, headers: { ...lower, ...headers } }, nowMs);
  return verified.ok ? verified.eventType : null;
}

export function tryRoutes(config: HooklineConfig, options: TryOptions): TryResult {
  let body: Buffer;
  try {
    body = readFileSync(options.payloadPath);
  } catch (error) {
    throw new CliError(
      `cannot read ${options.payloadPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      2,
    );
  }
  const source = config.sources.find((s) => s.id === options.sourceId);
  if (!source) throw new CliError(`no source "${options.sourceId}" in the config`, 2);
  const headers = parseHeaders(options.headers);
  const eventType = options.eventType ?? sourceEventType(source, body, headers);
  const event = routableEvent({ sourceId: options.sourceId, eventType, headers, body });
  const reached: string[] = [];
  const routes = config.routes.map((route, i): RouteVerdict => {
    const miss = routeMiss(route, event);
    if (miss === null) for (const t of route.targets) if (!reached.includes(t)) reached.push(t);
    return {
      route: i,
      targets: route.targets,
      miss,
      ...(miss === null && route.orderingKey ? { orderingKey: orderingKey(route.orderingKey, event) } : {}),
    };
  });
  return { sourceId: options.sourceId, eventType, routes, reached };
}

export function formatTry(result: TryResult): string {
  const lines = [
    `source ${result.sourceId}, event type ${
      result.eventType === null
        ? "(none found: give --event TYPE, or --header with the header the source reads it from)"
        : result.eventType
    }`,
  ];
  for (const r of result.routes) {
    const head = `  routes[${r.route}] -> ${r.targets.join(", ")}:`;
    if (r.miss !== null) lines.push(`${head} not delivered: ${r.miss}`);
    else if (r.orderingKey !== undefined)
      lines.push(
        `${head} delivered${r.orderingKey === null ? ", unordered (no ordering key in this event)" : `, ordering key ${JSON.stringify(r.orderingKey)}`}`,
      );
    else lines.push(`${head} delivered`);
  }
  lines.push(
    result.reached.length > 0
      ? `reaches: ${result.reached.join(", ")}`
      : "reaches no target: the event would be kept with no deliveries",
  );
  return lines.join("\n");
}
