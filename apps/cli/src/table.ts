// Plain aligned tables for the terminal: no dependency, no colour, stable for grep and diff.

export interface Column {
  readonly header: string;
  /** Numbers read best right-aligned. */
  readonly align?: "left" | "right";
  /** Longer cells are cut with "…". */
  readonly max?: number;
}

/** Display width of a string (code points; good enough for ids, statuses and error text). */
function width(text: string): number {
  return [...text].length;
}

export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max
    ? text
    : `${chars
        .slice(0, Math.max(0, max - 1))
        .join("")
        .trimEnd()}…`;
}

/** One line per row, columns separated by two spaces, no trailing spaces. */
export function formatTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
  const cells = rows.map((row) =>
    columns.map((col, i) => {
      const raw = (row[i] ?? "").replace(/[\r\n\t]+/g, " ");
      return col.max ? truncate(raw, col.max) : raw;
    }),
  );
  const widths = columns.map((col, i) => Math.max(width(col.header), ...cells.map((r) => width(r[i] ?? ""))));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => {
        const pad = " ".repeat((widths[i] ?? 0) - width(v));
        return columns[i]?.align === "right" ? pad + v : v + pad;
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}

/** Every line two spaces in: a table nested under the line before it. */
export function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

/** `2026-05-29 18:30:00` in UTC: sortable, compact, unambiguous. */
export function shortTime(date: Date | string | null): string {
  if (date === null) return "-";
  const iso = typeof date === "string" ? date : date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}
