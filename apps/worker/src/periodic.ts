// A task a worker runs on an interval (reconciler sweeps, pause-state reads, backlog checks):
// one run at a time in a process, a run that fails is reported and the next tick tries again,
// and close() waits for the run in hand, so nothing it uses is closed under it.

export interface Periodic {
  close(): Promise<void>;
}

export function runEvery(
  intervalMs: number,
  task: () => Promise<unknown>,
  onError: (error: unknown) => void,
): Periodic {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = task()
      .catch(onError)
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    close: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
