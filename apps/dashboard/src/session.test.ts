import { describe, expect, it } from "vitest";
import { localPath } from "./mount";
import { fromSameOrigin, LoginThrottle, SESSION_TTL_MS, Sessions } from "./session";

const TOKEN = "admin-token-for-session-tests-0123456789";

describe("Sessions", () => {
  it("issues a cookie that is valid for 12 hours and never contains the token", () => {
    let now = 1_800_000_000_000;
    const sessions = new Sessions(TOKEN, () => now);
    const cookie = sessions.issue();
    expect(cookie).not.toContain(TOKEN);
    expect(sessions.valid(cookie)).toBe(true);
    expect(sessions.remainingSeconds(cookie)).toBe(SESSION_TTL_MS / 1000);
    now += SESSION_TTL_MS - 1;
    expect(sessions.valid(cookie)).toBe(true);
    now += 1;
    expect(sessions.valid(cookie)).toBe(false);
  });

  it("rejects cookies made with another token, edited, or from the future", () => {
    const now = 1_800_000_000_000;
    const sessions = new Sessions(TOKEN, () => now);
    const other = new Sessions("another-token-entirely-0123456789", () => now).issue();
    expect(sessions.valid(other)).toBe(false);
    const cookie = sessions.issue();
    const [issued, mac] = cookie.split(".");
    expect(sessions.valid(`${Number(issued) + 1}.${mac}`)).toBe(false);
    expect(sessions.valid(`${issued}.${mac?.slice(0, -1)}A`)).toBe(mac?.endsWith("A") ?? false);
    expect(sessions.valid(new Sessions(TOKEN, () => now + 10 * 60_000).issue())).toBe(false);
    for (const junk of [undefined, "", "abc", `${issued}`, `${issued}.`, `x.${mac}`]) {
      expect(sessions.valid(junk)).toBe(false);
    }
  });

  it("derives a CSRF token per session and checks it in constant time", () => {
    let now = 1_800_000_000_000;
    const sessions = new Sessions(TOKEN, () => now);
    const a = sessions.issue();
    now += 1;
    const b = sessions.issue();
    expect(sessions.csrf(a)).not.toBe(sessions.csrf(b));
    expect(sessions.csrfMatches(a, sessions.csrf(a))).toBe(true);
    expect(sessions.csrfMatches(a, sessions.csrf(b))).toBe(false);
    expect(sessions.csrfMatches(a, undefined)).toBe(false);
    expect(sessions.csrfMatches(a, "")).toBe(false);
  });
});

describe("fromSameOrigin", () => {
  const host = "127.0.0.1:8081";
  it("accepts same-origin browsers and clients that say nothing", () => {
    expect(fromSameOrigin({ host, origin: `http://${host}`, secFetchSite: "same-origin" })).toBe(true);
    expect(fromSameOrigin({ host, origin: undefined, secFetchSite: undefined })).toBe(true);
  });
  it("refuses other sites, opaque origins and garbage", () => {
    expect(fromSameOrigin({ host, origin: "http://evil.example", secFetchSite: undefined })).toBe(false);
    expect(fromSameOrigin({ host, origin: `http://${host}`, secFetchSite: "cross-site" })).toBe(false);
    expect(fromSameOrigin({ host, origin: undefined, secFetchSite: "same-site" })).toBe(false);
    expect(fromSameOrigin({ host, origin: "null", secFetchSite: undefined })).toBe(false);
    expect(fromSameOrigin({ host: undefined, origin: `http://${host}`, secFetchSite: undefined })).toBe(
      false,
    );
  });
});

describe("LoginThrottle", () => {
  it("makes logins wait after too many failures, until the window passes", () => {
    let now = 0;
    const throttle = new LoginThrottle(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterSeconds()).toBe(0);
      throttle.failed();
    }
    expect(throttle.retryAfterSeconds()).toBe(60);
    now = 30_000;
    expect(throttle.retryAfterSeconds()).toBe(30);
    now = 60_000;
    expect(throttle.retryAfterSeconds()).toBe(0);
  });
});

describe("localPath", () => {
  it("keeps paths on this server and turns anything else into /", () => {
    expect(localPath("/deliveries?status=failed")).toBe("/deliveries?status=failed");
    for (const bad of [
      undefined,
      "",
      "https://evil.example/",
      "//evil.example",
      "/\\evil.example",
      "evil",
      "/ x",
    ]) {
      expect(localPath(bad)).toBe("/");
    }
  });
});
