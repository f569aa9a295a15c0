// Calls made in the same turn of the event loop, by concurrently running jobs, are sent to
// Postgres together (one statement or transaction, one commit) instead of one round trip
// each. Every caller still waits for the write that carries its own item.

interface Waiting<In, Out> {
  readonly item: In;
  readonly resolve: (value: Out) => void;
  readonly reject: (error: unknown) => void;
}

export class CallBatcher<In, Out> {
  #pending: Waiting<In, Out>[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly many: (items: readonly In[]) => Promise<Out[]>,
    /** Used for each call of a batch that failed as a whole. */
    private readonly one: (item: In) => Promise<Out>,
    private readonly maxItems: number,
    private readonly maxInFlight: number,
  ) {}

  call(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length >= this.maxItems) this.#flush();
      else this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.maxInFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#inFlight < this.maxInFlight) this.#flush();
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#inFlight++;
    void this.#run(batch).finally(() => {
      this.#inFlight--;
      if (this.#pending.length > 0) this.#schedule();
    });
  }

  async #run(batch: Waiting<In, Out>[]): Promise<void> {
    // Even a lone call goes through `many`: its statements are prepared once per connection.
    try {
      const results = await this.many(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        w.resolve(results[i] as Out);
      });
      return;
    } catch (error) {
      if (batch.length === 1) {
        (batch[0] as Waiting<In, Out>).reject(error);
        return;
      }
      // One bad row must not fail the others: fall back to one call each.
    }
    await Promise.all(
      batch.map((w) =>
        this.one(w.item).then(
          (value) => w.resolve(value),
          (error: unknown) => w.reject(error),
        ),
      ),
    );
  }
}
