// Where a newly recorded delivery goes. On the happy path the ingest worker makes the first
// attempt itself: the attempt is opened by the same statement that creates the delivery (see
// recordIngestedEvents) and the request is sent with no queue job at all, which saves a BullMQ
// job and a write per delivery (see inline-attempt.ts for when it is queued instead, and how a
// crash mid-request is recovered). A re-run of an ingest job queues what is still live. An
// ordered delivery is created held and goes nowhere here: ordering.ts releases it in its turn.
import {
  type DeliveryRef,
  fanoutDeliveryId,
  type IngestInput,
  type IngestOutcome,
  sentContent,
  TRANSFORM_ERROR,
} from "@hookline/db";
import type { Logger } from "@hookline/logger";
import type { FailedDelivery } from "./alerting";
import type { InlineAttempts, Reservation } from "./inline-attempt";

export interface FirstAttemptObserver {
  firstAttempts(targetId: string, path: "inline" | "queued" | "held", count: number): void;
  /** New events that no route delivers (kept, with no deliveries). */
  eventsUnrouted(sourceId: string, count: number): void;
}

export interface FirstAttemptDeps {
  readonly inline: InlineAttempts;
  /** Configured targets: a delivery to another is left to the reconciler. */
  readonly isConfigured: (targetId: string) => boolean;
  readonly observer?: FirstAttemptObserver;
  /** A delivery created failed (its route's transform failed): a delivery.failed alert. */
  readonly deliveryFailed?: (targetId: string, failed: FailedDelivery) => void;
}

/** First attempts planned for events about to be recorded. */
export interface PlannedBatch {
  /** The events, each carrying the first attempts to open with its deliveries. */
  readonly inputs: readonly IngestInput[];
  /**
   * After recording: sends the first attempts that were opened, gives back what was reserved
   * for events that turned out to be re-runs or duplicates, and queues every other live
   * delivery that is not held. Resolves once each is under way or queued.
   */
  settle(outcomes: readonly (IngestOutcome | Error)[], log: Logger): Promise<void>;
  /** Nothing was recorded: gives back everything reserved. */
  cancel(): void;
}

export interface FirstAttempts {
  plan(inputs: readonly IngestInput[]): Promise<PlannedBatch>;
}

type Path = "inline" | "queued" | "held";

export function createFirstAttempts(deps: FirstAttemptDeps): FirstAttempts {
  const { inline } = deps;
  return {
    async plan(inputs) {
      const reserved = new Map<string, { r: Reservation; input: IngestInput; n: number }>();
      const planned = await Promise.all(
        inputs.map(async (input): Promise<IngestInput> => {
          const firstAttempts = await Promise.all(
            input.targetIds.map(async (targetId, n) => {
              // An ordered delivery is created held: no attempt on the way in; nor is one whose
              // transform failed (it is created failed).
              if ((input.orderingKeys?.[n] ?? null) !== null) return null;
              const body = input.deliveryBodies?.[n];
              if (body && "failed" in body) return null;
              const r = await inline.reserve(targetId);
              if (!r) return null;
              reserved.set(fanoutDeliveryId(input.eventId, targetId), { r, input, n });
              return { attemptId: r.attemptId, leaseUntil: r.leaseUntil };
            }),
          );
          return firstAttempts.some((f) => f !== null) ? { ...input, firstAttempts } : input;
        }),
      );
      let settled = false;
      const cancel = () => {
        if (settled) return;
        settled = true;
        for (const { r } of reserved.values()) inline.giveBack(r);
      };
      return {
        inputs: planned,
        cancel,
        async settle(outcomes, log) {
          if (settled) throw new Error("first-attempt plan settled twice");
          settled = true;
          const queued: DeliveryRef[] = [];
          const unknown: string[] = [];
          const counts = new Map<string, Record<Path, number>>();
          const count = (targetId: string, path: Path) => {
            const c = counts.get(targetId) ?? { inline: 0, queued: 0, held: 0 };
            c[path]++;
            counts.set(targetId, c);
          };
          const unrouted = new Map<string, number>();
          for (const [i, outcome] of outcomes.entries()) {
            if (outcome instanceof Error || (outcome.kind !== "created" && outcome.kind !== "rerun"))
              continue;
            if (outcome.kind === "created" && outcome.deliveries.length === 0) {
              const sourceId = (planned[i] as IngestInput).sourceId;
              unrouted.set(sourceId, (unrouted.get(sourceId) ?? 0) + 1);
            }
            for (const delivery of outcome.deliveries) {
              const found = reserved.get(delivery.id);
              if (found && delivery.firstAttemptId === found.r.attemptId) {
                reserved.delete(delivery.id);
                count(delivery.targetId, "inline");
                const { input } = found;
                const transformed = input.deliveryBodies?.[found.n];
                const sent = sentContent(
                  input,
                  transformed && "sent" in transformed ? transformed.sent : null,
                );
                inline.start(
                  found.r,
                  delivery,
                  {
                    attemptId: found.r.attemptId,
                    attemptNumber: 1,
                    attemptInRun: 1,
                    eventId: input.eventId,
                    sourceId: input.sourceId,
                    eventType: input.eventType,
                    receivedAt: input.receivedAt,
                    contentType: sent.contentType,
                    body: sent.body,
                    traceparent: input.traceparent ?? null,
                  },
                  log,
                );
              } else if (delivery.status === "failed" && outcome.kind === "created") {
                deps.deliveryFailed?.(delivery.targetId, {
                  deliveryId: delivery.id,
                  eventId: (planned[i] as IngestInput).eventId,
                  reason: TRANSFORM_ERROR,
                });
              } else if (delivery.held) {
                if (outcome.kind === "created") count(delivery.targetId, "held");
              } else if (delivery.status === "pending" || delivery.status === "retrying") {
                if (!deps.isConfigured(delivery.targetId)) unknown.push(delivery.id);
                else {
                  queued.push(delivery);
                  if (outcome.kind === "created") count(delivery.targetId, "queued");
                }
              }
            }
          }
          for (const { r } of reserved.values()) inline.giveBack(r);
          // Routes only name configured targets; a re-run recorded under an older config may
          // not. The reconciler ends those as target_removed once a rolling deploy is done.
          if (unknown.length > 0)
            log.warn(
              { deliveries: unknown },
              "delivery's target is no longer configured; left to the reconciler",
            );
          for (const [sourceId, n] of unrouted) deps.observer?.eventsUnrouted(sourceId, n);
          for (const [targetId, c] of counts)
            for (const path of ["inline", "queued", "held"] as const)
              if (c[path] > 0) deps.observer?.firstAttempts(targetId, path, c[path]);
          await inline.enqueue(queued);
        },
      };
    },
  };
}
