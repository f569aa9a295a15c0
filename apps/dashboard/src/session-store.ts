import { type Database, deleteEndedSessions, deleteSession, findSession, insertSession } from "@hookline/db";
import type { SessionStore } from "./session";

/** Dashboard sessions in Postgres, shared by every process that serves the dashboard. */
export function pgSessionStore(pool: Database["pool"]): SessionStore {
  return {
    insert: (row) => insertSession(pool, row),
    find: (id) => findSession(pool, id),
    delete: (id) => deleteSession(pool, id),
    sweep: async (fingerprint) => {
      await deleteEndedSessions(pool, fingerprint);
    },
  };
}
