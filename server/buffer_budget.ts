/**
 * Bytes held for requests being read or handled and for responses not yet
 * written, counted against a bound: Kafka's queued.max.request.bytes, which
 * stops reading from every connection while the bound is reached. One budget
 * is the broker's; each connection has its own too, so that one client that
 * pipelines large requests or never reads its responses stops being read
 * before it holds more than its share.
 *
 * A frame is read once there is room and may then take the budget past its
 * bound (as Kafka's pool lets a frame larger than what is left in while the
 * pool is not yet full), so budgets never deadlock on half-read frames; its
 * bytes are counted as the frame reader allocates them, as they arrive.
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
}

/** A wait's way out: `promise` settles when `stopped` turns true (a connection closing). */
export interface Stop {
  readonly stopped: boolean;
  readonly promise: Promise<void>;
}
