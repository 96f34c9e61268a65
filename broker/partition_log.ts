/**
 * The partition-log service: what every partition API asks of "the log",
 * between the handlers (which translate messages) and the stores. It owns
 *
 * - topic lookup and partition-range checks, with one mapping of their
 *   failures to Kafka error codes: a topic that does not exist is
 *   UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID when asked by id, KIP-516);
 *   a store that failed or missed its deadline is KAFKA_STORAGE_ERROR, never
 *   "unknown". That is Kafka's answer for a partition whose log directory is
 *   offline, and every client refreshes metadata and retries on it, where
 *   REQUEST_TIMED_OUT in a Fetch partition makes the Java consumer throw
 *   IllegalStateException ("Unexpected error code"). Produce keeps
 *   REQUEST_TIMED_OUT for a commit whose outcome is unknown (the pipeline);
 * - appends, through the produce pipeline, answered per (topic, partition);
 * - reads: the index, the batches with their base offsets (and leader epoch
 *   0) written in, and the long poll of Fetch;
 * - offsets: by timestamp, exact to the record (ListOffsets; the batch is
 *   read and decompressed to find it), the log start (DeleteRecords) and the
 *   end of a leader epoch (OffsetForLeaderEpoch).
 *
 * No method throws for a store failure: each answers an error code, so a
 * request with many partitions gets an answer for every one of them.
 */

import { getLogger } from "@logtape/logtape";
import { ErrorCode } from "../protocol/errors.ts";
import { writeBaseOffset } from "../protocol/record_batch.ts";
import { decodeBatch } from "../protocol/batch_codec.ts";
import type { IndexEntry, MetaStore, PartitionState, TopicInfo } from "../stores/types.ts";
import type { BrokerConfig } from "./config.ts";
import type { BlobCache } from "./blob_cache.ts";
import type { Metrics } from "./metrics.ts";
import type { PartitionAppend, PartitionOutcomes, ProducePipeline } from "./produce_pipeline.ts";
import { isStoreFailure } from "./store_guard.ts";
import type { TopicCache } from "./topic_cache.ts";
import { partitionKey, type Waiter } from "./waiter.ts";

const log = getLogger(["skb", "log"]);

/** A topic found, or the error every partition of it is answered with. */
export type TopicLookup =
  | { topic: TopicInfo; errorCode: 0; message: null }
  | { topic: null; errorCode: number; message: string | null };

/** One partition of an existing topic (the range already checked). */
export interface PartitionRef {
  topic: TopicInfo;
  partition: number;
}

/** A partition found, or why not. */
export type Located =
  | { ref: PartitionRef; errorCode: 0 }
  | { ref: null; errorCode: number; message: string | null };

/** An answer that may be an error code; the values are -1 when it is. */
export interface Answer {
  errorCode: number;
  message: string | null;
}

/** One partition a Fetch asks for. */
export interface FetchWant {
  at: Located;
  fetchOffset: number;
  partitionMaxBytes: number;
}

/** What a Fetch gets for one partition. */
export interface FetchRead extends Answer {
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /**
   * Under read_committed, the aborted transactions overlapping the records
   * returned (KIP-98), so the consumer drops their records; null otherwise.
   */
  abortedTransactions: { producerId: number; firstOffset: number }[] | null;
  /** The batches as stored, base offsets written in (chunks, sent without copying). */
  records: Uint8Array[];
}

/** The request-wide limits of a Fetch. */
export interface FetchLimits {
  maxBytes: number;
  minBytes: number;
  maxWaitMs: number;
  readCommitted: boolean;
}

/** Special ListOffsets timestamps (KIP-734, KIP-405, KIP-1005, KIP-1023). */
export const LATEST = -1;
export const EARLIEST = -2;
export const MAX_TIMESTAMP = -3;
export const EARLIEST_LOCAL = -4;
export const LATEST_TIERED = -5;
export const EARLIEST_PENDING_UPLOAD = -6;

/** What the service is built from. */
export interface PartitionLogDeps {
  meta: MetaStore;
  topics: TopicCache;
  blobs: BlobCache;
  waiter: Waiter;
  pipeline: ProducePipeline;
  metrics: Metrics;
  config: BrokerConfig;
  closing: AbortSignal;
}

const NO_RECORDS: Uint8Array[] = [];

/** A partition of a Fetch between finding its index entries and reading them. */
interface ReadPlan {
  out: FetchRead;
  /** Set when there are entries to read. */
  ref: PartitionRef | null;
  fetchOffset: number;
  /** Its own byte limit: partitionMaxBytes within the request's maxBytes. */
  room: number;
  entries: IndexEntry[];
}

