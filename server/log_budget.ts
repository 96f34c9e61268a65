/**
 * A bound on how many lines one kind of event may write: a broker under
 * attack, or facing a misbehaving client fleet, must not flood its log. Each
 * key (an API's refusals, a kind of closed connection) may write `perWindow`
 * lines per `windowMs`; the first line after a quiet spell says how many
 * similar ones were left out.
 */

/** Keys kept at most; beyond it the counts start over (keys are few: API names and kinds). */
const MAX_KEYS = 1024;

interface Window {
  startedAt: number;
  written: number;
  suppressed: number;
}

export class LogBudget {
  private readonly windows = new Map<string, Window>();

  constructor(readonly perWindow: number, readonly windowMs: number) {}

  /**
   * Calls `write` with the number of lines of this key left out since its last
   * written one, or counts this line as left out.
   */
  maybe(key: string, write: (suppressed: number) => void, now = performance.now()): void {
    let w = this.windows.get(key);
    if (w === undefined || now - w.startedAt >= this.windowMs) {
      if (this.windows.size >= MAX_KEYS) this.windows.clear();
      w = { startedAt: now, written: 0, suppressed: w?.suppressed ?? 0 };
      this.windows.set(key, w);
    }
    if (w.written >= this.perWindow) {
      w.suppressed++;
      return;
    }
    w.written++;
    const n = w.suppressed;
    w.suppressed = 0;
    write(n);
  }
}

/** ", and N more like it were left out" for a line that follows suppressed ones. */
export function leftOut(suppressed: number): string {
  return suppressed > 0 ? ` (${suppressed} more like it left out)` : "";
}
