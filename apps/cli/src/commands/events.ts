import { eventDetailJson, eventSummaryJson, parseEventParams } from "@hookline/admin";
import { getEventDetail, listEvents } from "@hookline/db";
import { formatTable, indent, shortTime } from "../table";
import { attemptTable } from "./deliveries";
import { listOrShow, listSubcommand, plural, showSubcommand, WINDOW_OPTIONS } from "./ops";

export const EVENTS_USAGE = `hookline events list [--source ID] [--type TYPE] [--provider-id REF] [--since 2h|ISO] [--until 2h|ISO]
                     [--limit N] [--cursor C] [--json]
hookline events show EVENT_ID [--json]`;

const listCommand = listSubcommand({
  flags: {
    source: { type: "string" },
    type: { type: "string" },
    "provider-id": { type: "string" },
    ...WINDOW_OPTIONS,
  },
  parse: parseEventParams,
  list: listEvents,
  toJson: eventSummaryJson,
  none: "no events match",
  columns: [
    { header: "ID" },
    { header: "RECEIVED (UTC)" },
    { header: "SOURCE" },
    { header: "TYPE", max: 32 },
    { header: "DELIVERIES" },
    { header: "DUPS", align: "right" },
  ],
  row: (e) => [
    e.id,
    shortTime(e.receivedAt),
    e.sourceId,
    e.eventType ?? "-",
    deliverySummary(e.deliveries),
    String(e.duplicateCount),
  ],
});

function deliverySummary(c: {
  pending: number;
  retrying: number;
  succeeded: number;
  failed: number;
}): string {
  const parts = [
    c.succeeded ? `${c.succeeded} ok` : "",
    c.failed ? `${c.failed} failed` : "",
    c.retrying ? `${c.retrying} retrying` : "",
    c.pending ? `${c.pending} pending` : "",
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "none";
}

const showCommand = showSubcommand({
  usage: "hookline events show EVENT_ID [--json]",
  noun: "event",
  read: (database, id) => getEventDetail(database.db, id),
  json: eventDetailJson,
  text: (json, print) => {
    print(`event ${json.id}`);
    const meta = formatTable(
      [{ header: "" }, { header: "" }],
      [
        ["source", json.source_id],
        ["type", json.event_type ?? "-"],
        ["provider id", json.provider_id ?? "-"],
        ["received", `${shortTime(json.received_at)} UTC`],
        ["dedupe key", json.dedupe_key],
        ["duplicates", String(json.duplicate_count)],
        ["body", `${plural(json.body_size, "byte")}, ${json.content_type ?? "no content-type"}`],
      ],
    );
    // Label and value, without the (empty) header line.
    print(indent(meta.split("\n").slice(1).join("\n")));
    if (json.deliveries.length === 0) {
      print("\nno deliveries (no route matched)");
      return;
    }
    for (const d of json.deliveries) {
      print(
        `\ndelivery ${d.id} → ${d.target_id}: ${d.status}, ${plural(d.attempt_count, "attempt")}` +
          (d.run_number > 1 ? `, run ${d.run_number}` : "") +
          (d.next_attempt_at && (d.status === "retrying" || d.status === "pending")
            ? `, next at ${shortTime(d.next_attempt_at)}`
            : ""),
      );
      if (d.attempts.length > 0) print(indent(attemptTable(d.attempts)));
    }
  },
});

/** `hookline events list|show`: reads the database directly; the gateway need not run. */
export const eventsCommand = listOrShow(EVENTS_USAGE, { list: listCommand, show: showCommand });
