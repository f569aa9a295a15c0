// The audit log: who changed what. Rows are written by the change's own transaction (each
// change's query takes an `audit` hook and calls it with its transaction), listed newest first
// with the same keyset cursors as events and deliveries.
import type pg from "pg";
import type { Queryable } from "../client";
import { newId } from "../ids";
import { newestFirst, type Page, Where } from "./page";

export const AUDIT_ACTIONS = [
  "delivery.retry",
  "deliveries.retry",
  "event.replay",
  "target.pause",
  "target.resume",
  "purge",
  "login",
  "login_failed",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}

/** Who acts, as the log names them, and from where. */
export interface AuditActor {
  /** A token's name (API), `dashboard:<token name>`, or `cli`. */
  readonly actor: string;
  readonly ip: string | null;
}

export interface AuditEntry extends AuditActor {
  readonly action: AuditAction;
  readonly subject: string | null;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditRow extends AuditEntry {
  readonly id: string;
  readonly at: Date;
}

/** Called by a change with its own transaction, after the change and before the commit. */
export type AuditHook<T> = (tx: Queryable, result: T) => Promise<void>;

export async function insertAudit(q: Queryable, entry: AuditEntry): Promise<string> {
  const id = newId("aud");
  await q.query(
    "insert into audit_log (id, actor, action, subject, details, ip) values ($1, $2, $3, $4, $5, $6)",
    [id, entry.actor, entry.action, entry.subject, JSON.stringify(entry.details), entry.ip],
  );
  return id;
}

/**
 * One audit row for a change committed in several transactions (a bulk retry, a purge, batch by
 * batch): inserted by the first, its counts set by each later one to the totals so far. The row
 * always says what has committed, and a change stopped half-way leaves a row that says how far
 * it got.
 */
export class BatchAuditRow {
  #id: string | null = null;

  constructor(private readonly entry: AuditEntry) {}

  async record(tx: Queryable, totals: Readonly<Record<string, number>>): Promise<void> {
    if (this.#id === null) {
      this.#id = await insertAudit(tx, { ...this.entry, details: { ...this.entry.details, ...totals } });
      return;
    }
    await tx.query("update audit_log set details = details || $2::jsonb where id = $1", [
      this.#id,
      JSON.stringify(totals),
    ]);
  }
}

export interface AuditFilters {
  readonly actor?: string;
  readonly action?: AuditAction;
  /** at >= since */
  readonly since?: Date;
  /** at < until */
  readonly until?: Date;
  readonly limit?: number;
  readonly cursor?: string;
}

/** Newest first, keyset-paginated on (at desc, id desc); each filter has its index. */
export async function listAudit(pool: pg.Pool, filters: AuditFilters = {}): Promise<Page<AuditRow>> {
  const w = new Where();
  if (filters.actor !== undefined) w.add(`a.actor = ${w.param(filters.actor)}`);
  if (filters.action !== undefined) w.add(`a.action = ${w.param(filters.action)}`);
  if (filters.since !== undefined) w.add(`a.at >= ${w.param(filters.since)}`);
  if (filters.until !== undefined) w.add(`a.at < ${w.param(filters.until)}`);
  return newestFirst<AuditRow, AuditRow>(
    pool,
    {
      columns: "a.id, a.at, a.actor, a.action, a.subject, a.details, a.ip",
      from: "audit_log a",
      at: "a.at",
      id: "a.id",
    },
    w,
    filters,
    ({ cursor_at, ...row }) => row,
  );
}
