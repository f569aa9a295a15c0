import { describe, expect, it } from "vitest";
import { Batcher, type BatcherOptions } from "./batcher";

function recorder(fail: (items: readonly number[]) => boolean = () => false) {
  const writes: number[][] = [];
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const write = async (items: readonly number[]) => {
    writes.push([...items]);
    await gate;
    if (fail(items)) throw new Error("write refused");
    return items.map((n) => n * 10);
  };
  return {
    write,
    writes,
    hold: () => {
      gate = new Promise<void>((r) => {
        release = r;
      });
    },
    release: () => release(),
  };
}

const batcher = (r: ReturnType<typeof recorder>, extra: Partial<BatcherOptions<number, number>> = {}) =>
  new Batcher<number, number>({ write: r.write, maxItems: 4, maxInFlight: 1, ...extra });

describe("Batcher", () => {
  it("writes items added in the same turn together, and gives each caller its own result", async () => {
    const r = recorder();
    const b = batcher(r);
    expect(await Promise.all([b.call(1), b.call(2), b.call(3)])).toEqual([10, 20, 30]);
    expect(await b.call(4)).toBe(40);
    expect(r.writes).toEqual([[1, 2, 3], [4]]);
  });

  it("never settles a caller before the write carrying its item has settled", async () => {
    const r = recorder();
    r.hold();
    const b = batcher(r);
    let settled = false;
    const p = b.call(1).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.writes).toEqual([[1]]);
    expect(settled).toBe(false);
    r.release();
    await p;
    expect(settled).toBe(true);
  });

  it("groups what arrives while a write is in flight, and caps the batch by count and by bytes", async () => {
    const r = recorder();
    r.hold();
    const b = batcher(r);
    const first = b.call(0);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [1, 2, 3, 4, 5, 6].map((n) => b.call(n));
    // 1..4 reached maxItems and went at once; 5 and 6 wait for the write in flight.
    expect(r.writes).toEqual([[0], [1, 2, 3, 4]]);
    r.release();
    await Promise.all([first, ...rest]);
    expect(r.writes).toEqual([[0], [1, 2, 3, 4], [5, 6]]);

    const sized = recorder();
    const s = batcher(sized, { maxItems: 100, maxBytes: 10, sizeOf: (n) => n });
    await Promise.all([6, 5, 1].map((n) => s.call(n)));
    expect(sized.writes).toEqual([[6, 5], [1]]);
  });

  it("lets the first item linger for company when asked to", async () => {
    const r = recorder();
    const b = batcher(r, { lingerMs: 30 });
    const first = b.call(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = b.call(2);
    await Promise.all([first, second]);
    expect(r.writes).toEqual([[1, 2]]);
  });

  it("does not linger with a batch that already holds enoughItems", async () => {
    const r = recorder();
    // An hour of linger: only enoughItems can let this batch go within the test's time.
    const b = batcher(r, { maxItems: 64, lingerMs: 3_600_000, enoughItems: 3 });
    expect(await Promise.all([b.call(1), b.call(2), b.call(3)])).toEqual([10, 20, 30]);
    expect(r.writes).toEqual([[1, 2, 3]]);
    // One short of enough: it lingers (two turns pass with nothing written), then goes.
    const short = batcher(r, { maxItems: 64, lingerMs: 30, enoughItems: 3 });
    const both = Promise.all([short.call(4), short.call(5)]);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(r.writes).toEqual([[1, 2, 3]]);
    expect(await both).toEqual([40, 50]);
    expect(r.writes).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it("rejects every caller of a failed write by default", async () => {
    const r = recorder(() => true);
    const b = batcher(r);
    const results = await Promise.allSettled([b.call(1), b.call(2)]);
    expect(results.map((x) => x.status)).toEqual(["rejected", "rejected"]);
    expect(b.backlog).toEqual({ pending: 0, inFlight: 0 });
  });

  it("with isolateFailures, tries a failed batch item by item, so one bad item fails alone", async () => {
    const r = recorder((items) => items.includes(2));
    const b = batcher(r, { isolateFailures: true });
    const results = await Promise.allSettled([b.call(1), b.call(2), b.call(3)]);
    expect(results.map((x) => x.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(r.writes).toEqual([[1, 2, 3], [1], [2], [3]]);
  });
});
