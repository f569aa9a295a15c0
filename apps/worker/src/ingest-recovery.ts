// Recovery after an outage. An ingest job that fails (Postgres down, say) waits out a backoff
// that reaches 30 s before it is tried again, so without this the events accepted during an
// outage would be recorded, and their first attempts sent, up to half a minute after Postgres is
// back. Instead, the first ingest job that succeeds after one failed promotes every delayed
// ingest job: running an ingest job again is always safe (recording is idempotent), and the
// worker takes them at its ingest concurrency, as it takes any backlog. Delivery jobs are left to
// their backoff: most delayed ones are scheduled retries, which a promotion would only delay again.
import type { Logger } from "@hookline/logger";

/**
 * Promotions are this far apart at least: a job that fails every time for a reason that is not
 * an outage (so it is not set aside) is then tried again this often at most while others succeed,
 * instead of at every success.
 */
export const PROMOTE_INTERVAL_MS = 5_000;

export interface IngestRecoveryDeps {
  /** Moves the delayed jobs of every ingest queue to waiting. */
  readonly promote: () => Promise<void>;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Wraps the ingest processor: notes failures, and promotes on the first success after one. */
export function promotingAfterFailure<J>(
  process: (job: J) => Promise<void>,
  deps: IngestRecoveryDeps,
): (job: J) => Promise<void> {
  const now = deps.now ?? Date.now;
  let failedSincePromotion = false;
  let lastPromotion = Number.NEGATIVE_INFINITY;
  let promoting = false;
  return async (job) => {
    try {
      await process(job);
    } catch (error) {
      failedSincePromotion = true;
      throw error;
    }
    if (!failedSincePromotion || promoting || now() - lastPromotion < PROMOTE_INTERVAL_MS) return;
    failedSincePromotion = false;
    promoting = true;
    lastPromotion = now();
    deps.logger.info("an ingest job succeeded after others failed: their retries are due now");
    deps
      .promote()
      .catch((error: unknown) => {
        // They keep their backoff; the next success after a failure tries again.
        failedSincePromotion = true;
        deps.logger.warn({ err: error }, "delayed ingest jobs not promoted");
      })
      .finally(() => {
        promoting = false;
      });
  };
}
