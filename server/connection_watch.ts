/**
 * One timer for every open connection: each tick asks every watched
 * connection whether it has gone quiet (connections.max.idle.ms), stalled on
 * a write its client does not read, or kept a request past its deadline.
 * Thousands of idle connections then cost one timer, not thousands.
 */

/** A connection as the watch sees it: `check` closes it when one of its limits has passed. */
export interface Watched {
  check(now: number): void;
}

export class ConnectionWatch {
  private readonly watched = new Set<Watched>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly periodMs: number) {}

  /** The tick period for these limits: a quarter of the shortest, between 10 ms and 1 s. */
  static periodFor(...limitsMs: number[]): number {
    return Math.min(1000, Math.max(10, Math.floor(Math.min(...limitsMs) / 4)));
  }

  add(w: Watched): void {
    this.watched.add(w);
    if (this.timer === undefined) {
      const timer = setInterval(() => this.tick(), this.periodMs);
      // The watch alone never keeps the process alive.
      Deno.unrefTimer(timer);
      this.timer = timer;
    }
  }

  delete(w: Watched): void {
    this.watched.delete(w);
    if (this.watched.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    const now = performance.now();
    for (const w of this.watched) w.check(now);
  }
}
