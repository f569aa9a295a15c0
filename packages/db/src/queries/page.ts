// Keyset pagination shared by every listing: page sizes, cursors, and a WHERE builder.
import type pg from "pg";
import { cursorTimestampSql, decodeCursor, encodeCursor, type PageCursor } from "../cursor";

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export interface Page<T> {
  readonly data: readonly T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** Thrown for a cursor that this module did not make; the HTTP edge answers 400. */
export class InvalidCursorError extends Error {
  constructor() {
    super("the cursor is not valid; start again without one");
    this.name = "InvalidCursorError";
  }
}

/** A WHERE clause built one condition at a time, with numbered parameters. */
export class Where {
  readonly conditions: string[] = [];
  readonly params: unknown[] = [];

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(condition: string): void {
    this.conditions.push(condition);
  }

  sql(): string {
    return this.conditions.length ? `where ${this.conditions.join(" and ")}` : "";
  }
}

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.trunc(limit)));
}

export function readCursor(text: string | undefined): PageCursor | null {
  if (text === undefined) return null;
  const cursor = decodeCursor(text);
  if (!cursor) throw new InvalidCursorError();
  return cursor;
}

export function toPage<R extends { cursor_at: string; id: string }, T>(
  rows: readonly R[],
  size: number,
  map: (row: R) => T,
): Page<T> {
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return {
    data: page.map(map),
    nextCursor: rows.length > size && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}

/** What a listing selects, and the time it is listed by (newest first). */
export interface NewestFirstQuery {
  /** The select list, columns qualified by the alias. */
  readonly columns: string;
  /** The table with its alias, and any join: `events e left join lateral (…) c on true`. */
  readonly from: string;
  /** The alias's timestamp column the list is ordered by and the cursor carries: `e.received_at`. */
  readonly at: string;
  /** The alias's id column, the tie-breaker: `e.id`. */
  readonly id: string;
}

/**
 * One page of a listing, newest first: keyset-paginated on (at desc, id desc) after the cursor,
 * the filters in `where`. `nulls last` matches the index's order (the columns are never null,
 * but the planner only uses an index whose null ordering is the query's).
 */
export async function newestFirst<R extends { id: string }, T>(
  pool: pg.Pool,
  query: NewestFirstQuery,
  w: Where,
  page: { readonly limit?: number | undefined; readonly cursor?: string | undefined },
  map: (row: R & { cursor_at: string }) => T,
): Promise<Page<T>> {
  const size = pageSize(page.limit);
  const cursor = readCursor(page.cursor);
  const { at, id } = query;
  if (cursor) w.add(`(${at}, ${id}) < (${w.param(cursor.at)}::timestamptz, ${w.param(cursor.id)})`);
  const result = await pool.query<R & { cursor_at: string }>(
    `select ${query.columns}, ${cursorTimestampSql(at)} as cursor_at
     from ${query.from}
     ${w.sql()}
     order by ${at} desc nulls last, ${id} desc nulls last
     limit ${size + 1}`,
    w.params,
  );
  return toPage(result.rows, size, map);
}
