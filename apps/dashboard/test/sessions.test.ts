// Dashboard sessions against the real admin_sessions table: they can be ended, and they end
// when their token is removed from the config or changed (its text, name or role).
import type { AdminTokenConfig } from "@hookline/config";
import { connectDatabase, type Database } from "@hookline/db";
import { type AdminPrincipal, AdminTokens } from "@hookline/operations";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_TTL_MS, Sessions } from "../src/session";
import { pgSessionStore } from "../src/session-store";

const TOKEN = "admin-token-for-session-tests-0123456789";
const OTHER = "another-token-entirely-0123456789abcdef";
const VIEWER = "viewer-token-for-session-tests-abcdef012";

const DEFAULT: AdminPrincipal = { name: "default", role: "operate" };
const viewer: AdminTokenConfig = { name: "viewer", token: VIEWER, role: "read" };

let iso: Isolated;
let database: Database;

beforeAll(async () => {
  iso = await isolate("sessions");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});
afterAll(() => closeAll(database, iso));

const sessionsWith = (
  token: string | null,
  now: () => number = Date.now,
  configured: readonly AdminTokenConfig[] = [],
) => new Sessions(new AdminTokens(configured, token), pgSessionStore(database.pool), now);

describe("Sessions", () => {
  it("issues a cookie valid for 12 hours that never contains the token or its stored key", async () => {
    let now = Date.now();
    const sessions = sessionsWith(TOKEN, () => now);
    const cookie = await sessions.issue(DEFAULT, "127.0.0.1");
    expect(cookie).not.toContain(TOKEN);
    const rows = await database.pool.query<{ id: string }>("select id from admin_sessions");
    for (const row of rows.rows) expect(cookie).not.toContain(row.id);
    expect(await sessions.valid(cookie)).toBe(true);
    now += SESSION_TTL_MS - 1_000;
    expect(await sessions.valid(cookie)).toBe(true);
    now += 1_000;
    expect(await sessions.valid(cookie)).toBe(false);
  });

  it("logout ends the session for good: a copy of the cookie taken before no longer works", async () => {
    const sessions = sessionsWith(TOKEN);
    const cookie = await sessions.issue(DEFAULT, null);
    const copy = `${cookie}`;
    await sessions.end(cookie);
    expect(await sessions.valid(copy)).toBe(false);
  });

  it("a session opened with one admin token is refused once the token changes, in any process", async () => {
    const before = sessionsWith(TOKEN);
    const cookie = await before.issue(DEFAULT, null);
    expect(await sessionsWith(OTHER).valid(cookie)).toBe(false);
    // Even a process that still has the old token refuses it once a new-token login swept it.
    await sessionsWith(OTHER).issue(DEFAULT, null);
    expect(await before.valid(cookie)).toBe(false);
  });

  it("remembers the token's name and role, and stores neither the token nor the cookie", async () => {
    const sessions = sessionsWith(TOKEN, Date.now, [viewer]);
    const cookie = await sessions.issue({ name: "viewer", role: "read" }, null);
    const opened = await sessions.open(cookie);
    expect(opened).toMatchObject({ name: "viewer", role: "read" });
    const rows = await database.pool.query("select * from admin_sessions");
    const stored = JSON.stringify(rows.rows);
    expect(stored).toContain('"token_name":"viewer"');
    expect(stored).not.toContain(VIEWER);
    expect(stored).not.toContain(TOKEN);
    expect(stored).not.toContain(cookie.split(".")[0]);
  });

  it("a session dies when its token leaves the config, or changes name or role; others live on", async () => {
    const both = sessionsWith(TOKEN, Date.now, [viewer]);
    const viewerCookie = await both.issue({ name: "viewer", role: "read" }, null);
    const defaultCookie = await both.issue(DEFAULT, null);
    // The viewer token removed: its session is refused; the default token's lives on.
    const without = sessionsWith(TOKEN);
    expect(await without.valid(viewerCookie)).toBe(false);
    expect(await without.valid(defaultCookie)).toBe(true);
    // The same token text promoted to operate, or renamed: another token for its sessions.
    expect(await sessionsWith(TOKEN, Date.now, [{ ...viewer, role: "operate" }]).valid(viewerCookie)).toBe(
      false,
    );
    expect(await sessionsWith(TOKEN, Date.now, [{ ...viewer, name: "viewer2" }]).valid(viewerCookie)).toBe(
      false,
    );
    // Only HOOKLINE_ADMIN_TOKEN gone, the named token kept: the default session ends.
    expect(await sessionsWith(null, Date.now, [viewer]).valid(defaultCookie)).toBe(false);
    expect(await sessionsWith(null, Date.now, [viewer]).valid(viewerCookie)).toBe(true);
  });

  it("refuses edited, forged and malformed cookies", async () => {
    const sessions = sessionsWith(TOKEN);
    const cookie = await sessions.issue(DEFAULT, null);
    const [id, mac] = cookie.split(".");
    expect(await sessions.valid(`${id}.${mac?.slice(0, -1)}${mac?.endsWith("A") ? "B" : "A"}`)).toBe(false);
    expect(await sessions.valid(`${"A".repeat(43)}.${mac}`)).toBe(false);
    for (const junk of [undefined, "", "abc", `${id}`, `${id}.`, `x.${mac}`, "\u0000.\u0000"]) {
      expect(await sessions.valid(junk)).toBe(false);
    }
  });

  it("derives a CSRF token per session and checks it", async () => {
    const sessions = sessionsWith(TOKEN);
    const a = await sessions.open(await sessions.issue(DEFAULT, null));
    const b = await sessions.open(await sessions.issue(DEFAULT, null));
    if (!a || !b) throw new Error("sessions did not open");
    expect(a.csrf).not.toBe(b.csrf);
    expect(sessions.csrfMatches(a, a.csrf)).toBe(true);
    expect(sessions.csrfMatches(a, b.csrf)).toBe(false);
    expect(sessions.csrfMatches(a, undefined)).toBe(false);
    expect(sessions.csrfMatches(a, "")).toBe(false);
  });
});
