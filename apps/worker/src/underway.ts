// Work started in the background (an inline attempt, an ordered delivery's release) that close()
// must wait for before it closes the connections that work uses.
export class Underway {
  readonly #running = new Set<Promise<unknown>>();

  /** Tracks `work` until it settles. */
  add(work: Promise<unknown>): void {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }

  /** Resolves once everything tracked, including what it started meanwhile, has settled. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
