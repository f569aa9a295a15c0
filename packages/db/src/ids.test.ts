import fc from "fast-check";
import { validate as uuidValidate, version as uuidVersion, v5 as uuidv5 } from "uuid";
import { describe, expect, it } from "vitest";
import { FANOUT_NAMESPACE, fanoutDeliveryId, newId, uuidv7Hex } from "./ids";

// Delivery ids are stored: the same (event, target) must give the same id in every release, or
// a re-run of an old ingest job would fan out again.
describe("fanoutDeliveryId", () => {
  it("is the uuid package's UUIDv5 of event/target, without dashes", () => {
    const reference = (eventId: string, targetId: string) =>
      `dlv_${uuidv5(`${eventId}/${targetId}`, FANOUT_NAMESPACE).replaceAll("-", "")}`;
    expect(fanoutDeliveryId("evt_0193b1f2c3d47e5f8a9b0c1d2e3f4a5b", "billing")).toBe(
      reference("evt_0193b1f2c3d47e5f8a9b0c1d2e3f4a5b", "billing"),
    );
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (eventId, targetId) => {
        expect(fanoutDeliveryId(eventId, targetId)).toBe(reference(eventId, targetId));
      }),
      { numRuns: 2_000 },
    );
  });

  it("gives the ids earlier releases stored", () => {
    expect(fanoutDeliveryId("evt_1", "t")).toBe("dlv_a096403cdc59580d8008170b8726a4ee");
    expect(fanoutDeliveryId("evt_0193b1f2c3d47e5f8a9b0c1d2e3f4a5b", "fraud-service")).toBe(
      "dlv_b3302152f5815dd9ba6df39a62e8257d",
    );
  });
});

const dashed = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

describe("newId", () => {
  it("is a UUIDv7 of now, with its prefix", () => {
    const before = Date.now();
    const ids = Array.from({ length: 5_000 }, () => newId("evt"));
    const after = Date.now();
    for (const id of ids) {
      expect(id).toMatch(/^evt_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
      const hex = id.slice(4);
      expect(uuidValidate(dashed(hex))).toBe(true);
      expect(uuidVersion(dashed(hex))).toBe(7);
      const ms = Number.parseInt(hex.slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after + 1);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("is strictly increasing, also past 4,096 ids in one millisecond", () => {
    const ms = Date.now();
    const ids = Array.from({ length: 10_000 }, () => uuidv7Hex(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Number.parseInt(ids[0]?.slice(0, 12) ?? "", 16)).toBe(ms);
    // The counter ran out within the ms: later ids borrowed the next ones.
    expect(Number.parseInt(ids[ids.length - 1]?.slice(0, 12) ?? "", 16)).toBeGreaterThan(ms);
  });
});
