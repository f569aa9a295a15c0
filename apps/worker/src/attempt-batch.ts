// Delivery jobs run concurrently (a target's `concurrency`), and each writes its attempt twice:
// when it opens (before the request is sent) and when it closes. Calls made in the same turn
// of the event loop go to Postgres together, as one statement and one commit, instead of one
// round trip each. Each caller still waits for its own row to be written.
import { Batcher } from "@hookline/batch";
import {
  type AttemptResult,
  closeAttempts,
  type Database,
  type OpenRequest,
  type OpenResult,
  openAttempts,
} from "@hookline/db";

export interface AttemptWriter {
  open(request: OpenRequest): Promise<OpenResult>;
  close(result: AttemptResult): Promise<void>;
}

export function createAttemptWriter(pool: Database["pool"], maxInFlight = 4): AttemptWriter {
  const opens = new Batcher<OpenRequest, OpenResult>({
    write: (items) => openAttempts(pool, items),
    maxItems: 64,
    maxInFlight,
    isolateFailures: true,
  });
  const closes = new Batcher<AttemptResult, undefined>({
    write: async (items) => {
      await closeAttempts(pool, items);
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
