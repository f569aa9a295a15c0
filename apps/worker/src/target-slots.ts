// A target's `concurrency`, counted in one place for both ways a request to it starts: a
// delivery job waits for a slot; the ingest worker's first attempt takes one only when one is
// free and nobody is waiting, and otherwise queues the delivery.

export class TargetSlots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.#free = size;
  }

  get inUse(): number {
    return this.size - this.#free;
  }

  /** A slot now, or false; never jumps the queue of jobs already waiting. */
  tryAcquire(): boolean {
    if (this.#free === 0 || this.#waiting.length > 0) return false;
    this.#free--;
    return true;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free = Math.min(this.size, this.#free + 1);
  }
}
