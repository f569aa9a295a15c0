// `hookline targets`, `hookline pause TARGET [--reason TEXT]`, `hookline resume TARGET`: the
// admin API's target operations, in process. Circuit states live in the running workers, so the
// CLI shows them as "-".
import { parseArgs } from "node:util";
import { listTargets, readPauseReason, setPaused, type TargetView, targetJson } from "@hookline/admin";
import { parseCommandArgs } from "../args";
import { CliError } from "../context";
import { formatTable } from "../table";
import { CLI_ACTOR, type ConfiguredCommand, type Print, printJson, withAdminContext } from "./ops";

export const TARGETS_USAGE = "hookline targets [--json]";
export const PAUSE_USAGE = "hookline pause TARGET [--reason TEXT] [--json]";
export const RESUME_USAGE = "hookline resume TARGET [--json]";

function age(since: Date | null, now = Date.now()): string {
  if (!since) return "-";
  const s = Math.max(0, Math.round((now - since.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function printTargets(print: Print, targets: readonly TargetView[]): void {
  print(
    formatTable(
      [
        { header: "TARGET" },
        { header: "STATE" },
        { header: "CIRCUIT" },
        { header: "BACKLOG", align: "right" },
        { header: "OLDEST", align: "right" },
        { header: "REASON", max: 40 },
        { header: "URL", max: 60 },
      ],
      targets.map((t) => [
        t.id,
        t.paused ? "paused" : "active",
        t.circuit ?? "-",
        String(t.backlog),
        age(t.oldestPendingAt),
        t.pausedReason ?? "",
        t.url,
      ]),
    ),
  );
}

export const targetsCommand: ConfiguredCommand = async (args, env, config, print) => {
  const { values } = parseArgs({ args: [...args], options: { json: { type: "boolean", default: false } } });
  const targets = await withAdminContext(env, config(), (ctx) => listTargets(ctx));
  if (values.json) printJson(print, { data: targets.map(targetJson) });
  else if (targets.length === 0) print("no targets configured");
  else printTargets(print, targets);
  return 0;
};

/** `hookline pause` (paused) or `hookline resume`. */
export const pauseCommand =
  (paused: boolean): ConfiguredCommand =>
  async (args, env, config, print) => {
    const { values, positionals } = parseCommandArgs(args, {
      json: { type: "boolean", default: false },
      ...(paused ? { reason: { type: "string" } } : {}),
    });
    const id = positionals[0];
    if (!id || positionals.length > 1) throw new CliError(`usage: ${paused ? PAUSE_USAGE : RESUME_USAGE}`);
    const read = readPauseReason(values.reason);
    if (!read.ok) throw new CliError(read.message.replace(/^reason/, "--reason"));
    const { reason } = read;
    const target = await withAdminContext(env, config(), (ctx) =>
      setPaused(ctx, CLI_ACTOR, id, paused ? { paused: true, reason } : { paused: false }),
    );
    if (!target) throw new CliError(`no configured target "${id}"`);
    if (values.json) printJson(print, targetJson(target));
    else
      print(
        paused
          ? `paused ${id}: new deliveries wait (${target.backlog} waiting); every worker stops sending within a second`
          : `resumed ${id}: ${target.backlog} waiting deliveries go out within its rate limit and concurrency`,
      );
    return 0;
  };
