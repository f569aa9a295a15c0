import { auditJson, parseAuditParams } from "@hookline/admin";
import { listAudit } from "@hookline/db";
import { shortTime } from "../table";
import { listSubcommand, WINDOW_OPTIONS } from "./ops";

export const AUDIT_USAGE =
  "hookline audit [--actor NAME] [--action ACTION] [--since 2h|ISO] [--until 2h|ISO] [--limit N] [--cursor C] [--json]";

/** `hookline audit`: the audit log, newest first, as GET /api/audit lists it; Postgres alone. */
export const auditCommand = listSubcommand({
  flags: {
    actor: { type: "string" },
    action: { type: "string" },
    ...WINDOW_OPTIONS,
  },
  parse: parseAuditParams,
  list: listAudit,
  toJson: auditJson,
  none: "no audit entries match",
  columns: [
    { header: "AT (UTC)" },
    { header: "ACTOR" },
    { header: "ACTION" },
    { header: "SUBJECT", max: 48 },
    { header: "IP" },
  ],
  row: (a, redactor) => {
    const shown = auditJson(a, redactor);
    return [shortTime(a.at), shown.actor, shown.action, shown.subject ?? "-", shown.ip ?? "-"];
  },
});
