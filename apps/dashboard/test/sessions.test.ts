// Dashboard sessions against the real admin_sessions table: they can be ended, and they end
// when the admin token changes.
import { connectDatabase, type Database } from "@hookline/db";
import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_TTL_MS, Sessions } from "../src/session";
import { pgSessionStore } from "../src/session-store";

const TOKEN = "admin-token-for-session-tests-0123456789";
const OTHER = "another-token-entirely-0123456789abcdef";

let iso: Isolated;
let database: Database;

beforeAll(async () => {
  iso = await isolate("sessions");
  database = connectDatabase(iso.databaseUrl, { max: 2 });
});
afterAll(() => closeAll(database, iso));

const sessionsWith = (token: string, now: () => number = Date.now) =>
  new Sessions(token, pgSessionStore(database.pool), now);

describe("Sessions", () => {
  it("issues a cookie valid for 12 hours that never contains the token or its stored key", async () => {
    let now = Date.now();
    const sessions = sessionsWith(TOKEN, () => now);
    const cookie = await sessions.issue("127.0.0.1");
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
    const cookie = await sessions.issue(null);
    const copy = `${cookie}`;
    await sessions.end(cookie);
    expect(await sessions.valid(copy)).toBe(false);
  });

  it("a session opened with one admin token is refused once the token changes, in any process", async () => {
    const before = sessionsWith(TOKEN);
    const cookie = await before.issue(null);
    expect(await sessionsWith(OTHER).valid(cookie)).toBe(false);
    // Even a process that still has the old token refuses it once a new-token login swept it.
    await sessionsWith(OTHER).issue(null);
    expect(await before.valid(cookie)).toBe(false);
  });

  it("refuses edited, forged and malformed cookies", async () => {
    const sessions = sessionsWith(TOKEN);
    const cookie = await sessions.issue(null);
    const [id, mac] = cookie.split(".");
    expect(await sessions.valid(`${id}.${mac?.slice(0, -1)}${mac?.endsWith("A") ? "B" : "A"}`)).toBe(false);
    expect(await sessions.valid(`${"A".repeat(43)}.${mac}`)).toBe(false);
    for (const junk of [undefined, "", "abc", `${id}`, `${id}.`, `x.${mac}`, "\u0000.\u0000"]) {
      expect(await sessions.valid(junk)).toBe(false);
    }
  });

  it("derives a CSRF token per session and checks it", async () => {
    const sessions = sessionsWith(TOKEN);
    const a = await sessions.issue(null);
    const b = await sessions.issue(null);
    expect(sessions.csrf(a)).not.toBe(sessions.csrf(b));
    expect(sessions.csrfMatches(a, sessions.csrf(a))).toBe(true);
    expect(sessions.csrfMatches(a, sessions.csrf(b))).toBe(false);
    expect(sessions.csrfMatches(a, undefined)).toBe(false);
    expect(sessions.csrfMatches(a, "")).toBe(false);
  });
});
