import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Dashboard sessions, stored so that they can be ended: logout deletes the row, and a session
 * opened with a token that is no longer configured (or whose name or role changed) is refused.
 */
export const adminSessions = pgTable(
  "admin_sessions",
  {
    /** SHA-256 of the cookie's secret part: the cookie itself is never stored. */
    id: text("id").primaryKey(),
    /** HMAC of the admin token that opened the session: a token change ends it. */
    tokenFingerprint: text("token_fingerprint").notNull(),
    /**
     * The name and role of the token that opened the session (admin.tokens, or `default` for
     * HOOKLINE_ADMIN_TOKEN, which every session before named tokens was opened with).
     */
    tokenName: text("token_name").notNull().default("default"),
    role: text("role").$type<"read" | "operate">().notNull().default("operate"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    ip: text("ip"),
  },
  (t) => [index("admin_sessions_expires_idx").on(t.expiresAt)],
);
