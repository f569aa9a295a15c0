import { replayEvent, runJson } from "@hookline/admin";
import { parseCommandArgs } from "../args";
import { CliError } from "../context";
import { formatTable } from "../table";
import { CLI_ACTOR, type ConfiguredCommand, printJson, withAdminContext } from "./ops";

export const REPLAY_USAGE = "hookline replay EVENT_ID [--target ID]... [--json]";

/** `hookline replay`: new deliveries of an event to its routed targets, or to the named ones. */
export const replayCommand: ConfiguredCommand = async (args, env, config, print) => {
  const { values, positionals } = parseCommandArgs(args, {
    target: { type: "string", multiple: true },
    json: { type: "boolean", default: false },
  });
  const id = positionals[0];
  if (!id) throw new CliError(`usage: ${REPLAY_USAGE}`);
  const result = await withAdminContext(env, config(), (ctx) =>
    replayEvent(ctx, CLI_ACTOR, id, values.target),
  );
  switch (result.kind) {
    case "not_found":
      throw new CliError(`no event ${id}`);
    case "unknown_targets":
      throw new CliError(`no target named ${result.targets.map((t) => `"${t}"`).join(", ")} is configured`);
    case "replayed":
      if (values.json) {
        printJson(print, { event_id: id, deliveries: result.runs.map(runJson) });
      } else if (result.runs.length === 0) {
        print(`event ${id}: no route selects a configured target today; nothing replayed (name --target)`);
      } else {
        print(`replayed ${id} as new deliveries:`);
        print(
          formatTable(
            [{ header: "DELIVERY" }, { header: "TARGET" }, { header: "STATUS" }],
            result.runs.map((r) => [r.id, r.targetId, "pending"]),
          ),
        );
      }
      return 0;
    default: {
      const exhaustive: never = result;
      return exhaustive;
    }
  }
};
