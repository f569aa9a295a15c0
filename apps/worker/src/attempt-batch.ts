// Delivery jobs run concurrently (a target's `concurrency`), and each writes its attempt twice:
// when it opens (before the request is sent) and when it closes. Calls made in the same turn
// of the event loop go to Postgres together, as one statement and one commit, instead of one
// round trip each. Each caller still waits for its own row to be written.
import { Batcher } from "@hookline/batch";
import {
  type AttemptResult,
  closeAttempts,
  type Database,
  type HeadCandidate,
  type OpenRequest,
  type OpenResult,
  openAttempts,
} from "@hookline/db";

export interface AttemptWriter {
  open(request: OpenRequest): Promise<OpenResult>;
  close(result: AttemptResult): Promise<void>;
}

export interface AttemptWriterOptions {
  readonly maxInFlight?: number;
  /** Held deliveries whose key's head a close just made final (per-key ordering). */
  readonly onHeads?: (heads: readonly HeadCandidate[]) => void;
}

export function createAttemptWriter(
  pool: Database["pool"],
  options: AttemptWriterOptions = {},
): AttemptWriter {
  const maxInFlight = options.maxInFlight ?? 4;
  const opens = new Batcher<OpenRequest, OpenResult>({
    write: (items) => openAttempts(pool, items),
    maxItems: 64,
    maxInFlight,
    isolateFailures: true,
  });
  const closes = new Batcher<AttemptResult, undefined>({
    write: async (items) => {
      const heads = await closeAttempts(pool, items);
      if (heads.length > 0) options.onHeads?.(heads);
      return items.map(() => undefined);
    },
    maxItems: 64,
    maxInFlight,
    isolateFailures: true,
  });
  return {
    open: (request) => opens.call(request),
    close: async (result) => {
      await closes.call(result);
    },
  };
}