/** The most of a view-reading store's record set that a fetch copies into one piece. */
const VIEWS_JOINED_MAX_BYTES = 1024 * 1024;

/** Bytes of a stored batch rewritten on the way out: base offset, length, partition leader epoch. */
const BATCH_PREFIX = 16;

export class PartitionLog {
  constructor(private readonly d: PartitionLogDeps) {}

  /** The error code for a failure, counted in the metrics; bugs are logged. */
  failure(e: unknown): number {
    if (isStoreFailure(e)) {
      this.d.metrics.storeError(e.store, e.op);
      return ErrorCode.KAFKA_STORAGE_ERROR;
    }
    log.error("Partition operation failed: {error}", { error: e });
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }

  /** A topic by name. */
  async topicByName(name: string): Promise<TopicLookup> {
    try {
      const topic = await this.d.topics.byTopicName(name);
      if (topic) return { topic, errorCode: 0, message: null };
      return { topic: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null };
    } catch (e) {
      return { topic: null, errorCode: this.failure(e), message: messageOf(e) };
    }
  }

  /** A topic by id (Fetch v13+, KIP-516). */
  async topicById(id: string): Promise<TopicLookup> {
    try {
      const topic = await this.d.topics.byTopicId(id);
      if (topic) return { topic, errorCode: 0, message: null };
      return { topic: null, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, message: null };
    } catch (e) {
      return { topic: null, errorCode: this.failure(e), message: messageOf(e) };
    }
  }

  /** A partition of a looked-up topic, range-checked. */
  locate(lookup: TopicLookup, partition: number): Located {
    if (lookup.topic === null) {
      return { ref: null, errorCode: lookup.errorCode, message: lookup.message };
    }
    if (partition < 0 || partition >= lookup.topic.partitions) {
      return { ref: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null };
    }
    return { ref: { topic: lookup.topic, partition }, errorCode: 0 };
  }

  /**
   * Queues validated batches; resolves once committed or refused, one outcome
   * per (topic id, partition), keyed by {@link partitionKey}. `window` is the
   * connection when an idempotent producer waits for the answer.
   */
  append(parts: PartitionAppend[], window: object | null): Promise<PartitionOutcomes> {
    return this.d.pipeline.append(parts, window);
  }

