// Delivery jobs run concurrently (a target's `concurrency`), and each writes its attempt twice:
// when it opens (before the request is sent) and when it closes. Calls made in the same turn
// of the event loop go to Postgres together, as one statement and one commit, instead of one
// round trip each. Each caller still waits for its own row to be written.
import {
  type AttemptResult,
  closeAttempt,
  closeAttempts,
  type Database,
  type OpenRequest,
  type OpenResult,
  openAttempt,
  openAttempts,
} from "@hookline/db";
import { CallBatcher } from "./call-batcher";

export interface AttemptWriter {
  open(request: OpenRequest): Promise<OpenResult>;
  close(result: AttemptResult): Promise<void>;
}

export function createAttemptWriter(pool: Database["pool"], maxInFlight = 4): AttemptWriter {
  const opens = new CallBatcher<OpenRequest, OpenResult>(
    (items) => openAttempts(pool, items),
    (r) => openAttempt(pool, r),
    64,
    maxInFlight,
  );
  const closes = new CallBatcher<AttemptResult, undefined>(
    async (items) => {
      await closeAttempts(pool, items);
      return items.map(() => undefined);
    },
    async (r) => {
      await closeAttempt(pool, r);
      return undefined;
    },
    64,
    maxInFlight,
  );
  return {
    open: (request) => opens.call(request),
    close: async (result) => {
      await closes.call(result);
    },
  };
}
