/** What a test file opens in beforeAll: a server, pool, queue or stack, or its isolation. */
export type Closable = { close(): Promise<unknown> } | { cleanup(): Promise<unknown> };

/**
 * For afterAll: closes (or, for an isolation, cleans up) each in the order given, one after the
 * other, and skips what beforeAll never got to open.
 */
export async function closeAll(...things: ReadonlyArray<Closable | null | undefined>): Promise<void> {
  for (const thing of things) {
    if (!thing) continue;
    if ("close" in thing) await thing.close();
    else await thing.cleanup();
  }
}
