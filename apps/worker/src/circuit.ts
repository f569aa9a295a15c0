export type CircuitState = "closed" | "open" | "half_open";

export interface CircuitSettings {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
}

export type CircuitChange = { readonly from: CircuitState; readonly to: CircuitState };

/**
 * A per-target circuit breaker. After `failureThreshold` consecutive failed attempts the
 * circuit opens: deliveries wait (they do not fail) until the cooldown has passed, then one
 * probe is let through; its success closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  #probeInFlight = false;

  constructor(
    private readonly settings: CircuitSettings,
    private readonly onChange: (change: CircuitChange) => void = () => {},
  ) {}

  get state(): CircuitState {
    return this.#state;
  }

  /** null: go ahead. A number: wait this many ms before trying again. */
  admit(now: number): number | null {
    if (this.#state === "closed") return null;
    if (this.#state === "open") {
      const remaining = this.#openedAt + this.settings.cooldownMs - now;
      if (remaining > 0) return remaining;
      this.#move("half_open");
    }
    if (this.#probeInFlight) return Math.max(100, Math.min(1_000, this.settings.cooldownMs));
    this.#probeInFlight = true;
    return null;
  }

  /** An admitted job that made no attempt (nothing left to do) gives its probe back. */
  release(): void {
    this.#probeInFlight = false;
  }

  record(success: boolean, now: number): void {
    this.#probeInFlight = false;
    if (success) {
      this.#failures = 0;
      if (this.#state !== "closed") this.#move("closed");
      return;
    }
    this.#failures++;
    if (this.#state === "half_open" || this.#failures >= this.settings.failureThreshold) {
      this.#openedAt = now;
      if (this.#state !== "open") this.#move("open");
    }
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    this.onChange({ from, to });
  }
}
