/**
 * The log cleaner of compacted topics (cleanup.policy=compact, KIP-58):
 * keeps, per key, the latest record of the cleanable part of each partition,
 * and drops tombstones once they are older than delete.retention.ms.
 *
 * No broker owns a partition, so cleaning is made safe for any number of
 * brokers sharing the stores, and for any of them dying mid-clean:
 *
 * 1. A broker claims the partition with a lease in the meta store; only the
 *    holder cleans it, and a dead holder's lease runs out.
 * 2. Pass one reads the dirty part (from the cleaner's checkpoint to the first
 *    uncleanable offset, see compaction_policy.ts) and maps each key to its
 *    latest offset.
 * 3. Pass two recopies the cleanable log window by window: a batch whose every
 *    record survives keeps its stored bytes and index entry; one with none left
 *    goes (compacted logs have offset gaps); the rest are written again, with
 *    their base offset and last offset delta kept (as Kafka's cleaner keeps
 *    them, so offsets and producer state survive), into one new blob per
 *    window. The window's index entries are then swapped for the new ones in
 *    one atomic meta-store operation that fails if any of them changed
 *    meanwhile (DeleteRecords, retention, another cleaner). A broker killed
 *    at any point leaves a readable log: the old entries, or the new ones.
 * 4. Blobs no entry points to any more are removed by the log store's sweep
 *    after its grace period, so a fetch in flight never reads one that went.
 *
 * Transactional and control batches are kept as they are, and transactional
 * records never count as a key's latest value (they may be aborted): so the
 * markers of every transaction whose data is kept stay, and an aborted write
 * never costs the committed value before it. Compacting transactional data
 * (dropping aborted records, then markers with no data left) is not done yet.
 */

import { getLogger } from "@logtape/logtape";
import { BatchAttributes, decodeBatch, encodeBatch } from "../protocol/batch_codec.ts";
import { compressionByName, compressionOf } from "../protocol/compression.ts";
import type { IndexEntry, LogStore, MetaStore, TopicInfo } from "../stores/types.ts";
import { topicConfig } from "./config.ts";
import { cleaningNeed, type CompactionConfig, compactionConfig } from "./compaction_policy.ts";
import type { Metrics } from "./metrics.ts";
import { cleanupPolicies } from "./retention.ts";

const log = getLogger(["skb", "cleaner"]);

/** Attributes bits of batches the cleaner leaves as they are. */
const TRANSACTIONAL_BIT = BatchAttributes.TRANSACTIONAL;
const CONTROL_BIT = BatchAttributes.CONTROL;

/** What the cleaner needs. */
export interface CleanerDeps {
  meta: MetaStore;
  log: LogStore;
  metrics: Metrics;
  /** This broker process's lease owner id (unique per process). */
  owner: string;
}

/** Tunables. */
export interface CleanerOptions {
  /** How long a claim lasts without renewal (renewed between windows). */
  leaseMs: number;
  /** About how many bytes of batches one window recopies (and holds in memory). */
  windowBytes: number;
  now?: () => number;
}

/** What one partition's cleaning did. */
export interface PartitionCleaned {
  topic: string;
  partition: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
  batchesRemoved: number;
  /** False when a swap was refused (the log changed meanwhile); the next pass retries. */
  completed: boolean;
}

const latin1 = new TextDecoder("latin1");

export class LogCleaner {
  private readonly now: () => number;

