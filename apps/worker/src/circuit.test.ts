import { describe, expect, it } from "vitest";
import { type Admission, CircuitBreaker, type CircuitTicket } from "./circuit";

const ticketOf = (a: Admission): CircuitTicket => {
  if (!("ticket" in a)) throw new Error(`expected a ticket, got a wait of ${a.wait} ms`);
  return a.ticket;
};

describe("CircuitBreaker", () => {
  const settings = { failureThreshold: 2, cooldownMs: 1_000 };

  /** A breaker that opened at t=0 and whose cooldown has passed at t=1000. */
  function opened() {
    const changes: string[] = [];
    const breaker = new CircuitBreaker(settings, ({ to }) => changes.push(to));
    const late = ticketOf(breaker.admit(0)); // admitted while closed, still in flight
    for (let i = 0; i < 2; i++) breaker.record(ticketOf(breaker.admit(0)), false, 0);
    expect(breaker.state).toBe("open");
    return { breaker, late, changes };
  }

  it("opens after the threshold, makes jobs wait out the cooldown, then lets one probe through", () => {
    const { breaker } = opened();
    expect(breaker.admit(500)).toEqual({ wait: 500 });
    const probe = ticketOf(breaker.admit(1_000));
    expect(probe.probe).toBe(true);
    expect(breaker.state).toBe("half_open");
    expect("wait" in breaker.admit(1_001)).toBe(true);
    breaker.record(probe, true, 1_002);
    expect(breaker.state).toBe("closed");
  });

  it("a job admitted while closed cannot clear the probe or decide the half-open state", () => {
    const { breaker, late } = opened();
    const probe = ticketOf(breaker.admit(1_000));
    breaker.record(late, true, 1_001); // a success that says nothing of the target now
    expect(breaker.state).toBe("half_open");
    breaker.release(late);
    expect("wait" in breaker.admit(1_002)).toBe(true); // the probe is still out: no second one
    breaker.record(probe, false, 1_003);
    expect(breaker.state).toBe("open");
  });

  it("a late failure from before the opening does not re-open or free a second probe, however long the probe takes", () => {
    const { breaker, late, changes } = opened();
    const probe = ticketOf(breaker.admit(1_000));
    // The probe outlives the cooldown (a target timeout longer than it).
    breaker.record(late, false, 1_500);
    expect(breaker.state).toBe("half_open");
    expect("wait" in breaker.admit(2_600)).toBe(true);
    expect("wait" in breaker.admit(5_000)).toBe(true);
    breaker.release(probe); // the probe made no attempt after all: the next job probes
    expect(ticketOf(breaker.admit(5_001)).probe).toBe(true);
    expect(changes).toEqual(["open", "half_open"]);
  });

  it("counts ordinary failures only while closed, and a success resets the count", () => {
    const breaker = new CircuitBreaker(settings);
    breaker.record(ticketOf(breaker.admit(0)), false, 0);
    breaker.record(ticketOf(breaker.admit(0)), true, 0);
    breaker.record(ticketOf(breaker.admit(0)), false, 0);
    expect(breaker.state).toBe("closed");
  });
});
