// Pause and resume, as every worker process applies them. The state lives in Postgres
// (target_states); each worker reads it every `intervalMs` and makes each target's BullMQ queue
// match it (paused queues hand out no job, and their due retries wait in the paused list), so a
// pause takes hold in every process within a second, survives restarts, and holds even if the
// admin's own queue write failed. First attempts ask `isPaused` before going inline.
import { type Database, targetStates } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import type { DeliveryJob } from "@hookline/queue";
import type { Queue } from "bullmq";
import { runEvery } from "./periodic";

export interface TargetControl {
  isPaused(targetId: string): boolean;
  /** Reads the state and applies it now (at start, and in tests). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface TargetControlDeps {
  readonly pool: Database["pool"];
  /** Each configured target's queue, by target id. */
  readonly queues: ReadonlyMap<string, Queue<DeliveryJob>>;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly onPaused?: (targetId: string, paused: boolean) => void;
}

export function createTargetControl(deps: TargetControlDeps): TargetControl {
  const paused = new Set<string>();
  // Until the state has been read once, no target is known not to be paused: first attempts go
  // to the queues, whose own pause state (kept in Redis) the delivery jobs obey.
  let known = false;

  const sync = async () => {
    const states = await targetStates(deps.pool);
    // This process's own decisions first, for every target, so that Redis failing below cannot
    // leave a paused target open to first attempts.
    for (const targetId of deps.queues.keys()) {
      const want = states.get(targetId)?.paused ?? false;
      if (want !== paused.has(targetId)) {
        if (want) paused.add(targetId);
        else paused.delete(targetId);
        deps.logger.info({ target: targetId }, want ? "target paused: deliveries wait" : "target resumed");
      }
      deps.onPaused?.(targetId, want);
    }
    known = true;
    // Then the queues, which every process's delivery jobs obey.
    for (const [targetId, queue] of deps.queues) {
      const want = paused.has(targetId);
      if ((await queue.isPaused()) !== want) await (want ? queue.pause() : queue.resume());
    }
  };

  const periodic = runEvery(deps.intervalMs, sync, (error) =>
    deps.logger.warn({ err: error }, "target state not read; keeping the last one known"),
  );
  return {
    isPaused: (targetId) => !known || paused.has(targetId),
    sync,
    close: periodic.close,
  };
}
