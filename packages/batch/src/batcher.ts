// Group commit, the one batching primitive of gateway and worker. Calls made while a write is
// being prepared (the same turn of the event loop, or `lingerMs`), or while earlier writes are in
// flight, go out together as one write: one Redis job for the gateway's accepted events, one
// statement and one commit for the worker's rows. Every caller's promise settles only after the
// write that carries its item has: a caller told "done" can rely on it.

export interface BatcherOptions<In, Out> {
  /** Writes the items in one go, all or none; resolves with one result per item, in order. */
  readonly write: (items: readonly In[]) => Promise<Out[]>;
  readonly maxItems: number;
  /** A batch is written as soon as its items' sizes reach this (with `sizeOf`). */
  readonly maxBytes?: number;
  readonly sizeOf?: (item: In) => number;
  /**
   * Writes allowed in flight at once. While they are, new items wait and go together in the
   * next write: under load batches grow by themselves.
   */
  readonly maxInFlight: number;
  /**
   * How long the first item of a batch waits for company when no write is under way (0: one
   * turn of the event loop). Items that waited for a write in flight go as soon as it is done.
   */
  readonly lingerMs?: number;
  /**
   * A batch that already holds this many items does not linger: it goes at the next turn of
   * the event loop. Lingering is for company, and a batch this large has it.
   */
  readonly enoughItems?: number;
  /**
   * A write that fails as a whole is tried again item by item (true), so one bad item fails
   * alone; otherwise (false, the default) every caller of the write gets its error.
   */
  readonly isolateFailures?: boolean;
}

interface Pending<In, Out> {
  readonly item: In;
  readonly resolve: (value: Out) => void;
  readonly reject: (error: unknown) => void;
}

export class Batcher<In, Out> {
  #pending: Pending<In, Out>[] = [];
  #bytes = 0;
  #inFlight = 0;
  #scheduled = false;
  /** The linger timer while one is set (a batch waiting for company). */
  #lingering: NodeJS.Timeout | null = null;

  constructor(private readonly options: BatcherOptions<In, Out>) {}

  call(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#bytes += this.options.sizeOf?.(item) ?? 0;
      if (
        this.#pending.length >= this.options.maxItems ||
        (this.options.maxBytes !== undefined && this.#bytes >= this.options.maxBytes)
      )
        this.#flush();
      else if (this.options.enoughItems !== undefined && this.#pending.length >= this.options.enoughItems)
        this.#schedule(0);
      else this.#schedule(this.options.lingerMs ?? 0);
    });
  }

  /** Items waiting for a write, and writes under way. */
  get backlog(): { readonly pending: number; readonly inFlight: number } {
    return { pending: this.#pending.length, inFlight: this.#inFlight };
  }

  #schedule(lingerMs = 0): void {
    if (this.#inFlight >= this.options.maxInFlight) return;
    if (this.#scheduled) {
      // Waiting for company that has come: go at the next turn instead.
      if (lingerMs > 0 || this.#lingering === null) return;
      clearTimeout(this.#lingering);
      this.#lingering = null;
    }
    this.#scheduled = true;
    const go = () => {
      this.#scheduled = false;
      this.#lingering = null;
      if (this.#inFlight < this.options.maxInFlight) this.#flush();
    };
    if (lingerMs > 0) this.#lingering = setTimeout(go, lingerMs);
    else setImmediate(go);
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#bytes = 0;
    this.#inFlight++;
    void this.#run(batch).finally(() => {
      this.#inFlight--;
      if (this.#pending.length > 0) this.#schedule();
    });
  }

  async #run(batch: Pending<In, Out>[]): Promise<void> {
    const write = async (items: readonly In[]) => {
      const results = await this.options.write(items);
      if (results.length !== items.length)
        throw new Error(`batch write returned ${results.length} results for ${items.length} items`);
      return results;
    };
    try {
      const results = await write(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        p.resolve(results[i] as Out);
      });
      return;
    } catch (error) {
      if (!this.options.isolateFailures || batch.length === 1) {
        for (const p of batch) p.reject(error);
        return;
      }
    }
    // One bad item must not fail the others: each on its own.
    await Promise.all(
      batch.map((p) =>
        write([p.item]).then(
          ([value]) => p.resolve(value as Out),
          (error: unknown) => p.reject(error),
        ),
      ),
    );
  }
}
