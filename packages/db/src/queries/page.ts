// Keyset pagination shared by every listing: page sizes, cursors, and a WHERE builder.
import { decodeCursor, encodeCursor, type PageCursor } from "../cursor";

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
