/**
 * Bytes held for requests being read or handled and for responses not yet
 * written, counted against a bound: Kafka's queued.max.request.bytes, which
 * stops reading from every connection while the bound is reached. One budget
 * is the broker's; each connection has its own too, so that one client that
 * pipelines large requests or never reads its responses stops being read
 * before it holds more than its share.
 *
 * A request is admitted whole by its announced size while anything is left
 * (as Kafka's pool does: a frame larger than what is left still goes in when
 * the budget is not yet full), so budgets never deadlock on half-read frames;
 * the frame reader allocates the bytes only as they arrive.
 */

export class BufferBudget {
  private used = 0;
  private waiters: (() => void)[] = [];

  /** `capacity` 0: no bound. */
  constructor(readonly capacity: number) {}

  get held(): number {
    return this.used;
  }

  hasRoom(): boolean {
    return this.capacity === 0 || this.used < this.capacity;
  }

  /** Counts `bytes` in at once, room or not (a response already built). */
  take(bytes: number): void {
    this.used += bytes;
  }

  /** Counts `bytes` out and wakes whoever waits for room. */
  give(bytes: number): void {
    this.used -= bytes;
    if (this.waiters.length > 0 && this.hasRoom()) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w();
    }
  }

  /** Resolves once there is room (at once when there is), or when `stop` says to give up. */
  async room(stop?: Stop): Promise<void> {
    while (!this.hasRoom() && stop?.stopped !== true) {
      const woken = new Promise<void>((r) => this.waiters.push(r));
      await (stop === undefined ? woken : Promise.race([woken, stop.promise]));
    }
  }

  /**
   * Counts `bytes` in once there is room: null when that was at once, else a
   * promise of whether it was (false: `stop` gave up first, nothing counted).
   */
  admit(bytes: number, stop?: Stop): Promise<boolean> | null {
    if (this.hasRoom()) {
      this.take(bytes);
      return null;
    }
    return this.room(stop).then(() => {
      if (stop?.stopped === true) return false;
      this.take(bytes);
      return true;
    });
  }
}

/** A wait's way out: `promise` settles when `stopped` turns true (a connection closing). */
export interface Stop {
  readonly stopped: boolean;
  readonly promise: Promise<void>;
}
