import { parseDeliveryFilterParams, retryMany, retryOne, runJson } from "@hookline/admin";
import { parseCommandArgs } from "../args";
import { CliError } from "../context";
import { DELIVERY_FILTER_OPTIONS } from "./deliveries";
import { CLI_ACTOR, type ConfiguredCommand, plural, printJson, unwrap, withAdminContext } from "./ops";

export const RETRY_USAGE = `hookline retry DELIVERY_ID [--force] [--json]
hookline retry --status failed --target ID [--source ID] [--event ID] [--since 2h|ISO] [--until 2h|ISO]
               [--force] [--dry-run] [--json]`;

/**
 * `hookline retry`: one delivery by id, or every delivery the filters select (status defaults
 * to failed). The same operation as the admin API's retry; needs Postgres and Redis.
 */
export const retryCommand: ConfiguredCommand = async (args, env, config, print) => {
  const { values, positionals } = parseCommandArgs(args, {
    ...DELIVERY_FILTER_OPTIONS,
    force: { type: "boolean", default: false },
    "dry-run": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  });
  const id = positionals[0];
  const filterNames = Object.keys(DELIVERY_FILTER_OPTIONS) as Array<keyof typeof DELIVERY_FILTER_OPTIONS>;
  const hasFilter = filterNames.some((name) => values[name] !== undefined);
  if (id && hasFilter) throw new CliError("give a delivery id or filters, not both");
  if (!id && !hasFilter) throw new CliError(`usage:\n${RETRY_USAGE}`);

  if (id) {
    const result = await withAdminContext(env, config(), (ctx) =>
      retryOne(ctx, CLI_ACTOR, id, { force: values.force }),
    );
    switch (result.kind) {
      case "not_found":
        throw new CliError(`no delivery ${id}`);
      case "succeeded":
        throw new CliError(`delivery ${id} already succeeded; pass --force to send it again`);
      case "target_not_configured":
        throw new CliError(`delivery ${id}'s target "${result.targetId}" is no longer configured`);
      case "transform_failed":
        throw new CliError(
          `delivery ${id}'s route transform failed, so it has nothing to send: replay the event to apply the transform again`,
        );
      case "retried":
        if (values.json) printJson(print, runJson(result.run));
        else print(`retried ${id} → ${result.run.targetId} (run ${result.run.runNumber}): queued`);
        return 0;
      default: {
        const exhaustive: never = result;
        return exhaustive;
      }
    }
  }

  const filters = unwrap(
    parseDeliveryFilterParams(
      Object.fromEntries(filterNames.map((name) => [name, values[name]])),
      Date.now(),
    ),
  );
  const result = await withAdminContext(env, config(), (ctx) =>
    retryMany(ctx, CLI_ACTOR, filters, { force: values.force, dryRun: values["dry-run"] }),
  );
  switch (result.kind) {
    case "succeeded_needs_force":
      throw new CliError("retrying succeeded deliveries sends them again; pass --force to do it on purpose");
    case "dry_run":
      if (values.json) printJson(print, { dry_run: true, matched: result.matched });
      else
        print(`would retry ${plural(result.matched, "delivery", "deliveries")} (dry run; nothing changed)`);
      return 0;
    case "retried":
      if (values.json) printJson(print, { retried: result.retried });
      else print(`retried ${plural(result.retried, "delivery", "deliveries")}: queued`);
      return 0;
    default: {
      const exhaustive: never = result;
      return exhaustive;
    }
  }
};
