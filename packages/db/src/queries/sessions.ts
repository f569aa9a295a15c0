// Dashboard sessions, stored so that they can be ended: logout deletes the row, and each
// request checks it. The cookie's secret is never stored, only its SHA-256.
import type pg from "pg";
import type { Queryable } from "../client";

export interface StoredSession {
  readonly tokenFingerprint: string;
  /** The name and role of the token that opened it. */
  readonly tokenName: string;
  readonly role: "read" | "operate";
  readonly expiresAt: Date;
}

export async function insertSession(
  pool: Queryable,
  row: {
    readonly id: string;
    readonly tokenFingerprint: string;
    readonly tokenName: string;
    readonly role: "read" | "operate";
    readonly expiresAt: Date;
    readonly ip: string | null;
  },
): Promise<void> {
  await pool.query(
    `insert into admin_sessions (id, token_fingerprint, token_name, role, expires_at, ip)
     values ($1, $2, $3, $4, $5, $6)`,
    [row.id, row.tokenFingerprint, row.tokenName, row.role, row.expiresAt, row.ip],
  );
}

export async function findSession(pool: pg.Pool, id: string): Promise<StoredSession | null> {
  const result = await pool.query<{
    token_fingerprint: string;
    token_name: string;
    role: "read" | "operate";
    expires_at: Date;
  }>("select token_fingerprint, token_name, role, expires_at from admin_sessions where id = $1", [id]);
  const row = result.rows[0];
  return row
    ? {
        tokenFingerprint: row.token_fingerprint,
        tokenName: row.token_name,
        role: row.role,
        expiresAt: row.expires_at,
      }
    : null;
}

export async function deleteSession(pool: pg.Pool, id: string): Promise<void> {
  await pool.query("delete from admin_sessions where id = $1", [id]);
}

/** Sessions past their expiry, and those opened with a token no longer configured, are gone for good. */
export async function deleteEndedSessions(
  pool: pg.Pool,
  currentFingerprints: readonly string[],
): Promise<number> {
  const result = await pool.query(
    "delete from admin_sessions where expires_at <= now() or not (token_fingerprint = any($1::text[]))",
    [currentFingerprints],
  );
  return result.rowCount ?? 0;
}
