import { describe, expect, it } from "vitest";
import { Batcher, type BatchWriter } from "./batcher";

function recorder(fail = false) {
  const writes: number[][] = [];
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const writer: BatchWriter<number> = {
    one: async (item) => {
      writes.push([item]);
      await gate;
      if (fail) throw new Error("redis down");
    },
    many: async (items) => {
      writes.push([...items]);
      await gate;
      if (fail) throw new Error("redis down");
    },
  };
  return {
    writer,
    writes,
    hold: () => {
      gate = new Promise<void>((r) => {
        release = r;
      });
    },
    release: () => release(),
  };
}

const options = { maxItems: 4, maxBytes: 1_000, sizeOf: () => 1, maxInFlight: 1 };

describe("Batcher", () => {
  it("writes items added in the same turn together, and a lone item on its own", async () => {
    const r = recorder();
    const b = new Batcher(r.writer, options);
    await Promise.all([b.add(1), b.add(2), b.add(3)]);
    await b.add(4);
    expect(r.writes).toEqual([[1, 2, 3], [4]]);
  });

  it("never settles a caller before the write carrying its item has settled", async () => {
    const r = recorder();
    r.hold();
    const b = new Batcher(r.writer, options);
    let settled = false;
    const p = b.add(1).then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.writes).toEqual([[1]]);
    expect(settled).toBe(false);
    r.release();
    await p;
    expect(settled).toBe(true);
  });

  it("groups what arrives while a write is in flight, and caps the batch size", async () => {
    const r = recorder();
    r.hold();
    const b = new Batcher(r.writer, options);
    const first = b.add(0);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [1, 2, 3, 4, 5, 6].map((n) => b.add(n));
    // 1..4 reached maxItems and went at once; 5 and 6 wait for the write in flight.
    expect(r.writes).toEqual([[0], [1, 2, 3, 4]]);
    r.release();
    await Promise.all([first, ...rest]);
    expect(r.writes).toEqual([[0], [1, 2, 3, 4], [5, 6]]);
  });

  it("rejects every caller of a failed write", async () => {
    const r = recorder(true);
    const b = new Batcher(r.writer, options);
    const results = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(results.map((x) => x.status)).toEqual(["rejected", "rejected"]);
    expect(b.backlog).toEqual({ pending: 0, inFlight: 0 });
  });
});
