import fc from "fast-check";
import { v5 as uuidv5 } from "uuid";
import { describe, expect, it } from "vitest";
import { FANOUT_NAMESPACE, fanoutDeliveryId } from "./ids";

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
