import { describe, expect, it } from "vitest";
import { bullPrefix, deliveryJobId, deliveryQueueName, infraBackoffMs } from "./catalog";

describe("queue catalog", () => {
  it("puts every queue in one Redis Cluster hash slot", () => {
    // BullMQ keys are `${prefix}:${queue}:...`; with `{p}` only "p" is hashed.
    expect(bullPrefix("hookline")).toBe("{hookline}");
    expect(`${bullPrefix("hookline")}:${deliveryQueueName("fraud")}:wait`).toMatch(/^\{hookline\}:/);
  });
  it("gives delivery runs distinct job ids without ':'", () => {
    expect(deliveryJobId("dlv_1", 1)).toBe("dlv_1");
    expect(deliveryJobId("dlv_1", 3)).toBe("dlv_1-r3");
    expect(deliveryJobId("dlv_1", 3)).not.toContain(":");
  });
  it("backs off infrastructure errors up to 30 s", () => {
    expect(infraBackoffMs(1, () => 0.5)).toBe(200);
    expect(infraBackoffMs(4, () => 0.5)).toBe(1_600);
    expect(infraBackoffMs(100, () => 0.5)).toBe(30_000);
    expect(infraBackoffMs(100, () => 1)).toBe(36_000);
  });
});
