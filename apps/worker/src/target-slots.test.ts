import { describe, expect, it } from "vitest";
import { TargetSlots } from "./target-slots";

describe("TargetSlots", () => {
  it("hands out at most `size` slots and gives freed ones to waiters first come, first served", async () => {
    const slots = new TargetSlots(2);
    expect(slots.tryAcquire()).toBe(true);
    expect(await slots.acquire()).toBe(true);
    expect(slots.tryAcquire()).toBe(false);
    const order: string[] = [];
    const a = slots.acquire().then(() => order.push("a"));
    const b = slots.acquire().then(() => order.push("b"));
    slots.release();
    slots.release();
    await Promise.all([a, b]);
    expect(order).toEqual(["a", "b"]);
    expect(slots.inUse).toBe(2);
  });

  it("never lets tryAcquire jump the queue of waiters", async () => {
    const slots = new TargetSlots(1);
    slots.tryAcquire();
    const waiting = slots.acquire();
    slots.release(); // goes to the waiter, not to the next tryAcquire
    expect(slots.tryAcquire()).toBe(false);
    expect(await waiting).toBe(true);
  });

  it("gives up a wait after its timeout and forgets the waiter", async () => {
    const slots = new TargetSlots(1);
    slots.tryAcquire();
    expect(await slots.acquire(20)).toBe(false);
    slots.release();
    // The timed-out waiter did not swallow the slot.
    expect(slots.inUse).toBe(0);
    expect(slots.tryAcquire()).toBe(true);
  });

  it("gives a slot back once through releaseOnce, however often it is called", () => {
    const slots = new TargetSlots(2);
    slots.tryAcquire();
    slots.tryAcquire();
    const free = slots.releaseOnce();
    free();
    free();
    expect(slots.inUse).toBe(1);
  });
});
