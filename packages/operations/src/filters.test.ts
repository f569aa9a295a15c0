import { encodeCursor } from "@hookline/db";
import { describe, expect, it } from "vitest";
import {
  parseAuditParams,
  parseDeliveryListParams,
  parseEventParams,
  parseStatuses,
  parseTimeFilter,
} from "./filters";

const NOW = Date.parse("2026-05-29T18:30:00.000Z");

describe("time filters", () => {
  it("read a duration as that long before now", () => {
    expect(parseTimeFilter("2h", NOW)?.toISOString()).toBe("2026-05-29T16:30:00.000Z");
    expect(parseTimeFilter("1h30m", NOW)?.toISOString()).toBe("2026-05-29T17:00:00.000Z");
  });

  it("read ISO-8601 dates and times", () => {
    expect(parseTimeFilter("2026-05-01", NOW)?.toISOString()).toBe("2026-05-01T00:00:00.000Z");
    expect(parseTimeFilter("2026-05-29T18:00:00Z", NOW)?.toISOString()).toBe("2026-05-29T18:00:00.000Z");
    expect(parseTimeFilter("2026-05-29T20:00:00+02:00", NOW)?.toISOString()).toBe("2026-05-29T18:00:00.000Z");
  });

  it("refuse anything else", () => {
    for (const bad of ["", "yesterday", "2 hours", "12345", "2026-13-01"]) {
      expect(parseTimeFilter(bad, NOW)).toBeNull();
    }
  });
});

describe("list parameters", () => {
  it("parse event filters", () => {
    const parsed = parseEventParams({ source: "clausum", since: "1h", limit: "10", provider_id: "p1" }, NOW);
    expect(parsed).toEqual({
      ok: true,
      value: { source: "clausum", providerId: "p1", since: new Date(NOW - 3_600_000), limit: 10 },
    });
  });

  it("name the parameter that is wrong", () => {
    const bad = parseEventParams({ since: "last week" }, NOW);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/^since: /);
    const limit = parseDeliveryListParams({ limit: "1000" }, NOW);
    expect(limit.ok === false && limit.code).toBe("invalid_parameter");
    const cursor = parseDeliveryListParams({ cursor: "nope" }, NOW);
    expect(cursor.ok === false && cursor.code).toBe("invalid_cursor");
  });

  it("parse statuses, comma-separated, and accept cursors they gave out", () => {
    expect(parseStatuses("failed,retrying,failed")).toEqual(["failed", "retrying"]);
    expect(parseStatuses("failed,lost")).toBeNull();
    const c = encodeCursor({ at: "2026-05-29T18:30:00.000001Z", id: "dlv_1" });
    const parsed = parseDeliveryListParams({ status: "failed", target: "t", event: "evt_1", cursor: c }, NOW);
    expect(parsed).toEqual({
      ok: true,
      value: { status: ["failed"], target: "t", eventId: "evt_1", cursor: c },
    });
  });
});

describe("a refused text stops there", () => {
  it("a control character in a time, a limit, a cursor, a status or an action is a 400, not a crash", () => {
    for (const name of ["since", "until", "limit", "cursor", "status", "source"]) {
      const parsed = parseEventParams({ [name]: "\u0000" }, NOW);
      expect(parsed, name).toEqual({
        ok: false,
        code: "invalid_parameter",
        message: `${name}: holds a control character`,
      });
    }
    expect(parseAuditParams({ action: "x\u0000" }, NOW)).toMatchObject({
      ok: false,
      code: "invalid_parameter",
    });
  });
});