  constructor(private readonly d: CleanerDeps, private readonly opts: CleanerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** One pass over every partition of every compacted topic; what was cleaned. */
  async runOnce(): Promise<PartitionCleaned[]> {
    const done: PartitionCleaned[] = [];
    for (const topic of await this.d.meta.listTopics()) {
      if (!cleanupPolicies(topic).has("compact")) continue;
      for (let p = 0; p < topic.partitions; p++) {
        try {
          const r = await this.cleanPartition(topic, p);
          if (r) done.push(r);
        } catch (e) {
          log.warn("Cleaning {topic}-{partition} failed: {error}", {
            topic: topic.name,
            partition: p,
            error: e,
          });
        }
      }
    }
    return done;
  }

  /** Cleans one partition if it needs it and no other broker is; null when it was left alone. */
  async cleanPartition(topic: TopicInfo, partition: number): Promise<PartitionCleaned | null> {
    const { meta } = this.d;
    const cfg = compactionConfig(topic);
    const st = await meta.partitionState(topic.id, partition);
    const cs = await meta.cleanerState(topic.id, partition);
    if (!st || !cs || st.logStartOffset >= st.highWatermark) return null;
    const entries = await meta.readIndex(
      topic.id,
      partition,
      st.logStartOffset,
      Number.MAX_SAFE_INTEGER,
    );
    const cleanedThrough = Math.max(cs.cleanedThrough, st.logStartOffset);
    const need = cleaningNeed(entries, cleanedThrough, st.highWatermark, cfg, this.now());
    if (!need.clean) return null;
    if (!await this.claim(topic, partition)) return null;
    try {
      return await this.clean(
        topic,
        partition,
        cfg,
        entries,
        cleanedThrough,
        need.firstUncleanable,
      );
    } finally {
      await meta.releaseCleaning(topic.id, partition, this.d.owner).catch(() => {});
    }
  }

  private claim(topic: TopicInfo, partition: number): Promise<boolean> {
    return this.d.meta.claimCleaning(
      topic.id,
      partition,
      this.d.owner,
      this.now(),
      this.opts.leaseMs,
    );
  }

  private async clean(
    topic: TopicInfo,
    partition: number,
    cfg: CompactionConfig,
    entries: IndexEntry[],
    cleanedThrough: number,
    firstUncleanable: number,
  ): Promise<PartitionCleaned> {
    const result: PartitionCleaned = {
      topic: topic.name,
      partition,
      bytesRead: 0,
      bytesWritten: 0,
      recordsRemoved: 0,
      batchesRemoved: 0,
      completed: false,
    };
    const cleanable = entries.filter((e) => e.lastOffset < firstUncleanable);
    // Pass one: the latest offset of every key written in the dirty part.
    const latest = new Map<string, number>();
    const dirty = cleanable.filter((e) => e.lastOffset >= cleanedThrough);
    for (const window of windows(dirty, this.opts.windowBytes)) {
      const batches = await this.read(window);
      for (let i = 0; i < window.length; i++) {
        result.bytesRead += batches[i].length;
        const b = decodeBatch(batches[i]);
        // Transactional records may belong to an aborted transaction: they must not
        // shadow older values of their keys, so they do not count as the latest.
        if ((b.header.attributes & (CONTROL_BIT | TRANSACTIONAL_BIT)) !== 0) continue;
        for (const r of b.records) {
          if (r.key !== null) {
            latest.set(latin1.decode(r.key), window[i].baseOffset + r.offsetDelta);
          }
        }
      }
    }
    // Pass two: recopy the cleanable log, window by window, each swapped in atomically.
    const deleteHorizon = this.now() - cfg.deleteRetentionMs;
    const codecName = topicConfig(topic.configs, "compression.type");
    const all = windows(cleanable, this.opts.windowBytes);
    for (let w = 0; w < all.length; w++) {
      const window = all[w];
      const last = w === all.length - 1;
      if (!await this.claim(topic, partition)) return result;
      const stored = await this.read(window);
      const replacement: IndexEntry[] = [];
      const rewritten: { at: number; bytes: Uint8Array }[] = [];
      let changed = false;
      for (let i = 0; i < window.length; i++) {
        const e = window[i];
        const bytes = stored[i];
        const b = decodeBatch(bytes);
        if ((b.header.attributes & (CONTROL_BIT | TRANSACTIONAL_BIT)) !== 0) {
          replacement.push(e);
          continue;
        }
        const kept = b.records.filter((r) => {
          const offset = e.baseOffset + r.offsetDelta;
          if (r.key !== null) {
            const newest = latest.get(latin1.decode(r.key));
            if (newest !== undefined && offset < newest) return false;
          }
          // A tombstone goes once it has been through a cleaning and is older than
          // delete.retention.ms, so consumers had that long to see the delete.
          if (
            r.value === null && offset < cleanedThrough && b.header.maxTimestamp < deleteHorizon
          ) {
            return false;
          }
          return true;
        });
        if (kept.length === b.records.length) {
          replacement.push(e);
          continue;
        }
        changed = true;
        result.recordsRemoved += b.records.length - kept.length;
        if (kept.length === 0) {
          result.batchesRemoved++;
          continue;
        }
        const codec = codecName === "producer" || codecName === ""
          ? compressionOf(b.header.attributes)
          : compressionByName(codecName === "uncompressed" ? "none" : codecName);
        const out = encodeBatch(b.header, kept, codec);
        rewritten.push({ at: replacement.length, bytes: out });
        replacement.push({ ...e, blob: "", position: 0, length: out.length });
      }
      if (!changed && !last) continue;
      if (rewritten.length > 0) {
        const blob = await this.d.log.write(rewritten.map((r) => r.bytes));
        let position = 0;
        for (const r of rewritten) {
          replacement[r.at] = { ...replacement[r.at], blob, position };
          position += r.bytes.length;
          result.bytesWritten += r.bytes.length;
        }
      }
      const swapped = await this.d.meta.replaceIndexEntries(
        topic.id,
        partition,
        this.d.owner,
        this.now(),
        window,
        changed ? replacement : window,
        last ? firstUncleanable : cleanedThrough,
      );
      if (!swapped) {
        log.info("Cleaning {topic}-{partition} found the log changed; it is retried later", {
          topic: topic.name,
          partition,
        });
        return result;
      }
    }
    result.completed = true;
    this.d.metrics.cleaned(result.bytesRead, result.bytesWritten, result.recordsRemoved);
    return result;
  }

  /** Each entry's stored batch, one log-store read per run of adjacent entries. */
  private async read(entries: IndexEntry[]): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < entries.length) {
      let j = i + 1;
      let end = entries[i].position + entries[i].length;
      while (
        j < entries.length && entries[j].blob === entries[i].blob && entries[j].position === end
      ) {
        end += entries[j].length;
        j++;
      }
      const data = await this.d.log.read(
        entries[i].blob,
        entries[i].position,
        end - entries[i].position,
      );
      let at = 0;
      for (let k = i; k < j; k++) {
        out.push(data.subarray(at, at + entries[k].length));
        at += entries[k].length;
      }
      i = j;
    }
    return out;
  }
}

/** Consecutive runs of entries of about `bytes` each (at least one entry per run). */
function windows(entries: IndexEntry[], bytes: number): IndexEntry[][] {
  const out: IndexEntry[][] = [];
  let current: IndexEntry[] = [];
  let size = 0;
  for (const e of entries) {
    if (current.length > 0 && size + e.length > bytes) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(e);
    size += e.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}
