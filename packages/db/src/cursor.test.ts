import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "./cursor";

describe("page cursors", () => {
  it("round-trip a microsecond timestamp and an id", () => {
    const cursor = { at: "2026-05-29T18:30:00.123456Z", id: "evt_0193abc" };
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
  });

  it("are opaque: no timestamp or id in clear", () => {
    const text = encodeCursor({ at: "2026-05-29T18:30:00.000000Z", id: "dlv_x" });
    expect(text).not.toContain("dlv_x");
    expect(text).not.toContain("2026");
  });

  it.each([
    ["empty", ""],
    ["not base64url", "abc+/="],
    ["not JSON", Buffer.from("hello").toString("base64url")],
    ["JSON but not an object", Buffer.from("42").toString("base64url")],
    ["missing id", Buffer.from(JSON.stringify({ t: "2026-05-29T18:30:00Z" })).toString("base64url")],
    ["bad timestamp", Buffer.from(JSON.stringify({ t: "yesterday", i: "evt_1" })).toString("base64url")],
    [
      "impossible date",
      Buffer.from(JSON.stringify({ t: "2026-13-45T99:99:99Z", i: "evt_1" })).toString("base64url"),
    ],
    [
      "id with SQL in it",
      Buffer.from(JSON.stringify({ t: "2026-05-29T18:30:00Z", i: "x' or 1=1 --" })).toString("base64url"),
    ],
    ["too long", "a".repeat(600)],
  ])("reject %s", (_label, text) => {
    expect(decodeCursor(text)).toBeNull();
  });
});
