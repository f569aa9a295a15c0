import { describe, expect, it } from "vitest";
import { INGEST_BATCH_MAX_EVENTS } from "./ingest-batch";
import { ingestSeq } from "./ingest-floor";

describe("acceptance order", () => {
  it("orders events by their job's number, then by their place in it", () => {
    const a = ingestSeq("41", INGEST_BATCH_MAX_EVENTS - 1) as bigint;
    const b = ingestSeq("42", 0) as bigint;
    const c = ingestSeq("42", 1) as bigint;
    expect(a < b && b < c).toBe(true);
    // Numbers beyond 2^53 stay exact.
    expect(ingestSeq("9007199254740993", 0)).toBe(9007199254740993n * 65536n);
  });
  it("has no place for a job BullMQ did not number", () => {
    for (const id of [undefined, "", "evt_1", "batch-evt_1", "01", "-1", "1.5", "12345678901234567"])
      expect(ingestSeq(id, 0)).toBeNull();
  });
});
