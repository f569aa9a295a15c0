// Group commit for the ingest queue. Requests whose bodies finish arriving in the same turn of
// the event loop are written to Redis together, as one job and one round trip, instead of one
// `queue.add` each. Every caller's promise settles only after the write that carries its item
// has settled, so a 202 still means the event is in Redis.

export interface BatchWriter<T> {
  /** Stores one item durably. */
  one(item: T): Promise<void>;
  /** Stores several items durably, all or none, in one write. */
  many(items: readonly T[]): Promise<void>;
}

export interface BatcherOptions<T> {
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly sizeOf: (item: T) => number;
  /**
   * Writes allowed in flight at once. While they are, new items wait and go together in the
   * next write: under load batches grow by themselves; when idle an item waits one turn.
   */
  readonly maxInFlight: number;
  /**
   * How long the first item of a batch waits for company when no write is under way (0: one
   * turn of the event loop). Items that waited for a write in flight go as soon as it is done.
   */
  readonly lingerMs?: number;
}

interface Pending<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class Batcher<T> {
  #pending: Pending<T>[] = [];
  #bytes = 0;
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly writer: BatchWriter<T>,
    private readonly options: BatcherOptions<T>,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#bytes += this.options.sizeOf(item);
      if (this.#pending.length >= this.options.maxItems || this.#bytes >= this.options.maxBytes)
        this.#flush();
      else this.#schedule(this.options.lingerMs ?? 0);
    });
  }

  /** Items waiting for a write, and writes under way. */
  get backlog(): { readonly pending: number; readonly inFlight: number } {
    return { pending: this.#pending.length, inFlight: this.#inFlight };
  }

  #schedule(lingerMs = 0): void {
    if (this.#scheduled || this.#inFlight >= this.options.maxInFlight) return;
    this.#scheduled = true;
    const go = () => {
      this.#scheduled = false;
      if (this.#inFlight < this.options.maxInFlight) this.#flush();
    };
    if (lingerMs > 0) setTimeout(go, lingerMs);
    else setImmediate(go);
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#bytes = 0;
    this.#inFlight++;
    let write: Promise<void>;
    try {
      write =
        batch.length === 1
          ? this.writer.one((batch[0] as Pending<T>).item)
          : this.writer.many(batch.map((p) => p.item));
    } catch (error) {
      write = Promise.reject(error);
    }
    write
      .then(
        () => {
          for (const p of batch) p.resolve();
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      )
      .finally(() => {
        this.#inFlight--;
        if (this.#pending.length > 0) this.#schedule();
      });
  }
}
