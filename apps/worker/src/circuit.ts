export type CircuitState = "closed" | "open" | "half_open";

export interface CircuitSettings {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
}

export type CircuitChange = { readonly from: CircuitState; readonly to: CircuitState };

/**
 * What `admit` hands a job that may go ahead. Only the holder of the probe ticket decides the
 * half-open state; a job admitted while the circuit was closed reports as an ordinary attempt.
 */
export interface CircuitTicket {
  readonly probe: boolean;
}

/** `wait`: ms to wait before trying again; or a ticket to go ahead with. */
export type Admission = { readonly wait: number } | { readonly ticket: CircuitTicket };

const ORDINARY: CircuitTicket = Object.freeze({ probe: false });

/**
 * A per-target circuit breaker. After `failureThreshold` consecutive failed attempts the
 * circuit opens: deliveries wait (they do not fail) until the cooldown has passed, then one
 * probe is let through; its success closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  /** The one probe out while half-open; compared by identity, so no other job can stand in for it. */
  #probe: CircuitTicket | null = null;

  constructor(
    private readonly settings: CircuitSettings,
    private readonly onChange: (change: CircuitChange) => void = () => {},
  ) {}

  get state(): CircuitState {
    return this.#state;
  }

  admit(now: number): Admission {
    if (this.#state === "closed") return { ticket: ORDINARY };
    if (this.#state === "open") {
      const remaining = this.#openedAt + this.settings.cooldownMs - now;
      if (remaining > 0) return { wait: remaining };
      this.#move("half_open");
    }
    if (this.#probe) return { wait: Math.max(100, Math.min(1_000, this.settings.cooldownMs)) };
    this.#probe = { probe: true };
    return { ticket: this.#probe };
  }

  /** An admitted job that made no attempt (nothing left to do, or Postgres failed) hands its ticket back. */
  release(ticket: CircuitTicket): void {
    if (ticket === this.#probe) this.#probe = null;
  }

  record(ticket: CircuitTicket, success: boolean, now: number): void {
    const isProbe = ticket === this.#probe;
    if (isProbe) this.#probe = null;
    // Once the circuit has left `closed`, only its probe speaks for the target: a job admitted
    // before it opened finishing late must neither close it nor re-open it.
    if (this.#state !== "closed" && !isProbe) return;
    if (success) {
      this.#failures = 0;
      if (this.#state !== "closed") this.#move("closed");
      return;
    }
    this.#failures++;
    if (isProbe || this.#failures >= this.settings.failureThreshold) {
      this.#openedAt = now;
      this.#move("open");
    }
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.onChange({ from, to });
  }
}
