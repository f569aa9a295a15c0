// Dashboard sessions, stored so that they can be ended: logout deletes the row, and each
// request checks it. The cookie's secret is never stored, only its SHA-256.
import type pg from "pg";

export interface StoredSession {
  readonly tokenFingerprint: string;
  readonly expiresAt: Date;
}

export async function insertSession(
  pool: pg.Pool,
  row: {
    readonly id: string;
    readonly tokenFingerprint: string;
    readonly expiresAt: Date;
    readonly ip: string | null;
  },
): Promise<void> {
  await pool.query(
    "insert into admin_sessions (id, token_fingerprint, expires_at, ip) values ($1, $2, $3, $4)",
    [row.id, row.tokenFingerprint, row.expiresAt, row.ip],
  );
}

export async function findSession(pool: pg.Pool, id: string): Promise<StoredSession | null> {
  const result = await pool.query<{ token_fingerprint: string; expires_at: Date }>(
    "select token_fingerprint, expires_at from admin_sessions where id = $1",
    [id],
  );
  const row = result.rows[0];
  return row ? { tokenFingerprint: row.token_fingerprint, expiresAt: row.expires_at } : null;
}

export async function deleteSession(pool: pg.Pool, id: string): Promise<void> {
  await pool.query("delete from admin_sessions where id = $1", [id]);
}

/** Sessions past their expiry, and those opened with another admin token, are gone for good. */
export async function deleteEndedSessions(pool: pg.Pool, currentFingerprint: string): Promise<number> {
  const result = await pool.query(
    "delete from admin_sessions where expires_at <= now() or token_fingerprint <> $1",
    [currentFingerprint],
  );
  return result.rowCount ?? 0;
}
