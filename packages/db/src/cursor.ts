/**
 * Keyset pagination cursors: the sort key of the last row of a page, opaque to clients
 * (base64url of a small JSON object). The timestamp is kept as Postgres printed it, to the
 * microsecond, so rows that share a millisecond are neither skipped nor repeated.
 */
export interface PageCursor {
  /** ISO-8601 UTC timestamp with microseconds, e.g. `2026-05-29T18:30:00.123456Z`. */
  readonly at: string;
  readonly id: string;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const ID = /^[A-Za-z0-9_-]{1,128}$/;

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.at, i: cursor.id }), "utf8").toString("base64url");
}

/** null when the text is not a cursor this module made (tampered, truncated, or from elsewhere). */
export function decodeCursor(text: string): PageCursor | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length > 512) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const { t, i } = parsed as { t?: unknown; i?: unknown };
  if (typeof t !== "string" || typeof i !== "string") return null;
  if (!TIMESTAMP.test(t) || !ID.test(i) || !isRealInstant(t)) return null;
  return { at: t, id: i };
}

/**
 * JavaScript reads 2026-02-30 as March 2 and accepts year 0; Postgres refuses both. A cursor's
 * time must name a real calendar instant in years 1-9999, the same in both.
 */
function isRealInstant(t: string): boolean {
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) return false;
  const back = new Date(ms);
  const year = back.getUTCFullYear();
  return year >= 1 && year <= 9999 && back.toISOString().slice(0, 19) === t.slice(0, 19);
}

/** The SQL expression that prints a timestamptz column the way cursors carry it. */
export function cursorTimestampSql(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
