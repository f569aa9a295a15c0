import { describe, expect, it } from "vitest";
import {
  bullPrefix,
  deliveryJobId,
  deliveryQueueName,
  infraBackoffMs,
  ingestQueueNames,
  queueKeys,
} from "./catalog";

describe("queue catalog", () => {
  it("keeps every queue under `{prefix}` on a single Redis, as before shards", () => {
    // BullMQ keys are `${prefix}:${queue}:...`; with `{p}` only "p" is hashed.
    const keys = queueKeys("hookline", "one-slot");
    expect(bullPrefix("hookline")).toBe("{hookline}");
    expect(keys.prefix(deliveryQueueName("fraud"))).toBe("{hookline}");
    expect(keys.prefix("ingest")).toBe("{hookline}");
    expect(keys.own("config-fingerprint")).toBe("{hookline}:config-fingerprint");
  });
  it("gives each queue its own hash tag on a cluster", () => {
    const keys = queueKeys("hookline", "slot-per-queue");
    expect(keys.prefix(deliveryQueueName("fraud"))).toBe("{hookline:deliver-fraud}");
    expect(ingestQueueNames(3).map((q) => keys.prefix(q))).toEqual([
      "{hookline:ingest}",
      "{hookline:ingest-1}",
      "{hookline:ingest-2}",
    ]);
    expect(keys.own("ingest-shards")).toBe("{hookline}:ingest-shards");
  });
  it("keeps the name `ingest` for shard 0", () => {
    expect(ingestQueueNames(1)).toEqual(["ingest"]);
    expect(ingestQueueNames(0)).toEqual(["ingest"]);
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
