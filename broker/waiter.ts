/**
 * Waiting within one broker process for "something changed here, the time is
 * up, or the broker is shutting down", whichever comes first. Fetch long polls
 * wait on partitions (woken by this broker's commits) and the group
 * coordinator waits on groups (woken by this broker's changes to the group).
 * Changes made by other brokers sharing the stores are not signalled: waiters
 * re-read the store when their wait times out, so a waiter's time-out is also
 * its poll interval.
 */

/** Why a wait ended. */
export type WaitOutcome = "woken" | "timeout" | "closing";

/** Waiters by key, and the broker's shutdown signal that ends every wait. */
export class Waiter {
  private waiters = new Map<string, Set<(why: WaitOutcome) => void>>();

  constructor(private readonly closing: AbortSignal) {}

  /** Resolves when any key is woken, after `ms`, or when the broker starts closing. */
  wait(keys: readonly string[], ms: number): Promise<WaitOutcome> {
    if (this.closing.aborted) return Promise.resolve("closing");
    return new Promise((resolve) => {
      const done = (why: WaitOutcome) => {
        clearTimeout(timer);
        for (const k of keys) {
          const set = this.waiters.get(k);
          set?.delete(done);
          if (set?.size === 0) this.waiters.delete(k);
        }
        this.closing.removeEventListener("abort", onClose);
        resolve(why);
      };
      const onClose = () => done("closing");
      const timer = setTimeout(() => done("timeout"), Math.max(0, ms));
      for (const k of keys) {
        let set = this.waiters.get(k);
        if (!set) this.waiters.set(k, set = new Set());
        set.add(done);
      }
      this.closing.addEventListener("abort", onClose, { once: true });
    });
  }

  /** Wakes every wait on `key`. */
  wake(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const done of [...set]) done("woken");
  }

  /** How many waits are pending (tests). */
  get pending(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }
}

/** The waiter key of one partition. */
export function partitionKey(topicId: string, partition: number): string {
  return `${topicId}/${partition}`;
}
