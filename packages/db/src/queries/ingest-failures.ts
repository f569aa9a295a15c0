// Ingest jobs set aside: recording them failed for a reason that will not go away (a data
// error, not an outage). They are kept whole, listed for ops, and never retried by themselves.
import type pg from "pg";
import { newestFirst, type Page, Where } from "./page";

export interface IngestFailure {
  /** The Hookline event id the failed recording was for, or the job id when the job was unreadable. */
  readonly id: string;
  readonly sourceId: string | null;
  readonly eventIds: readonly string[];
  /** Stable: `invalid_job`, `data_exception`, `program_limit_exceeded`, `integrity_violation`. */
  readonly reason: string;
  readonly error: string;
  readonly failedAt: Date;
}

export interface SetAside {
  readonly id: string;
  readonly sourceId: string | null;
  readonly eventIds: readonly string[];
  readonly reason: string;
  readonly error: string;
  /** The job's data as queued, for a re-drive once the cause is fixed. */
  readonly job: unknown;
}

/** Postgres text and jsonb cannot hold U+0000, and a NUL is one reason a job lands here. */
const withoutNul = (text: string): string => text.replaceAll("\u0000", "\\u0000");

/** The job as JSON, every NUL kept as the six characters `\u0000`, so the row can always be written. */
function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "string" ? withoutNul(v) : v));
}

/** Idempotent: setting the same job aside twice (a re-run after a crash) keeps the first row. */
export async function setAsideIngest(pool: pg.Pool, row: SetAside): Promise<void> {
  await pool.query(
    `insert into ingest_failures (id, source_id, event_ids, reason, error, job)
     values ($1, $2, $3, $4, $5, $6::jsonb) on conflict (id) do nothing`,
    [row.id, row.sourceId, row.eventIds, row.reason, withoutNul(row.error), storableJson(row.job)],
  );
}

/** Newest first, keyset-paginated on (failed_at desc, id desc). The job's data is not returned. */
export async function listIngestFailures(
  pool: pg.Pool,
  filters: { readonly limit?: number; readonly cursor?: string } = {},
): Promise<Page<IngestFailure>> {
  return newestFirst<IngestFailure, IngestFailure>(
    pool,
    {
      columns: `f.id, f.source_id as "sourceId", f.event_ids as "eventIds", f.reason, f.error,
                f.failed_at as "failedAt"`,
      from: "ingest_failures f",
      at: "f.failed_at",
      id: "f.id",
    },
    new Where(),
    filters,
    ({ cursor_at, ...failure }) => failure,
  );
}

/** How many jobs are set aside, for the dashboard's overview. */
export async function countIngestFailures(pool: pg.Pool): Promise<number> {
  const result = await pool.query<{ n: number }>("select count(*)::int as n from ingest_failures");
  return result.rows[0]?.n ?? 0;
}
