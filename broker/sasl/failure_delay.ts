/**
 * How long a failed authentication waits before its answer (KIP-306's
 * connection.failed.authentication.delay.ms, 100 ms in Kafka), slowed
 * further for an address that keeps failing: each failure in the last minute
 * beyond the fifth adds 20 ms, up to 1 s. The per-address memory is bounded:
 * past `maxAddresses` the least recently failing address is forgotten.
 */

export const FAILED_AUTHENTICATION_DELAY_MS = 100;
const WINDOW_MS = 60_000;
const FREE_FAILURES = 5;
const STEP_MS = 20;
const MAX_DELAY_MS = 1_000;

export class FailureDelays {
  #byAddress = new Map<string, { failures: number; lastMs: number }>();

  constructor(readonly maxAddresses = 10_000) {}

  /** Records a failure from `address`; returns how long its answer waits. */
  fail(address: string, nowMs = Date.now()): number {
    const seen = this.#byAddress.get(address);
    const failures = seen && nowMs - seen.lastMs < WINDOW_MS ? seen.failures + 1 : 1;
    // Re-inserting keeps the map in order of the latest failure.
    this.#byAddress.delete(address);
    this.#byAddress.set(address, { failures, lastMs: nowMs });
    while (this.#byAddress.size > this.maxAddresses) {
      this.#byAddress.delete(this.#byAddress.keys().next().value!);
    }
    const extra = Math.max(0, failures - FREE_FAILURES) * STEP_MS;
    return Math.min(FAILED_AUTHENTICATION_DELAY_MS + extra, MAX_DELAY_MS);
  }

  get size(): number {
    return this.#byAddress.size;
  }
}

const perBroker = new WeakMap<object, FailureDelays>();

/** The delays of one broker (keyed by its context). */
export function failureDelays(broker: object): FailureDelays {
  let d = perBroker.get(broker);
  if (!d) perBroker.set(broker, d = new FailureDelays());
  return d;
}
