/**
 * One guard around each store, applied once at start-up. Every call is timed
 * into the metrics, given the broker's `--store-timeout-ms` deadline (meta-store
 * reads too), and any failure leaves as one error type, {@link StoreUnavailable},
 * so that every handler can give the same retriable answer: a store that is
 * down or slow is a temporary condition of the cluster, never "this topic does
 * not exist" and never a reason to close a client's connection.
 *
 * A call that misses its deadline is not cancelled (the stores' own clients may
 * still finish it); its answer is dropped. Writes are safe under that rule
 * because every meta-store write is an atomic operation that either happened
 * or not, and the producer's retry is deduplicated (KIP-98 sequence numbers).
 */

import { ErrorCode } from "../protocol/errors.ts";
import type { Metrics } from "./metrics.ts";

/** Which store failed. */
export type StoreName = "meta" | "log";

/** A store call failed or missed its deadline; the request may be retried. */
export class StoreUnavailable extends Error {
  constructor(
    readonly store: StoreName,
    readonly op: string,
    /** True when the call missed the deadline rather than failing. */
    readonly timedOut: boolean,
    cause?: unknown,
  ) {
    const why = timedOut ? "did not answer in time" : `failed: ${describe(cause)}`;
    super(`${store} store ${op} ${why}`, { cause });
    this.name = "StoreUnavailable";
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The Kafka error code for a partition API whose store call failed:
 * REQUEST_TIMED_OUT when it missed the deadline, KAFKA_STORAGE_ERROR otherwise
 * (both retriable; clients refresh metadata and retry). Errors that are not
 * store failures (bugs) answer UNKNOWN_SERVER_ERROR.
 */
export function storeErrorCode(e: unknown): number {
  if (e instanceof StoreUnavailable) {
    return e.timedOut ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.KAFKA_STORAGE_ERROR;
  }
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

/** True when the error is a store failure (the request may be retried). */
export function isStoreFailure(e: unknown): e is StoreUnavailable {
  return e instanceof StoreUnavailable;
}

/** Options of {@link guardStore}. */
export interface StoreGuardOptions {
  name: StoreName;
  metrics: Metrics;
  /** The deadline of every call, in milliseconds. */
  timeoutMs: number;
}

/**
 * Wraps every method of a store: timing, deadline, and failures turned into
 * {@link StoreUnavailable}. Stores answer their callers with results (a
 * compare-and-set that lost, a topic that exists), never with errors, so every
 * rejection is a failure. Synchronous methods pass through untouched.
 */
export function guardStore<T extends object>(store: T, opts: StoreGuardOptions): T {
  const { name, metrics, timeoutMs } = opts;
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function" || prop === "constructor") return value;
      let w = wrapped.get(prop);
      if (w === undefined) {
        const op = String(prop);
        w = function (this: unknown, ...args: unknown[]) {
          const started = performance.now();
          let result: unknown;
          try {
            result = (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (e) {
            metrics.storeOperation(name, op, performance.now() - started, true);
            throw e;
          }
          if (!(result instanceof Promise)) return result;
          return withDeadline(result, timeoutMs).then(
            (r) => {
              metrics.storeOperation(name, op, performance.now() - started, false);
              return r;
            },
            (e) => {
              metrics.storeOperation(name, op, performance.now() - started, true);
              throw asStoreError(e, name, op);
            },
          );
        };
        wrapped.set(prop, w);
      }
      return w;
    },
  });
}

/** Marks a missed deadline (turned into a StoreUnavailable with timedOut). */
class DeadlineMissed extends Error {}

/**
 * Store calls waiting on their deadline. One sweeping timer serves them all
 * while any is pending (a timer per call was a quarter of a 100-partition
 * Fetch's time); it stops when the last one settles.
 */
interface Waiting {
  at: number;
  reject: (e: unknown) => void;
}

const waiting = new Set<Waiting>();
let sweeper: ReturnType<typeof setInterval> | undefined;
let sweepMs = 0;

function sweep(): void {
  const now = performance.now();
  for (const w of waiting) {
    if (w.at <= now) {
      waiting.delete(w);
      w.reject(new DeadlineMissed());
    }
  }
  if (waiting.size === 0) stopSweeping();
}

function stopSweeping(): void {
  if (sweeper === undefined) return;
  clearInterval(sweeper);
  sweeper = undefined;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const w: Waiting = { at: performance.now() + ms, reject };
    waiting.add(w);
    // A tenth of the deadline, at most 100 ms: a missed deadline is noticed that much late.
    const every = Math.max(1, Math.min(100, Math.floor(ms / 10)));
    if (sweeper === undefined || every < sweepMs) {
      stopSweeping();
      sweepMs = every;
      sweeper = setInterval(sweep, every);
    }
    const settle = () => {
      waiting.delete(w);
      if (waiting.size === 0) stopSweeping();
    };
    p.then((v) => {
      settle();
      resolve(v);
    }, (e) => {
      settle();
      reject(e);
    });
  });
}

/** Every failure of a store call, whatever its cause, becomes one StoreUnavailable. */
function asStoreError(e: unknown, name: StoreName, op: string): StoreUnavailable {
  if (e instanceof StoreUnavailable) return e;
  if (e instanceof DeadlineMissed) return new StoreUnavailable(name, op, true);
  return new StoreUnavailable(name, op, false, e);
}
