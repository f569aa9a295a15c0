import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bullPrefix, configFingerprint, swapConfigFingerprint } from "../src/index";

let iso: Isolated;
let redis: Redis;

beforeAll(async () => {
  iso = await isolate("fingerprint");
  redis = new Redis(iso.redisUrl);
});
afterAll(async () => {
  redis.disconnect();
  await closeAll(iso);
});

describe("config fingerprints", () => {
  it("hand each starting process the fingerprint the one before it left", async () => {
    const prefix = bullPrefix(iso.queuePrefix);
    const a = configFingerprint("targets: []\n");
    const b = configFingerprint("targets: [x]\n");
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(await swapConfigFingerprint(redis, prefix, a)).toBeNull();
    expect(await swapConfigFingerprint(redis, prefix, a)).toBe(a);
    expect(await swapConfigFingerprint(redis, prefix, b)).toBe(a);
    expect(await swapConfigFingerprint(redis, prefix, b)).toBe(b);
  });
});
