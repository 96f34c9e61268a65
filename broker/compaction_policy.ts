/**
 * What the log cleaner may clean, and when (Kafka's LogCleanerManager rules,
 * KIP-58 and KIP-354, applied to our index instead of segment files):
 *
 * - The log is cut into virtual segments the way Kafka rolls them: a segment
 *   ends once it holds segment.bytes, or when a batch arrives whose timestamp
 *   is segment.ms past the segment's first batch. The last segment is the
 *   active one and is never cleaned, nor is anything newer than
 *   min.compaction.lag.ms: the first uncleanable offset is the earlier of the two.
 * - A partition is cleaned when the dirty part (from the cleaner's checkpoint
 *   to the first uncleanable offset) is at least min.cleanable.dirty.ratio of
 *   the cleanable log, or when its oldest dirty batch is older than
 *   max.compaction.lag.ms (KIP-354), so that a quiet topic is still compacted
 *   in bounded time.
 */

import type { IndexEntry, TopicInfo } from "../stores/types.ts";
import { topicConfig } from "./config.ts";

/** The compaction configs of a topic, as numbers. */
export interface CompactionConfig {
  minCleanableDirtyRatio: number;
  minCompactionLagMs: number;
  maxCompactionLagMs: number;
  deleteRetentionMs: number;
  segmentBytes: number;
  segmentMs: number;
}

/** The topic's compaction configs (its own values, else Kafka's defaults). */
export function compactionConfig(topic: Pick<TopicInfo, "configs">): CompactionConfig {
  const n = (name: string) => Number(topicConfig(topic.configs, name));
  return {
    minCleanableDirtyRatio: n("min.cleanable.dirty.ratio"),
    minCompactionLagMs: n("min.compaction.lag.ms"),
    maxCompactionLagMs: n("max.compaction.lag.ms"),
    deleteRetentionMs: n("delete.retention.ms"),
    segmentBytes: n("segment.bytes"),
    segmentMs: n("segment.ms"),
  };
}

/**
 * The first offset the cleaner must not touch: the start of the active
 * segment, or the first batch newer than min.compaction.lag.ms, whichever
 * comes first. `entries` are the partition's index from its log start, in
 * order; `highWatermark` ends the log.
 */
export function firstUncleanableOffset(
  entries: readonly IndexEntry[],
  highWatermark: number,
  cfg: CompactionConfig,
  nowMs: number,
): number {
  if (entries.length === 0) return highWatermark;
  // Where the last (active) segment starts.
  let segmentStart = 0;
  let segmentBytes = 0;
  let segmentFirstTs = entries[0].maxTimestamp;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const full = segmentBytes >= cfg.segmentBytes;
    const old = e.maxTimestamp - segmentFirstTs >= cfg.segmentMs;
    if (i > segmentStart && (full || old)) {
      segmentStart = i;
      segmentBytes = 0;
      segmentFirstTs = e.maxTimestamp;
    }
    segmentBytes += e.length;
  }
  // The active segment also closes on time alone: Kafka rolls it at the next append once it
  // is segment.ms old, and at once when it is past max.compaction.lag.ms (KIP-354); a quiet
  // partition's head that old is as good as closed.
  const headAge = nowMs - segmentFirstTs;
  let uncleanable = headAge >= cfg.segmentMs || headAge > cfg.maxCompactionLagMs
    ? highWatermark
    : entries[segmentStart].baseOffset;
  const lagCutoff = nowMs - cfg.minCompactionLagMs;
  for (const e of entries) {
    if (e.baseOffset >= uncleanable) break;
    if (e.maxTimestamp > lagCutoff) {
      uncleanable = e.baseOffset;
      break;
    }
  }
  return uncleanable;
}

/** Why a partition is (or is not) cleaned now. */
export interface CleaningNeed {
  clean: boolean;
  /** Bytes from the checkpoint to the first uncleanable offset, over the cleanable log's bytes. */
  dirtyRatio: number;
  firstUncleanable: number;
  reason: "dirty-ratio" | "max-compaction-lag" | "nothing-dirty" | "below-ratio";
}

/** Whether the cleaner should clean a partition now. */
export function cleaningNeed(
  entries: readonly IndexEntry[],
  cleanedThrough: number,
  highWatermark: number,
  cfg: CompactionConfig,
  nowMs: number,
): CleaningNeed {
  const firstUncleanable = firstUncleanableOffset(entries, highWatermark, cfg, nowMs);
  let clean = 0;
  let dirty = 0;
  let oldestDirty = Infinity;
  for (const e of entries) {
    if (e.baseOffset >= firstUncleanable) break;
    if (e.lastOffset < cleanedThrough) {
      clean += e.length;
    } else {
      dirty += e.length;
      oldestDirty = Math.min(oldestDirty, e.maxTimestamp);
    }
  }
  const total = clean + dirty;
  const dirtyRatio = total === 0 ? 0 : dirty / total;
  if (dirty === 0) return { clean: false, dirtyRatio, firstUncleanable, reason: "nothing-dirty" };
  if (dirtyRatio >= cfg.minCleanableDirtyRatio) {
    return { clean: true, dirtyRatio, firstUncleanable, reason: "dirty-ratio" };
  }
  if (nowMs - oldestDirty > cfg.maxCompactionLagMs) {
    return { clean: true, dirtyRatio, firstUncleanable, reason: "max-compaction-lag" };
  }
  return { clean: false, dirtyRatio, firstUncleanable, reason: "below-ratio" };
}
