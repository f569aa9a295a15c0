import { parseArgs } from "node:util";
import { auditJson, parseAuditParams } from "@hookline/admin";
import type { HooklineEnv } from "@hookline/config";
import { listAudit } from "@hookline/db";
import { readRedactor } from "../context";
import { shortTime } from "../table";
import { PAGE_OPTIONS, type Print, printPage, unwrap, withDatabase } from "./ops";

export const AUDIT_USAGE =
  "hookline audit [--actor NAME] [--action ACTION] [--since 2h|ISO] [--until 2h|ISO] [--limit N] [--cursor C] [--json]";

/** `hookline audit`: the audit log, newest first, as GET /api/audit lists it; Postgres alone. */
export async function auditCommand(args: readonly string[], env: HooklineEnv, print: Print): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      actor: { type: "string" },
      action: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      ...PAGE_OPTIONS,
    },
  });
  const filters = unwrap(
    parseAuditParams(
      {
        actor: values.actor,
        action: values.action,
        since: values.since,
        until: values.until,
        limit: values.limit,
        cursor: values.cursor,
      },
      Date.now(),
    ),
  );
  const redactor = readRedactor(env);
  const page = await withDatabase(env, (database) => listAudit(database.pool, filters));
  printPage(print, page, {
    json: values.json,
    toJson: (a) => auditJson(a, redactor),
    none: "no audit entries match",
    columns: [
      { header: "AT (UTC)" },
      { header: "ACTOR" },
      { header: "ACTION" },
      { header: "SUBJECT", max: 48 },
      { header: "IP" },
    ],
    row: (a) => {
      const shown = auditJson(a, redactor);
      return [shortTime(a.at), shown.actor, shown.action, shown.subject ?? "-", shown.ip ?? "-"];
    },
  });
  return 0;
}
