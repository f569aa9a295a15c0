import {
  type Database,
  deleteEndedSessions,
  deleteSession,
  findSession,
  insertAudit,
  insertSession,
  transaction,
} from "@hookline/db";
import type { SessionStore } from "./session";

/** Dashboard sessions in Postgres, shared by every process that serves the dashboard. */
export function pgSessionStore(pool: Database["pool"]): SessionStore {
  return {
    insert: async (row, audit) => {
      if (audit === undefined) return insertSession(pool, row);
      // The login's audit row commits with the session it opens.
      await transaction(pool, async (tx) => {
        await insertSession(tx, row);
        await insertAudit(tx, audit);
      });
    },
    find: (id) => findSession(pool, id),
    delete: (id) => deleteSession(pool, id),
    sweep: async (fingerprints) => {
      await deleteEndedSessions(pool, fingerprints);
    },
  };
}
