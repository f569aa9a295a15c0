/**
 * Lets through at most `perWindow` log lines per key per window and counts the rest, so a
 * flood of bad requests cannot flood the logs. The first line after a quiet window reports
 * how many were suppressed.
 */
export class LogLimiter {
  readonly #windows = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /** Returns null to stay quiet, or the number suppressed since the last line that was let through. */
  admit(key: string, now: number): number | null {
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: now, count: 0, suppressed: 0 };
      this.#windows.set(key, w);
      if (this.#windows.size > 10_000) this.#windows.clear();
      w.count++;
      return suppressed;
    }
    if (w.count < this.perWindow) {
      w.count++;
      return 0;
    }
    w.suppressed++;
    return null;
  }
}
