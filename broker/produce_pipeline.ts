/**
 * The produce path's flush buffer (DESIGN.md, "The produce path"). Handlers
 * append validated batches in arrival order; a flush writes every buffered
 * batch, for all partitions, as one blob, then makes one atomic meta-store
 * commit that checks idempotence and assigns offsets. Producers are answered
 * only after that commit.
 *
 * Commits run one at a time, in the order the flushes started, so batches get
 * offsets (and idempotence checks) in the order they arrived. Writes need no
 * order: with a linger (object stores, where a write takes tens of
 * milliseconds) up to `maxInFlightFlushes` writes overlap, so a batch waits
 * for its linger, its own write and the commits ahead of it, not for the
 * write of the flush before it as well. Without a linger one flush runs at a
 * time and the next fills up meanwhile (group commit).
 *
 * The linger ends early once nothing more can arrive: an idempotent producer
 * keeps at most five requests in flight on a connection (KIP-98: the broker
 * remembers the last five batches of each producer and partition, so clients
 * cap `max.in.flight.requests.per.connection` at 5). When every connection
 * with a request in the buffer has five waiting on us, that producer sends
 * nothing until we answer, and lingering on would add latency without adding
 * a single batch. Sparse traffic still waits out the linger, so it never costs
 * more object-store writes.
 */

import { ErrorCode } from "../protocol/errors.ts";
import type { BatchInfo } from "../protocol/record_batch.ts";
import { stampLogAppendTime } from "../protocol/log_append_time.ts";
import type { BatchToCommit, CommitResult, LogStore, MetaStore } from "../stores/types.ts";
import { partitionKey, type Waiter } from "./waiter.ts";
import { getLogger } from "@logtape/logtape";
import { setImmediate } from "node:timers";

const log = getLogger(["skb", "produce"]);

/** The batches of one partition in one produce request. */
export interface PartitionAppend {
  topicId: string;
  partition: number;
  batches: BatchInfo[];
  /** The topic's message.timestamp.type is LogAppendTime: the flush stamps its time in. */
  logAppendTime?: boolean;
  /**
   * Transaction markers from the coordinator (KIP-98): the batches are control
   * batches of this type (0 abort, 1 commit), which close the producer's open
   * transaction in the partition. Never set for batches a client sent.
   */
  controlType?: number;
}

/** What the producer is told for one partition. */
export interface PartitionOutcome {
  errorCode: number;
  baseOffset: number;
  logStartOffset: number;
  errorMessage: string | null;
  /** The time stamped into the batches under LogAppendTime, else -1. */
  logAppendTimeMs: number;
}

/**
 * The most requests an idempotent producer keeps in flight on one connection
 * (KIP-98; Java and librdkafka refuse a larger max.in.flight with idempotence).
 */
export const IDEMPOTENT_PRODUCER_WINDOW = 5;

/** Outcomes of one request, by {@link partitionKey} of topic id and partition. */
export type PartitionOutcomes = Map<string, PartitionOutcome>;

interface Pending {
  parts: PartitionAppend[];
  resolve: (r: PartitionOutcomes) => void;
  /** The connection, when an idempotent producer on it waits for this answer. */
  window: object | null;
  /** When it was appended (performance.now()). */
  arrived: number;
}

/** Why a flush started. */
export type FlushStart = "bytes" | "linger" | "windows" | "slot" | "drain" | "immediate";

/**
 * Where a produce request's time went in the broker, in milliseconds, from
 * its append to its answer (`total`): `linger` until its flush was due (the
 * linger, the flush size or the producers' windows), `slot` waiting for a
 * write slot after that (all `maxInFlightFlushes` writing), `write` its
 * flush's log store write, `commitWait` the earlier flushes' commits, and
 * `commit` its flush's meta store commit.
 */
export interface RequestStages {
  linger: number;
  slot: number;
  write: number;
  commitWait: number;
  commit: number;
  total: number;
}

/** Tunables of the flush buffer. */
export interface PipelineOptions {
  lingerMs: number;
  flushBytes: number;
  /** Flushes whose writes may overlap (default: 4 with a linger, else 1). */
  maxInFlightFlushes?: number;
}

