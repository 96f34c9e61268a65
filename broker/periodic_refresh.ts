/**
 * A read of shared state from the meta store that runs once at start, then
 * every few seconds until the broker closes, one at a time (dynamic configs,
 * ACLs): how a broker keeps no state of its own yet answers from memory.
 */
export class PeriodicRefresh {
  private timer: ReturnType<typeof setInterval> | null = null;
  private running: Promise<void> | null = null;

  /** `load` reads and applies; a failure keeps what the owner had and is retried next time. */
  constructor(private readonly load: () => Promise<void>) {}

  /** Reads now, and then every `everyMs` until `closing` aborts. */
  start(closing: AbortSignal, everyMs: number): void {
    if (this.timer !== null || closing.aborted) return;
    this.timer = setInterval(() => this.run().catch(() => {}), everyMs);
    closing.addEventListener("abort", () => this.stop(), { once: true });
    this.run().catch(() => {});
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One read at a time: a call while one is under way joins it. */
  run(): Promise<void> {
    this.running ??= this.load().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** A read that starts after every change made so far (not one already under way). */
  async runFresh(): Promise<void> {
    if (this.running) await this.running.catch(() => {});
    await this.run();
  }
}
