// What an attempt sends: a delivery's own body (a route's transform result, JSON) when it has
// one, otherwise the event's bytes with their content type. Used by every statement that opens
// an attempt, with the delivery as `d` and the event as `e`.
export const SENT_BODY = "coalesce(d.sent_body, e.body)";
export const SENT_CONTENT_TYPE =
  "case when d.sent_body is null then e.content_type else 'application/json' end";

/** The same rule for an attempt opened with the delivery's creation, before either is stored. */
export function sentContent(
  event: { readonly body: Buffer; readonly contentType: string | null },
  sentBody: Buffer | null,
): { readonly body: Buffer; readonly contentType: string | null } {
  return sentBody === null ? event : { body: sentBody, contentType: "application/json" };
}