/** The flush buffer shared by every connection of one broker. */
export class ProducePipeline {
  private buffer: Pending[] = [];
  private bufferedBytes = 0;
  /** When the oldest buffered batch arrived (performance.now()), for the linger. */
  private bufferedSince = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** Settles when the last started flush has committed (or failed): the next commit waits for it. */
  private commitTail: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private scheduled = false;
  /** Set by drain(): shutting down, so nothing waits for the linger time any more. */
  private draining = false;
  private readonly maxInFlight: number;
  /** Requests awaiting their answer, per idempotent producer connection. */
  private readonly waiting = new Map<object, number>();
  /**
   * When the buffered flush became due while every write slot was taken
   * (performance.now()), else null: the time after it is waiting for a slot.
   */
  private dueSince: number | null = null;
  /** Called after every flush (metrics): bytes, batches, milliseconds, whether it failed. */
  onFlush: ((bytes: number, batches: number, ms: number, failed: boolean) => void) | null = null;
  /** Called per flush with why it started, and per request with where its time went (metrics). */
  onStages: ((start: FlushStart, requests: RequestStages[]) => void) | null = null;

  constructor(
    private readonly meta: MetaStore,
    private readonly logStore: LogStore,
    /** Woken per partition once a commit lands (fetch long polls wait on it). */
    private readonly waiter: Waiter,
    private readonly opts: PipelineOptions,
  ) {
    this.maxInFlight = Math.max(1, opts.maxInFlightFlushes ?? (opts.lingerMs > 0 ? 4 : 1));
  }

  /**
   * Queues a request's batches; resolves once they are committed (or refused),
   * with one outcome per partition (keyed by {@link partitionKey}).
   * `window` identifies the connection when the request comes from an
   * idempotent producer that waits for the answer (acks 1 or -1), whose
   * requests in flight are bounded by {@link IDEMPOTENT_PRODUCER_WINDOW}.
   */
  append(parts: PartitionAppend[], window: object | null = null): Promise<PartitionOutcomes> {
    return new Promise((resolve) => {
      if (this.buffer.length === 0) this.bufferedSince = performance.now();
      if (window !== null) this.waiting.set(window, (this.waiting.get(window) ?? 0) + 1);
      this.buffer.push({ parts, resolve, window, arrived: performance.now() });
      for (const p of parts) for (const b of p.batches) this.bufferedBytes += b.bytes.length;
      this.schedule();
    });
  }

  /** Whether every producer with a buffered request has its whole window waiting on us. */
  private windowsFull(): boolean {
    for (const p of this.buffer) {
      if (p.window === null) return false;
      if ((this.waiting.get(p.window) ?? 0) < IDEMPOTENT_PRODUCER_WINDOW) return false;
    }
    return true;
  }

  private schedule(): void {
    if (this.buffer.length === 0) return;
    const full = this.inFlight.size >= this.maxInFlight;
    if (this.bufferedBytes >= this.opts.flushBytes || this.draining) {
      // At the limit, the flush that ends next calls schedule() again.
      if (full) this.dueSince ??= performance.now();
      else this.startFlush(this.draining ? "drain" : "bytes");
      return;
    }
    if (this.opts.lingerMs > 0) {
      // The linger counts from the oldest buffered batch's arrival, even while
      // earlier flushes are still writing.
      const left = this.bufferedSince + this.opts.lingerMs - performance.now();
      if (left <= 0 || this.windowsFull()) {
        if (full) this.dueSince ??= performance.now();
        else this.startFlush(this.dueSince !== null ? "slot" : left <= 0 ? "linger" : "windows");
      } else if (!full) this.timer ??= setTimeout(() => this.startFlush("linger"), left);
    } else if (!this.scheduled && !full) {
      // Let the requests already read from sockets join this flush.
      this.scheduled = true;
      // setImmediate, not setTimeout(0): Deno clamps a chained timeout to ~2 ms,
      // which cost every flush that much latency (bench: EndToEndLatency p50 3.7 -> 1.1 ms).
      setImmediate(() => this.startFlush("immediate"));
    } else if (full) this.dueSince ??= performance.now();
  }

  private startFlush(why: FlushStart): void {
    this.scheduled = false;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return;
    const now = performance.now();
    if (this.inFlight.size >= this.maxInFlight) {
      this.dueSince ??= now;
      return;
    }
    // The moment this flush could have started had a slot been free.
    const due = Math.min(
      now,
      this.dueSince ?? now,
      this.opts.lingerMs > 0 ? this.bufferedSince + this.opts.lingerMs : this.bufferedSince,
    );
    this.dueSince = null;
    const batch = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    const flushing: Promise<void> = this.flush(batch, why, due, now).finally(() => {
      this.inFlight.delete(flushing);
      this.schedule();
    });
    this.inFlight.add(flushing);
  }

