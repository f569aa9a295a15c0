#!/usr/bin/env node
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { formatIssues, loadConfigFile } from "@hookline/config";
import { migrateDatabase } from "@hookline/db";
import { createLogger } from "@hookline/logger";
import { redisEndpointOf } from "@hookline/queue";
import { withoutPassword } from "@hookline/redact";
import { parseCommandArgs } from "./args";
import type { ConfiguredCommand } from "./commands/ops";
import { CliError, readConfig, readEnv } from "./context";
import { PreflightError, preflight } from "./preflight";

const USAGE = `Usage: hookline <command> [options]

Commands:
  start                 apply migrations, then run gateway and worker (./hookline.yaml or $HOOKLINE_CONFIG)
  dev                   the same with hookline.example.yaml, a demo sink target and readable logs
  migrate               create the database if missing and apply migrations
  gateway               run only the ingest gateway
  worker                run only the delivery worker
  check-config [FILE]   validate a config file; every error is named with its path
  check-config [FILE] --try PAYLOAD.json --source ID [--header NAME:VALUE]... [--event TYPE]
                        which routes and targets that payload would reach, and why not the others
  send SOURCE [--event TYPE] [--data JSON] [--url BASE] [--private-key PEM] [--no-follow]
                        sign a sample exactly as SOURCE's provider would, POST it, follow it to its targets
  events list [--source ID] [--type TYPE] [--provider-id REF] [--since 2h|ISO] [--until ...] [--json]
  events show EVENT_ID [--json]
                        find events and see each one's deliveries and attempts
  deliveries list [--status failed] [--target ID] [--source ID] [--event ID] [--since 2h|ISO] [--json]
  deliveries show DELIVERY_ID [--json]
  retry DELIVERY_ID [--force]
  retry --status failed --target ID [--since 2h] [--dry-run]
                        retry one delivery, or every delivery the filters select (new attempts append)
  replay EVENT_ID [--target ID]...
                        deliver an event again as new deliveries, to its routes' targets or the named ones
  targets [--json]      every target: active or paused (and why), circuit, backlog, oldest waiting
  pause TARGET [--reason TEXT]
  resume TARGET         hold a target's deliveries (they are created and wait), then send what waited
  purge [--older-than 30d] [--attempts-older-than 30d]
                        delete old rows now, in batches, as the retention job does (default: config)
  partition [--period daily|weekly] [--status]
                        make events and delivery_attempts time-partitioned (retention.partitioning), in place
  audit [--actor NAME] [--action ACTION] [--since 2h|ISO] [--until ...] [--json]
                        who retried, replayed, paused, resumed, purged or signed in (newest first)

  events, deliveries and audit need only Postgres; retry, replay, targets, pause and resume need Postgres
  and Redis. None
  needs a running gateway. Lists take --limit N and --cursor C; every command takes --json.

Environment: DATABASE_URL, REDIS_URL (or REDIS_CLUSTER_NODES), HOOKLINE_CONFIG, HOOKLINE_ADMIN_TOKEN, PORT, HOOKLINE_QUEUE_PREFIX, LOG_LEVEL
`;

const DEMO_SINK_PORT = 9999;

