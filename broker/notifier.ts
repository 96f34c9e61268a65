/**
 * Wakes long-polling fetches when this broker commits to a partition. Commits
 * made by other brokers are seen by polling the high watermark instead.
 */

/** Per-partition wake-ups within one broker process. */
export class Notifier {
  private waiters = new Map<string, Set<() => void>>();

  static key(topicId: string, partition: number): string {
    return `${topicId}/${partition}`;
  }

  /** Resolves when any of the partitions is notified, or when `signal` aborts. */
  wait(keys: string[], signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        for (const k of keys) this.waiters.get(k)?.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      if (signal.aborted) return resolve();
      for (const k of keys) {
        let set = this.waiters.get(k);
        if (!set) this.waiters.set(k, set = new Set());
        set.add(wake);
      }
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  notify(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const wake of set) wake();
  }
}
