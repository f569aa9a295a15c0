import { describe, expect, it } from "vitest";
import { formatTable, shortTime, truncate } from "./table";

describe("formatTable", () => {
  it("aligns columns to the widest cell, numbers to the right", () => {
    const text = formatTable(
      [{ header: "ID" }, { header: "STATUS" }, { header: "ATTEMPTS", align: "right" }],
      [
        ["dlv_1", "failed", "4"],
        ["dlv_22", "succeeded", "12"],
      ],
    );
    expect(text.split("\n")).toEqual([
      "ID      STATUS     ATTEMPTS",
      "dlv_1   failed            4",
      "dlv_22  succeeded        12",
    ]);
  });

  it("cuts long cells, flattens newlines and leaves no trailing spaces", () => {
    const text = formatTable(
      [{ header: "A" }, { header: "ERROR", max: 10 }],
      [["x", "line one\nline two is long"]],
    );
    expect(text.split("\n")).toEqual(["A  ERROR", "x  line one…"]);
    expect(text).not.toMatch(/ $/m);
  });

  it("prints only the header for no rows", () => {
    expect(formatTable([{ header: "ID" }, { header: "TYPE" }], [])).toBe("ID  TYPE");
  });
});

describe("helpers", () => {
  it("truncate counts characters, not bytes", () => {
    expect(truncate("héllo wörld", 5)).toBe("héll…");
    expect(truncate("short", 10)).toBe("short");
  });

  it("shortTime prints UTC to the second", () => {
    expect(shortTime("2026-05-29T18:30:00.123Z")).toBe("2026-05-29 18:30:00");
    expect(shortTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe("2026-01-02 03:04:05");
    expect(shortTime(null)).toBe("-");
  });
});