// Each command's module is imported when that command runs: a process loads only what it runs
// (a worker no dashboard, `events list` no worker), which keeps the compiled processes small.

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const print = (line: string) => process.stdout.write(`${line}\n`);
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      print(USAGE);
      return command === undefined ? 1 : 0;
    case "check-config": {
      const { values, positionals } = parseCommandArgs(rest, {
        try: { type: "string" },
        source: { type: "string" },
        header: { type: "string", multiple: true },
        event: { type: "string" },
        json: { type: "boolean" },
      });
      const env = readEnv();
      const path = positionals[0] ?? env.configPath;
      const result = loadConfigFile(path, process.env);
      if (!result.ok) {
        process.stderr.write(`${path}: ${result.issues.length} error(s)\n${formatIssues(result.issues)}\n`);
        return 1;
      }
      const c = result.config;
      // The admin server refuses to start with this: say so now, not at the next deploy.
      const { AdminTokenConflictError, AdminTokens } = await import("@hookline/admin");
      try {
        new AdminTokens(c.admin.tokens, env.adminToken);
      } catch (error) {
        if (!(error instanceof AdminTokenConflictError)) throw error;
        process.stderr.write(`${path}: 1 error(s)\nadmin.tokens: ${error.message}\n`);
        return 1;
      }
      if (values.try === undefined) {
        print(
          `${path}: ok (${c.sources.length} sources, ${c.targets.length} targets, ${c.routes.length} routes)`,
        );
        return 0;
      }
      if (values.source === undefined) throw new CliError("--try needs --source ID", 2);
      const { formatTry, tryRoutes } = await import("./commands/try-routes");
      const tried = tryRoutes(c, {
        payloadPath: values.try,
        sourceId: values.source,
        headers: values.header ?? [],
        eventType: values.event ?? null,
      });
      print(values.json ? JSON.stringify(tried, null, 2) : formatTry(tried));
      return 0;
    }
    case "migrate": {
      const env = readEnv();
      await preflight(env.databaseUrl, redisEndpointOf(env)).catch((e: unknown) => {
        if (e instanceof PreflightError && e.service === "redis") return; // migrate needs only Postgres
        throw e;
      });
      const { createdDatabase } = await migrateDatabase(env.databaseUrl);
      print(
        `${createdDatabase ? "created database and " : ""}applied migrations to ${withoutPassword(env.databaseUrl)}`,
      );
      return 0;
    }
    case "start":
    case "gateway":
    case "worker": {
      const env = readEnv();
      const config = readConfig(env);
      const logger = createLogger({ level: env.logLevel, name: "hookline" });
      const { run } = await import("./commands/run");
      await run(config, env, logger, {
        gateway: command !== "worker",
        worker: command !== "gateway",
        migrate: command === "start",
      });
      return 0;
    }
    case "dev": {
      const configPath = process.env.HOOKLINE_CONFIG ?? "hookline.example.yaml";
      // A throwaway admin token so the admin API works in development; printed once below.
      const devToken = process.env.HOOKLINE_ADMIN_TOKEN?.trim()
        ? null
        : `dev_${randomBytes(16).toString("hex")}`;
      const env = readEnv({
        HOOKLINE_CONFIG: configPath,
        ...(devToken ? { HOOKLINE_ADMIN_TOKEN: devToken } : {}),
      });
      const config = readConfig(env);
      // Readable logs, formatted in this process: a pino transport would run pino-pretty in a
      // worker thread loaded by file path, which the compiled bundle does not have.
      const { default: pretty } = await import("pino-pretty");
      const logger = createLogger(
        { level: process.env.LOG_LEVEL ?? "debug", name: "hookline" },
        pretty({
          colorize: true,
          translateTime: "HH:MM:ss.l",
          ignore: "pid,hostname,service,name",
          singleLine: true,
          sync: true,
        }),
      );
      if (devToken) {
        print(`HOOKLINE_ADMIN_TOKEN was unset; this dev session's admin API token is ${devToken}`);
        print(
          `  try: curl -H "Authorization: Bearer ${devToken}" http://${config.server.adminHost}:${config.server.adminPort}/api/events`,
        );
      }
      const { run } = await import("./commands/run");
      const { startDemoSink } = await import("./commands/demo-sink");
      await run(config, env, logger, { gateway: true, worker: true, migrate: true }, [
        () => startDemoSink(DEMO_SINK_PORT, logger.child({ component: "demo-sink" })),
      ]);
      return 0;
    }
    case "send": {
      const { values, positionals } = parseCommandArgs(rest, {
        event: { type: "string" },
        data: { type: "string" },
        url: { type: "string" },
        "private-key": { type: "string" },
        "no-follow": { type: "boolean", default: false },
      });
      const source = positionals[0];
      if (!source) throw new CliError("usage: hookline send SOURCE [--event TYPE] [--data JSON]");
      const env = readEnv();
      // `send` talks to a running gateway; use the dev config when no hookline.yaml is around.
      const config = readConfig(env, existsSync(env.configPath) ? env.configPath : "hookline.example.yaml");
      const { send } = await import("./commands/send");
      return send(
        config,
        env,
        {
          source,
          follow: values["no-follow"] ? 0 : 15,
          ...(values.event ? { event: values.event } : {}),
          ...(values.data ? { data: values.data } : {}),
          ...(values.url ? { url: values.url } : {}),
          ...(values["private-key"] ? { privateKey: values["private-key"] } : {}),
        },
        print,
      );
    }
    case "events":
      return (await import("./commands/events")).eventsCommand(rest, readEnv(), print);
    case "deliveries":
      return (await import("./commands/deliveries")).deliveriesCommand(rest, readEnv(), print);
    case "audit":
      return (await import("./commands/audit")).auditCommand(rest, readEnv(), print);
    case "retry":
      return runConfigured((await import("./commands/retry")).retryCommand, rest, print);
    case "replay":
      return runConfigured((await import("./commands/replay")).replayCommand, rest, print);
    case "targets":
      return runConfigured((await import("./commands/targets")).targetsCommand, rest, print);
    case "pause":
    case "resume": {
      const { pauseCommand } = await import("./commands/targets");
      return runConfigured(pauseCommand(command === "pause"), rest, print);
    }
    case "partition":
      return runConfigured((await import("./commands/partition")).partitionCommand, rest, print);
    case "purge":
      return runConfigured((await import("./commands/purge")).purgeCommand, rest, print);
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}

/** Runs a command that reads the config only once it needs it (a usage error needs none). */
function runConfigured(command: ConfiguredCommand, args: readonly string[], print: (line: string) => void) {
  const env = readEnv();
  return command(args, env, () => readConfig(env), print);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CliError || error instanceof PreflightError) {
      process.stderr.write(`hookline: ${error.message}\n`);
    } else if (
      error instanceof Error &&
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ) {
      process.stderr.write(`hookline: ${error.message}\n`);
    } else {
      process.stderr.write(
        `hookline: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
    process.exitCode = 1;
  },
);
