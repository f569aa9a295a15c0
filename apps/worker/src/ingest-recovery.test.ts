import { createLogger } from "@hookline/logger";
import { describe, expect, it } from "vitest";
import { PROMOTE_INTERVAL_MS, promotingAfterFailure } from "./ingest-recovery";

const logger = createLogger({ level: "silent", name: "test" });

function setup(promoteFails = () => false) {
  let clock = 0;
  let promotions = 0;
  const process = promotingAfterFailure(
    async (ok: boolean) => {
      if (!ok) throw new Error("outage");
    },
    {
      promote: async () => {
        promotions++;
        if (promoteFails()) throw new Error("redis down");
      },
      logger,
      now: () => clock,
    },
  );
  const run = async (ok: boolean) => {
    await process(ok).catch(() => {});
    await new Promise((resolve) => setImmediate(resolve)); // the promotion runs in the background
  };
  return {
    run,
    promotions: () => promotions,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe("promotingAfterFailure", () => {
  it("promotes on the first success after a failure, not on successes alone", async () => {
    const s = setup();
    await s.run(true);
    await s.run(true);
    expect(s.promotions()).toBe(0);
    await s.run(false);
    await s.run(false);
    expect(s.promotions()).toBe(0);
    await s.run(true);
    await s.run(true);
    expect(s.promotions()).toBe(1);
  });

  it("promotes again after another failure, at most once per interval", async () => {
    const s = setup();
    await s.run(false);
    await s.run(true);
    s.advance(PROMOTE_INTERVAL_MS - 1);
    await s.run(false);
    await s.run(true);
    expect(s.promotions()).toBe(1);
    s.advance(1);
    await s.run(true); // the failure above is still owed a promotion
    expect(s.promotions()).toBe(2);
  });

  it("tries again at a later success when a promotion fails", async () => {
    let fail = true;
    const s = setup(() => fail);
    await s.run(false);
    await s.run(true);
    expect(s.promotions()).toBe(1);
    fail = false;
    s.advance(PROMOTE_INTERVAL_MS);
    await s.run(true);
    expect(s.promotions()).toBe(2);
  });

  it("passes a failure on to BullMQ as it was", async () => {
    const process = promotingAfterFailure(
      async () => {
        throw new Error("outage");
      },
      { promote: async () => {}, logger },
    );
    await expect(process(undefined)).rejects.toThrow("outage");
  });
});
