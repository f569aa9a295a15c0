import { type AttemptJson, deliveryDetailJson, deliveryJson, parseDeliveryListParams } from "@hookline/admin";
import { getDeliveryDetail, listDeliveries } from "@hookline/db";
import { formatTable, indent, shortTime } from "../table";
import { listOrShow, listSubcommand, plural, showSubcommand, WINDOW_OPTIONS } from "./ops";

export const DELIVERIES_USAGE = `hookline deliveries list [--status failed[,retrying]] [--target ID] [--source ID] [--event EVENT_ID]
                         [--since 2h|ISO] [--until 2h|ISO] [--limit N] [--cursor C] [--json]
hookline deliveries show DELIVERY_ID [--json]`;

/** The filter flags `deliveries list` and bulk `retry` share, with the API's names. */
export const DELIVERY_FILTER_OPTIONS = {
  status: { type: "string" },
  target: { type: "string" },
  source: { type: "string" },
  event: { type: "string" },
  ...WINDOW_OPTIONS,
} as const;

const listCommand = listSubcommand({
  flags: DELIVERY_FILTER_OPTIONS,
  parse: parseDeliveryListParams,
  list: listDeliveries,
  toJson: deliveryJson,
  none: "no deliveries match",
  columns: [
    { header: "ID" },
    { header: "UPDATED (UTC)" },
    { header: "TARGET" },
    { header: "STATUS" },
    { header: "ATTEMPTS", align: "right" },
    { header: "LAST", align: "right" },
    { header: "EVENT" },
    { header: "LAST ERROR", max: 48 },
  ],
  row: (d, redactor) => [
    d.id,
    shortTime(d.updatedAt),
    d.targetId,
    d.status,
    String(d.attemptCount),
    d.lastStatusCode === null ? "-" : String(d.lastStatusCode),
    d.eventId,
    d.lastError === null ? "" : redactor.text(d.lastError),
  ],
});

const showCommand = showSubcommand({
  usage: "hookline deliveries show DELIVERY_ID [--json]",
  noun: "delivery",
  read: (database, id) => getDeliveryDetail(database.db, id),
  json: (detail, redactor) => deliveryDetailJson(detail.delivery, detail.attempts, redactor),
  text: (json, print) => {
    print(
      `delivery ${json.id} → ${json.target_id}: ${json.status}, ${plural(json.attempt_count, "attempt")}, run ${json.run_number}`,
    );
    print(`  event ${json.event_id} (${json.source_id}), updated ${shortTime(json.updated_at)} UTC`);
    if (json.attempts.length > 0) print(indent(attemptTable(json.attempts)));
  },
});

/** A delivery's attempts, oldest first: `deliveries show` and `events show` print it under the delivery. */
export function attemptTable(attempts: readonly AttemptJson[]): string {
  return formatTable(
    [
      { header: "#", align: "right" },
      { header: "STARTED (UTC)" },
      { header: "STATUS", align: "right" },
      { header: "MS", align: "right" },
      { header: "ERROR / ANSWER", max: 72 },
    ],
    attempts.map((a) => [
      String(a.attempt_number),
      shortTime(a.started_at),
      a.status_code === null ? "-" : String(a.status_code),
      a.duration_ms === null ? "-" : String(a.duration_ms),
      a.error ?? a.response_body ?? "",
    ]),
  );
}

/** `hookline deliveries list|show`: reads the database directly; the gateway need not run. */
export const deliveriesCommand = listOrShow(DELIVERIES_USAGE, { list: listCommand, show: showCommand });
