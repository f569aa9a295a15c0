// Recovery after an outage. A job that fails (Postgres down, say) waits out a backoff that
// reaches 30 s before BullMQ tries it again, so without this the events accepted during an
// outage would be recorded, and the deliveries it interrupted resumed, each up to half a minute
// after Postgres is back. Instead, the first job that succeeds after others failed makes them
// due at once: every delayed ingest job (an ingest job is delayed only by a failure, and running
// one again is always safe), and the delivery jobs that failed in this process (a delayed
// delivery job is most often a scheduled retry, which must keep its time). The worker then takes
// them at its usual concurrency, as it takes any backlog.
import type { Logger } from "@hookline/logger";
import { DelayedError, RateLimitError, WaitingChildrenError, WaitingError } from "bullmq";

/**
 * Promotions are this far apart at least: a job that fails every time for a reason that is not
 * an outage (so it is not set aside) is then tried again this often at most while others succeed,
 * instead of at every success.
 */
export const PROMOTE_INTERVAL_MS = 5_000;
/** Failed jobs remembered for promotion, at most; beyond it they keep their backoff. */
export const MAX_REMEMBERED = 10_000;

/** The job ids that failed since the last promotion, by queue name. */
export type FailedJobs = ReadonlyMap<string, ReadonlySet<string>>;

export interface OutageRecoveryDeps {
  /** Makes the failed jobs due now (and every delayed ingest job). */
  readonly promote: (failed: FailedJobs) => Promise<void>;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface OutageRecovery {
  /** The processor, with its failures noted and its successes ending an outage. */
  watch<J extends { readonly queueName: string; readonly id?: string | undefined }, T extends unknown[]>(
    process: (job: J, ...rest: T) => Promise<void>,
  ): (job: J, ...rest: T) => Promise<void>;
}

/** BullMQ's errors for a job put back on purpose (delayed, rate limited, waiting): not failures. */
const putBack = (error: unknown) =>
  error instanceof DelayedError ||
  error instanceof RateLimitError ||
  error instanceof WaitingChildrenError ||
  error instanceof WaitingError;

export function createOutageRecovery(deps: OutageRecoveryDeps): OutageRecovery {
  const now = deps.now ?? Date.now;
  let failed = new Map<string, Set<string>>();
  const remembered = () => [...failed.values()].reduce((n, ids) => n + ids.size, 0);
  let failedSincePromotion = false;
  let lastPromotion = Number.NEGATIVE_INFINITY;
  let promoting = false;

  const remember = (queueName: string, id: string | undefined) => {
    failedSincePromotion = true;
    if (id === undefined || remembered() >= MAX_REMEMBERED) return;
    failed.set(queueName, (failed.get(queueName) ?? new Set<string>()).add(id));
  };

  const succeeded = () => {
    if (!failedSincePromotion || promoting || now() - lastPromotion < PROMOTE_INTERVAL_MS) return;
    deps.logger.info(
      { jobs: remembered() },
      "a job succeeded after others failed: their retries are due now",
    );
    const due = failed;
    failed = new Map();
    failedSincePromotion = false;
    promoting = true;
    lastPromotion = now();
    deps
      .promote(due)
      .catch((error: unknown) => {
        // They keep their backoff; the next success tries again (the delayed ingest jobs too,
        // even when no job id was remembered).
        failedSincePromotion = true;
        for (const [queueName, ids] of due) for (const id of ids) remember(queueName, id);
        deps.logger.warn({ err: error }, "failed jobs not made due");
      })
      .finally(() => {
        promoting = false;
      });
  };

  return {
    watch:
      (process) =>
      async (job, ...rest) => {
        try {
          await process(job, ...rest);
        } catch (error) {
          if (!putBack(error)) remember(job.queueName, job.id);
          throw error;
        }
        succeeded();
      },
  };
}
