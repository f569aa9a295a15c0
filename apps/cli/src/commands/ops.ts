// What the ops commands (events, deliveries, retry, replay, purge) share: connections that
// work without a running gateway, the same parameter parsing as the admin API, and output.

import { type ParseArgsConfig, parseArgs } from "node:util";
import {
  type AdminContext,
  AuthLimiter,
  DeliveryQueues,
  type Parsed,
  pageJson,
  type RawParams,
} from "@hookline/admin";
import type { HooklineConfig, HooklineEnv } from "@hookline/config";
import { type AuditActor, connectDatabase, type Database, type Page } from "@hookline/db";
import { redisEndpointOf } from "@hookline/queue";
import { Redactor } from "@hookline/redact";
import { parseCommandArgs } from "../args";
import { CliError, readRedactor } from "../context";
import { checkPostgres, preflight } from "../preflight";
import { type Column, formatTable } from "../table";

export type Print = (line: string) => void;

/** Who the audit log says made a change from the CLI: whoever has the database, from here. */
export const CLI_ACTOR: AuditActor = { actor: "cli", ip: null };

type Subcommand = (args: readonly string[], env: HooklineEnv, print: Print) => Promise<number>;

/**
 * A command that needs the config (retry, replay, targets, pause, resume, purge). The config is
 * read when the command calls `config`, so a usage error is reported without one.
 */
export type ConfiguredCommand = (
  args: readonly string[],
  env: HooklineEnv,
  config: () => HooklineConfig,
  print: Print,
) => Promise<number>;

/** `hookline events|deliveries list|show`: runs the subcommand named first; anything else is a usage error. */
export function listOrShow(
  usage: string,
  commands: { readonly list: Subcommand; readonly show: Subcommand },
): Subcommand {
  return (args, env, print) => {
    const [sub, ...rest] = args;
    if (sub === "list") return commands.list(rest, env, print);
    if (sub === "show") return commands.show(rest, env, print);
    throw new CliError(`usage:\n${usage}`);
  };
}

/** The time window every list (and bulk retry) filters by: an ISO time or a duration back. */
export const WINDOW_OPTIONS = {
  since: { type: "string" },
  until: { type: "string" },
} as const;

/** The flags every `list` takes besides its filters, with the API's names. */
export const PAGE_OPTIONS = {
  limit: { type: "string" },
  cursor: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/**
 * A `list` page: with --json as the API answers it; else a table (or `none` when the page is
 * empty) and, when there is more, the flag that shows the next page.
 */
interface PageOutput<T> {
  readonly toJson: (item: T, redactor: Redactor) => unknown;
  readonly none: string;
  readonly columns: readonly Column[];
  readonly row: (item: T, redactor: Redactor) => readonly string[];
}

export function printPage<T>(
  print: Print,
  page: Page<T>,
  output: PageOutput<T>,
  options: { readonly json: boolean; readonly redactor: Redactor },
): void {
  const { redactor } = options;
  if (options.json) {
    const json = pageJson(page, (item) => output.toJson(item, redactor));
    printJson(print, json);
    return;
  }
  if (page.data.length === 0) {
    print(output.none);
    return;
  }
  const rows = page.data.map((item) => output.row(item, redactor));
  print(formatTable(output.columns, rows));
  if (page.nextCursor) print(`\nmore: --cursor ${page.nextCursor}`);
}

/**
 * A `list` subcommand: its filter flags (the admin API's parameter names, with "-" for "_") and
 * the page flags, parsed as the API parses them (so the same errors), one page read from
 * Postgres by `list`, printed by `printPage`.
 */
export function listSubcommand<F, T>(
  spec: PageOutput<T> & {
    readonly flags: NonNullable<ParseArgsConfig["options"]>;
    readonly parse: (params: RawParams, nowMs: number) => Parsed<F>;
    readonly list: (pool: Database["pool"], filters: F) => Promise<Page<T>>;
  },
): Subcommand {
  return async (args, env, print) => {
    const { values } = parseArgs({ args: [...args], options: { ...spec.flags, ...PAGE_OPTIONS } });
    const { json, ...flags } = values;
    const params = Object.fromEntries(
      Object.entries(flags).map(([name, value]) => [
        name.replaceAll("-", "_"),
        typeof value === "string" ? value : undefined,
      ]),
    );
    const filters = unwrap(spec.parse(params, Date.now()));
    const page = await withDatabase(env, (database) => spec.list(database.pool, filters));
    printPage(print, page, spec, { json: json === true, redactor: readRedactor(env) });
    return 0;
  };
}

/**
 * A `show ID [--json]` subcommand: one row and what hangs off it, read from Postgres; with
 * --json as the API answers it, else as `text` prints it. An unknown id is an error.
 */
export function showSubcommand<T, J>(spec: {
  readonly usage: string;
  /** What the id names, for "no delivery ID". */
  readonly noun: string;
  readonly read: (database: Database, id: string) => Promise<T | null>;
  readonly json: (detail: T, redactor: Redactor) => J;
  readonly text: (json: J, print: Print) => void;
}): Subcommand {
  return async (args, env, print) => {
    const { id, json: asJson } = parseShowArgs(args, spec.usage);
    const detail = await withDatabase(env, (database) => spec.read(database, id));
    if (!detail) throw new CliError(`no ${spec.noun} ${id}`);
    const json = spec.json(detail, readRedactor(env));
    if (asJson) printJson(print, json);
    else spec.text(json, print);
    return 0;
  };
}

/** `show ID [--json]`: the id, and whether to print JSON; no id is a usage error. */
export function parseShowArgs(args: readonly string[], usage: string): { id: string; json: boolean } {
  const { values, positionals } = parseCommandArgs(args, { json: { type: "boolean", default: false } });
  const id = positionals[0];
  if (!id) throw new CliError(`usage: ${usage}`);
  return { id, json: values.json };
}

/** Runs `fn` with a database connection; Postgres alone is needed (no Redis, no gateway). */
export async function withDatabase<T>(env: HooklineEnv, fn: (database: Database) => Promise<T>): Promise<T> {
  await checkPostgres(env.databaseUrl);
  const database = connectDatabase(env.databaseUrl, { max: 2, applicationName: "hookline-cli" });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

/** Runs `fn` with what retry and replay need: Postgres, Redis and the config's targets and routes. */
export async function withAdminContext<T>(
  env: HooklineEnv,
  config: HooklineConfig,
  fn: (ctx: AdminContext) => Promise<T>,
): Promise<T> {
  const redis = redisEndpointOf(env);
  await preflight(env.databaseUrl, redis);
  const database = connectDatabase(env.databaseUrl, { max: 2, applicationName: "hookline-cli" });
  const queues = new DeliveryQueues(redis, env.queuePrefix);
  const alerts = queues.alertRaiser(config.alerts, (error) =>
    process.stderr.write(
      `hookline: an alert could not be queued: ${error instanceof Error ? error.message : String(error)}\n`,
    ),
  );
  try {
    return await fn({
      database,
      queues,
      config,
      redactor: Redactor.fromConfig(config, env.adminToken),
      authLimiter: new AuthLimiter(), // unused: the CLI authenticates no one
      ...(alerts ? { alerts } : {}),
    });
  } finally {
    await alerts?.close(); // the raises in flight reach Redis before the process exits
    await queues.close();
    await database.close();
  }
}

export function unwrap<T>(parsed: Parsed<T>): T {
  if (!parsed.ok)
    throw new CliError(
      parsed.message.replace(/^(\w+): /, "--$1: ").replace("--provider_id", "--provider-id"),
    );
  return parsed.value;
}

export function printJson(print: Print, value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}
