import { describe, expect, it } from "vitest";
import { CircuitBreaker, type CircuitChange } from "./circuit";

describe("CircuitBreaker", () => {
  it("opens after N consecutive failures, waits, probes once, and closes on success", () => {
    const changes: CircuitChange[] = [];
    const c = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1_000 }, (ch) => changes.push(ch));
    expect(c.admit(0)).toBeNull();
    c.record(false, 0);
    c.record(false, 0);
    expect(c.state).toBe("closed");
    c.record(false, 100);
    expect(c.state).toBe("open");
    expect(c.admit(600)).toBe(500);
    expect(c.admit(1_100)).toBeNull(); // the probe
    expect(c.state).toBe("half_open");
    expect(c.admit(1_100)).not.toBeNull(); // only one probe at a time
    c.record(true, 1_200);
    expect(c.state).toBe("closed");
    expect(changes.map((ch) => ch.to)).toEqual(["open", "half_open", "closed"]);
  });
  it("re-opens when the probe fails", () => {
    const c = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1_000 });
    c.record(false, 0);
    expect(c.admit(1_000)).toBeNull();
    c.record(false, 1_000);
    expect(c.state).toBe("open");
    expect(c.admit(1_500)).toBe(500);
  });
  it("a success resets the count of consecutive failures", () => {
    const c = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000 });
    c.record(false, 0);
    c.record(true, 0);
    c.record(false, 0);
    expect(c.state).toBe("closed");
  });
  it("gives back a probe that made no attempt", () => {
    const c = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10 });
    c.record(false, 0);
    expect(c.admit(10)).toBeNull();
    c.release();
    expect(c.admit(10)).toBeNull();
  });
});
