// A target's `concurrency`, counted in one place for both ways a request to it starts: a
// delivery job waits for a slot as long as it takes; the ingest worker's first attempt waits a
// short while at most (see first-attempt.ts), and otherwise queues the delivery.

interface Waiter {
  readonly grant: () => void;
}

export class TargetSlots {
  #free: number;
  readonly #waiting: Waiter[] = [];

  constructor(readonly size: number) {
    this.#free = size;
  }

  get inUse(): number {
    return this.size - this.#free;
  }

  /** A slot now, or false; never jumps the queue of callers already waiting. */
  tryAcquire(): boolean {
    if (this.#free === 0 || this.#waiting.length > 0) return false;
    this.#free--;
    return true;
  }

  /** Waits for a slot, first come first served; with `timeoutMs`, gives up after it (false). */
  acquire(timeoutMs?: number): Promise<boolean> {
    if (this.tryAcquire()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        grant: () => {
          if (timer) clearTimeout(timer);
          resolve(true);
        },
      };
      this.#waiting.push(waiter);
      if (timeoutMs !== undefined)
        timer = setTimeout(() => {
          const at = this.#waiting.indexOf(waiter);
          if (at >= 0) this.#waiting.splice(at, 1);
          resolve(false);
        }, timeoutMs);
    });
  }

  /**
   * A release for a slot just acquired that takes effect once, however often it is called: the
   * slot goes back as soon as the target has answered (a slot counts requests in flight, not
   * the write of their outcome after), and the caller's `finally` may call it again.
   */
  releaseOnce(): () => void {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.release();
    };
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next.grant();
    else this.#free = Math.min(this.size, this.#free + 1);
  }
}
