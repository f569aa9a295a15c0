import { closeAll, type Isolated, isolate } from "@hookline/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bullPrefix, configFingerprint, swapConfigFingerprint } from "../src/index";

let iso: Isolated;

beforeAll(async () => {
  iso = await isolate("fingerprint");
});
afterAll(() => closeAll(iso));

describe("config fingerprints", () => {
  it("hand each starting process the fingerprint the one before it left", async () => {
    const prefix = bullPrefix(iso.queuePrefix);
    const a = configFingerprint("targets: []\n");
    const b = configFingerprint("targets: [x]\n");
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(await swapConfigFingerprint(iso.redisUrl, prefix, a)).toBeNull();
    expect(await swapConfigFingerprint(iso.redisUrl, prefix, a)).toBe(a);
    expect(await swapConfigFingerprint(iso.redisUrl, prefix, b)).toBe(a);
    expect(await swapConfigFingerprint(iso.redisUrl, prefix, b)).toBe(b);
  });
});
