import { describe, expect, it } from "vitest";
import { CallBatcher } from "./call-batcher";

describe("CallBatcher", () => {
  it("sends calls made in one turn together and gives each caller its own result", async () => {
    const batches: number[][] = [];
    const b = new CallBatcher<number, number>(
      async (items) => {
        batches.push([...items]);
        return items.map((n) => n * 10);
      },
      async (n) => {
        batches.push([n]);
        return n * 10;
      },
      64,
      1,
    );
    expect(await Promise.all([b.call(1), b.call(2), b.call(3)])).toEqual([10, 20, 30]);
    expect(await b.call(4)).toBe(40);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it("falls back to one call each when a batch fails, so one bad item fails alone", async () => {
    const b = new CallBatcher<number, number>(
      async () => {
        throw new Error("batch refused");
      },
      async (n) => {
        if (n === 2) throw new Error("bad row");
        return n;
      },
      64,
      1,
    );
    const results = await Promise.allSettled([b.call(1), b.call(2), b.call(3)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });
});