  /** The offsets of a partition. */
  async state(ref: PartitionRef): Promise<(PartitionState & Answer) | Answer> {
    try {
      const st = await this.d.meta.partitionState(ref.topic.id, ref.partition);
      // The topic was deleted between the lookup and now.
      if (!st) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null };
      return { ...st, errorCode: 0, message: null };
    } catch (e) {
      return { errorCode: this.failure(e), message: messageOf(e) };
    }
  }

  /**
   * ListOffsets: the offset (and timestamp, when there is one) a timestamp
   * names. Latest is the last stable offset under read_committed; -4 is the
   * log start and -5 and -6 (tiered offsets) are -1, as Kafka answers for a
   * topic without tiered storage; a timestamp >= 0 finds the first batch
   * whose max timestamp reaches it.
   */
  async offsetForTimestamp(
    ref: PartitionRef,
    timestamp: number,
    readCommitted: boolean,
  ): Promise<Answer & { offset: number; timestamp: number }> {
    const none = { offset: -1, timestamp: -1 };
    try {
      const { meta } = this.d;
      const st = await meta.partitionState(ref.topic.id, ref.partition);
      if (!st) return { ...none, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null };
      const ok = (offset: number, ts = -1) => ({
        offset,
        timestamp: ts,
        errorCode: 0,
        message: null,
      });
      switch (timestamp) {
        case LATEST:
          return ok(readCommitted ? st.lastStableOffset : st.highWatermark);
        case EARLIEST:
        case EARLIEST_LOCAL:
          return ok(st.logStartOffset);
        case LATEST_TIERED:
        case EARLIEST_PENDING_UPLOAD:
          return ok(-1);
        case MAX_TIMESTAMP: {
          const e = await meta.maxTimestampEntry(ref.topic.id, ref.partition);
          if (!e) return ok(-1);
          // The first record of that batch carrying its greatest timestamp (KIP-734).
          const r = await this.recordIn(e, (ts) => ts >= e.maxTimestamp);
          return r ? ok(r.offset, r.timestamp) : ok(e.lastOffset, e.maxTimestamp);
        }
      }
      if (timestamp < 0) {
        return {
          ...none,
          errorCode: ErrorCode.INVALID_REQUEST,
          message: `Timestamp ${timestamp} is neither >= 0 nor one of -1..-6`,
        };
      }
      const e = await meta.findByTimestamp(ref.topic.id, ref.partition, timestamp);
      if (!e) return ok(-1);
      // The first record at or after the target, inside the first batch that reaches it.
      const r = await this.recordIn(
        e,
        (ts, offset) => ts >= timestamp && offset >= st.logStartOffset,
      );
      return r
        ? ok(r.offset, r.timestamp)
        : ok(Math.max(e.baseOffset, st.logStartOffset), e.maxTimestamp);
    } catch (e) {
      return { ...none, errorCode: this.failure(e), message: messageOf(e) };
    }
  }

  /**
   * The first record of a stored batch whose timestamp and offset pass `wanted`,
   * decompressing it when needed; under LogAppendTime every record has the
   * batch's max timestamp. Null when none does (or the batch does not decode).
   */
  private async recordIn(
    e: IndexEntry,
    wanted: (timestamp: number, offset: number) => boolean,
  ): Promise<{ offset: number; timestamp: number } | null> {
    const bytes = await this.d.blobs.read(e.blob, e.position, e.length);
    let batch;
    try {
      batch = decodeBatch(bytes, { verifyCrc: false });
    } catch {
      return null;
    }
    const { header } = batch;
    for (const r of batch.records) {
      const ts = header.timestampType === 1
        ? header.maxTimestamp
        : header.baseTimestamp + r.timestampDelta;
      const offset = e.baseOffset + r.offsetDelta;
      if (wanted(ts, offset)) return { offset, timestamp: ts };
    }
    return null;
  }

  /**
   * DeleteRecords: moves the log start forward to `offset` (-1: the high
   * watermark). Index entries wholly below it go at once, their bytes at the
   * next sweep.
   */
  async deleteBefore(
    ref: PartitionRef,
    offset: number,
  ): Promise<Answer & { lowWatermark: number }> {
    try {
      const { meta } = this.d;
      const st = await meta.partitionState(ref.topic.id, ref.partition);
      if (!st) {
        return { lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: null };
      }
      const target = offset === -1 ? st.highWatermark : offset;
      if (target < 0 || target > st.highWatermark) {
        return {
          lowWatermark: -1,
          errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
          message: `Offset ${offset} is outside 0..${st.highWatermark} (the high watermark)`,
        };
      }
      const lowWatermark = await meta.advanceLogStart(ref.topic.id, ref.partition, target);
      return { lowWatermark, errorCode: 0, message: null };
    } catch (e) {
      return { lowWatermark: -1, errorCode: this.failure(e), message: messageOf(e) };
    }
  }

  /**
   * OffsetForLeaderEpoch (KIP-320): leadership never moves here, since the
   * stores are shared, so every partition is in leader epoch 0 and the end of
   * epoch 0 or later is the high watermark; an older epoch has none.
   */
  async endOfEpoch(
    ref: PartitionRef,
    currentLeaderEpoch: number,
    leaderEpoch: number,
  ): Promise<Answer & { leaderEpoch: number; endOffset: number }> {
    const none = { leaderEpoch: -1, endOffset: -1 };
    if (currentLeaderEpoch > 0) {
      return { ...none, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH, message: null };
    }
    const st = await this.state(ref);
    if (st.errorCode !== 0 || !("highWatermark" in st)) return { ...none, ...st };
    if (leaderEpoch < 0) return { ...none, errorCode: 0, message: null };
    return { leaderEpoch: 0, endOffset: st.highWatermark, errorCode: 0, message: null };
  }

  /**
   * Fetch: reads every wanted partition; with fewer than minBytes it waits,
   * up to maxWaitMs, for this broker's commits to one of them (woken at once)
   * or other brokers' (the high watermark re-read every fetchPollMs), or the
   * broker's shutdown. The answer honours maxBytes and partitionMaxBytes but
   * always carries at least one whole batch of the first partition with data
   * (KIP-74). Any error answers at once.
   */
  async fetch(wants: FetchWant[], limits: FetchLimits): Promise<FetchRead[]> {
    const deadline = performance.now() + Math.max(0, limits.maxWaitMs);
    const minBytes = Math.max(1, limits.minBytes);
    const keys = wants.flatMap((w) =>
      w.at.ref ? [partitionKey(w.at.ref.topic.id, w.at.ref.partition)] : []
    );
    for (;;) {
      const { plans, reads, bytes, error } = await this.readAll(wants, limits);
      const left = deadline - performance.now();
      if (bytes >= minBytes || error || left <= 0 || this.d.closing.aborted) {
        this.prefetchAfter(plans);
        return reads;
      }
      await this.d.waiter.wait(keys, Math.min(left, this.d.config.fetchPollMs));
    }
  }

  /**
   * One pass over every wanted partition, in three steps so that no store
   * round trip waits on another partition's: every partition's offsets and
   * index entries are asked for together; then the request's byte budget is
   * shared out in request order; then every partition's batches are read
   * together (a log store can serve the ranges of one object, which a flush
   * wrote for many partitions, with one read).
   */
  private async readAll(wants: FetchWant[], limits: FetchLimits) {
    const maxBytes = limits.maxBytes > 0 ? limits.maxBytes : 0x7fffffff;
    const plans = await Promise.all(
      wants.map((w) => this.plan(w, limits.readCommitted, maxBytes)),
    );
    let budget = maxBytes;
    let taken = 0;
    for (const p of plans) {
      if (p.entries.length === 0) continue;
      p.entries = fitting(p.entries, Math.min(p.room, budget), taken > 0);
      const size = sum(p.entries);
      taken += size;
      budget -= size;
    }
    const reads = await Promise.all(plans.map((p) => this.fill(p, limits.readCommitted)));
    let bytes = 0;
    let error = false;
    for (const read of reads) {
      if (read.errorCode !== 0) error = true;
      bytes += sizeOf(read.records);
    }
    return { plans, reads, bytes, error };
  }

  /**
   * A consumer catching up asks next for the batches that follow those just
   * answered: where the log store has LogStore.prefetch (s3:, whose reads
   * each wait on a GET), their ranges are handed to it now, as many bytes
   * as each partition got, so its GETs overlap writing this answer and the
   * consumer's turn. Best effort: a failure here costs nothing but the hint.
   */
  private prefetchAfter(plans: ReadPlan[]): void {
    const prefetch = this.d.blobs.prefetch;
    if (prefetch === null) return;
    for (const p of plans) {
      if (p.ref === null || p.entries.length === 0 || p.out.errorCode !== 0) continue;
      const next = p.entries[p.entries.length - 1].lastOffset + 1;
      if (next >= p.out.highWatermark) continue;
      this.d.meta.readIndex(p.ref.topic.id, p.ref.partition, next, sum(p.entries))
        .then(prefetch, () => {});
    }
  }

  /**
   * A partition's answer without its records, and the index entries that
   * could fill it: up to its own limit and the request's, before the budget
   * that earlier partitions leave is applied.
   */
  private async plan(want: FetchWant, readCommitted: boolean, maxBytes: number): Promise<ReadPlan> {
    const out: FetchRead = {
      errorCode: want.at.errorCode,
      message: want.at.ref ? null : want.at.message,
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      abortedTransactions: null,
      records: NO_RECORDS,
    };
    const plan: ReadPlan = { out, ref: null, fetchOffset: want.fetchOffset, room: 0, entries: [] };
    const ref = want.at.ref;
    if (ref === null) return plan;
    const st = await this.state(ref);
    if (!("highWatermark" in st) || st.errorCode !== 0) {
      out.errorCode = st.errorCode;
      out.message = st.message;
      return plan;
    }
    out.highWatermark = st.highWatermark;
    out.lastStableOffset = st.lastStableOffset;
    out.logStartOffset = st.logStartOffset;
    if (readCommitted) out.abortedTransactions = [];
    if (want.fetchOffset < st.logStartOffset || want.fetchOffset > st.highWatermark) {
      out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
      return plan;
    }
    const limit = readCommitted ? st.lastStableOffset : st.highWatermark;
    plan.room = Math.min(want.partitionMaxBytes, maxBytes);
    if (want.fetchOffset >= limit || plan.room <= 0) return plan;
    try {
      plan.entries =
        (await this.d.meta.readIndex(ref.topic.id, ref.partition, want.fetchOffset, plan.room))
          .filter((e) => e.baseOffset < limit);
      plan.ref = ref;
    } catch (e) {
      out.errorCode = this.failure(e);
      out.message = messageOf(e);
      plan.entries = [];
    }
    return plan;
  }

  /** Reads a plan's batches (and, under read_committed, its aborted transactions) into its answer. */
  private async fill(plan: ReadPlan, readCommitted: boolean): Promise<FetchRead> {
    const { out, ref, entries } = plan;
    if (ref === null || entries.length === 0) return out;
    try {
      const [records, aborted] = await Promise.all([
        this.readBatches(entries),
        // The aborted transactions whose records may be among those returned.
        readCommitted
          ? this.d.meta.abortedTransactions(
            ref.topic.id,
            ref.partition,
            plan.fetchOffset,
            entries[entries.length - 1].lastOffset + 1,
          )
          : null,
      ]);
      out.records = records;
      if (aborted) {
        out.abortedTransactions = aborted.map((a) => ({
          producerId: a.producerId,
          firstOffset: a.firstOffset,
        }));
      }
      for (const e of entries) this.d.metrics.recordsFetched += e.lastOffset - e.baseOffset + 1;
    } catch (e) {
      out.errorCode = this.failure(e);
      out.message = messageOf(e);
      out.records = NO_RECORDS;
    }
    return out;
  }

  /**
   * Reads the batches of index entries and writes each batch's assigned base
   * offset into its first eight bytes. A store with LogStore.readRanges reads
   * them all into one buffer of the caller's own, and the headers are
   * rewritten where they lie. Otherwise the reads are all asked for before
   * waiting on any, one per run of adjacent entries, so a log store can serve
   * neighbouring runs with one read; a store whose reads are views (memory:)
   * is asked batch by batch, since joining them would cost a copy.
   */
  private async readBatches(entries: IndexEntry[]): Promise<Uint8Array[]> {
    const readRanges = this.d.blobs.readRanges;
    // A store whose reads are views (memory:) would copy to join them: worth it
    // for up to a staging buffer's worth, which the connection would copy
    // anyway; larger sets stay views, so memory holds one staging buffer, not
    // a copy of the whole set.
    const views = this.d.blobs.readsAreViews;
    if (readRanges && (!views || sum(entries) <= VIEWS_JOINED_MAX_BYTES)) {
      // One buffer of the caller's own: the headers are rewritten where they lie.
      const all = await readRanges(entries);
      let at = 0;
      for (const e of entries) {
        writeBaseOffset(all.subarray(at, at + 8), e.baseOffset);
        all.fill(0, at + 12, at + BATCH_PREFIX);
        at += e.length;
      }
      return [all];
    }
    const runs: { from: number; to: number; data: Promise<Uint8Array> }[] = [];
    const join = !views;
    let i = 0;
    while (i < entries.length) {
      let j = i + 1;
      let end = entries[i].position + entries[i].length;
      while (
        join && j < entries.length && entries[j].blob === entries[i].blob &&
        entries[j].position === end
      ) {
        end += entries[j].length;
        j++;
      }
      runs.push({
        from: i,
        to: j,
        data: this.d.blobs.read(entries[i].blob, entries[i].position, end - entries[i].position),
      });
      i = j;
    }
    // Every read is settled before returning, so none is left failing unobserved.
    const settled = await Promise.allSettled(runs.map((r) => r.data));
    const chunks: Uint8Array[] = [];
    // The rewritten first 16 bytes of every batch, side by side in one buffer:
    // the base offset, the batch length as stored, and the partition leader
    // epoch, which the broker sets on append (0 here: leadership never moves)
    // and consumers commit with their offsets (KIP-320). Both lie outside the CRC.
    const headers = new Uint8Array(BATCH_PREFIX * entries.length);
    for (let r = 0; r < runs.length; r++) {
      const s = settled[r];
      if (s.status === "rejected") throw s.reason;
      let at = 0;
      for (let k = runs[r].from; k < runs[r].to; k++) {
        const e = entries[k];
        const header = headers.subarray(BATCH_PREFIX * k, BATCH_PREFIX * (k + 1));
        writeBaseOffset(header, e.baseOffset);
        header.set(s.value.subarray(at + 8, at + 12), 8);
        // header[12..16] stay 0: partition leader epoch 0.
        chunks.push(header, s.value.subarray(at + BATCH_PREFIX, at + e.length));
        at += e.length;
      }
    }
    return chunks;
  }
}

function messageOf(e: unknown): string | null {
  return isStoreFailure(e) ? e.message : null;
}

/**
 * The leading entries that fit in `room` bytes (readIndex's rule: the first
 * always, then whole entries while they fit); past the first partition with
 * data (`wholeOnly`), KIP-74 allows only whole batches that fit.
 */
function fitting(entries: IndexEntry[], room: number, wholeOnly: boolean): IndexEntry[] {
  if (room <= 0) return [];
  let n = 0;
  let bytes = 0;
  while (n < entries.length && (n === 0 || bytes + entries[n].length <= room)) {
    bytes += entries[n].length;
    n++;
  }
  if (wholeOnly && bytes > room) return [];
  return n === entries.length ? entries : entries.slice(0, n);
}

function sum(entries: IndexEntry[]): number {
  let n = 0;
  for (const e of entries) n += e.length;
  return n;
}

function sizeOf(chunks: Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}