  private async flush(
    pending: Pending[],
    why: FlushStart,
    due: number,
    started: number,
  ): Promise<void> {
    // One time for the whole flush: the log append time of its LogAppendTime batches.
    const appendTime = Date.now();
    const chunks: Uint8Array[] = [];
    const entries: BatchToCommit[] = [];
    let position = 0;
    for (const p of pending) {
      for (const part of p.parts) {
        for (const b of part.batches) {
          if (part.logAppendTime) {
            stampLogAppendTime(b.bytes, appendTime);
            b.maxTimestamp = appendTime;
          }
          chunks.push(b.bytes);
          entries.push({
            topicId: part.topicId,
            partition: part.partition,
            position,
            length: b.bytes.length,
            recordCount: b.recordCount,
            baseTimestamp: b.baseTimestamp,
            maxTimestamp: b.maxTimestamp,
            producerId: b.producerId,
            producerEpoch: b.producerEpoch,
            baseSequence: b.baseSequence,
            isTransactional: b.isTransactional,
            ...(part.controlType === undefined
              ? {}
              : { isControl: true, controlType: part.controlType }),
          });
          position += b.bytes.length;
        }
      }
    }
    // This flush's commit waits for the one before it; the next waits for this one.
    const previousCommit = this.commitTail;
    let committed!: () => void;
    this.commitTail = new Promise((resolve) => (committed = resolve));
    let results: CommitResult[] | null = null;
    let failure: { code: number; message: string } | null = null;
    let written = started;
    let commitStarted = started;
    let commitEnded = started;
    try {
      const blob = await this.logStore.write(chunks);
      written = commitStarted = commitEnded = performance.now();
      await previousCommit;
      commitStarted = commitEnded = performance.now();
      try {
        results = await this.meta.commitBatches(blob, entries);
        commitEnded = performance.now();
      } catch (e) {
        // The outcome is unknown; an idempotent producer's retry is deduplicated.
        failure = {
          code: ErrorCode.REQUEST_TIMED_OUT,
          message: (e as Error).message,
        };
      }
    } catch (e) {
      failure = {
        code: ErrorCode.KAFKA_STORAGE_ERROR,
        message: (e as Error).message,
      };
    } finally {
      previousCommit.then(committed);
    }
    if (failure) {
      log.warn("Flush of {batches} batches failed: {message}", {
        batches: entries.length,
        message: failure.message,
      });
    }

    let i = 0;
    const touched = new Set<string>();
    for (const p of pending) {
      const outcomes: PartitionOutcomes = new Map();
      for (const part of p.parts) {
        const key = partitionKey(part.topicId, part.partition);
        const logAppendTimeMs = part.logAppendTime ? appendTime : -1;
        // A partition named twice in one request gets one answer: its first error, else its first offset.
        let outcome: PartitionOutcome | null = outcomes.get(key) ?? null;
        for (let k = 0; k < part.batches.length; k++, i++) {
          if (failure) {
            outcome ??= {
              errorCode: failure.code,
              baseOffset: -1,
              logStartOffset: -1,
              errorMessage: failure.message,
              logAppendTimeMs: -1,
            };
            continue;
          }
          const r = results![i];
          if (r.errorCode !== ErrorCode.NONE) {
            if (outcome === null || outcome.errorCode === ErrorCode.NONE) {
              outcome = {
                errorCode: r.errorCode,
                baseOffset: -1,
                logStartOffset: r.logStartOffset,
                errorMessage: null,
                logAppendTimeMs: -1,
              };
            }
          } else if (outcome === null) {
            outcome = {
              errorCode: ErrorCode.NONE,
              baseOffset: r.baseOffset,
              logStartOffset: r.logStartOffset,
              errorMessage: null,
              logAppendTimeMs,
            };
          }
          if (!r.duplicate && r.errorCode === ErrorCode.NONE) {
            touched.add(key);
          }
        }
        outcomes.set(key, outcome!);
      }
      if (p.window !== null) {
        const left = this.waiting.get(p.window)! - 1;
        if (left === 0) this.waiting.delete(p.window);
        else this.waiting.set(p.window, left);
      }
      p.resolve(outcomes);
    }
    for (const k of touched) this.waiter.wake(k);
    const ended = performance.now();
    this.onFlush?.(position, entries.length, ended - started, failure !== null);
    if (this.onStages) {
      this.onStages(
        why,
        pending.map((p) => {
          const linger = Math.max(0, Math.min(started, due) - p.arrived);
          return {
            linger,
            slot: started - p.arrived - linger,
            write: written - started,
            commitWait: commitStarted - written,
            commit: commitEnded - commitStarted,
            total: ended - p.arrived,
          };
        }),
      );
    }
  }

  /** Flushes what is buffered and waits for every flush to end. */
  async drain(): Promise<void> {
    this.draining = true;
    while (this.inFlight.size > 0 || this.buffer.length > 0) {
      this.schedule();
      await Promise.race(this.inFlight);
    }
  }
}
