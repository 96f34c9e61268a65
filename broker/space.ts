/**
 * Room in a bounded log store (`memory:?max-bytes=`). Before the store refuses
 * a write that would go past its bound it asks {@link reclaimSpace}, which
 * frees space as retention would: the log start of delete-policy partitions
 * moves forward, oldest batches first across partitions (by each batch's max
 * timestamp), and the blobs nothing points to any more are removed at once.
 * Only blobs whose every batch went can be freed: a blob that also holds a
 * batch of a compact-only topic, or a partition's newest batch (never
 * dropped, so the high watermark keeps a batch behind it, as Kafka keeps the
 * active segment), stays. When nothing more can go, the write fails.
 */

import type { IndexEntry, LogSpace, LogStore, MetaStore, TopicInfo } from "../stores/types.ts";
import type { Metrics } from "./metrics.ts";
import { cleanupPolicies } from "./retention.ts";

/** Index entries are read a page of about this many bytes at a time. */
const PAGE_BYTES = 16 * 1024 * 1024;

/** Unreferenced blobs older than this are swept as the periodic sweep would (its grace). */
const SWEEP_GRACE_MS = 5 * 60 * 1000;

/** One delete-policy partition: its batches from the log start, oldest first. */
interface Queue {
  topic: TopicInfo;
  partition: number;
  /** Every batch but the newest (which is never dropped). */
  droppable: IndexEntry[];
  /** How many of `droppable` the plan drops. */
  next: number;
}

/** Every index entry of a partition from its log start. */
async function entriesOf(meta: MetaStore, topicId: string, partition: number) {
  const state = await meta.partitionState(topicId, partition);
  if (state === null) return [];
  const out: IndexEntry[] = [];
  let from = state.logStartOffset;
  while (from < state.highWatermark) {
    const page = await meta.readIndex(topicId, partition, from, PAGE_BYTES);
    if (page.length === 0) break;
    out.push(...page);
    from = page[page.length - 1].lastOffset + 1;
  }
  return out;
}

/**
 * Frees at least `neededBytes` of `space` if it can (as much as it can
 * otherwise); returns the bytes freed, 0 when nothing could go.
 */
export async function reclaimSpace(
  meta: MetaStore,
  log: LogStore,
  space: LogSpace,
  neededBytes: number,
): Promise<number> {
  const before = space.usedBytes();
  // Data of deleted topics and failed flushes first, as the periodic sweep would.
  await log.sweep(await meta.referencedBlobs(), SWEEP_GRACE_MS);
  let freed = before - space.usedBytes();
  if (freed >= neededBytes) return freed;

  // Which blobs may go once their droppable batches go, and how many each holds.
  const pinned = new Set<string>();
  const droppableIn = new Map<string, number>();
  const queues: Queue[] = [];
  for (const topic of await meta.listTopics()) {
    const deletable = cleanupPolicies(topic).has("delete");
    for (let p = 0; p < topic.partitions; p++) {
      const entries = await entriesOf(meta, topic.id, p);
      if (entries.length === 0) continue;
      if (!deletable) {
        for (const e of entries) pinned.add(e.blob);
        continue;
      }
      pinned.add(entries[entries.length - 1].blob);
      const droppable = entries.slice(0, -1);
      for (const e of droppable) droppableIn.set(e.blob, (droppableIn.get(e.blob) ?? 0) + 1);
      if (droppable.length > 0) queues.push({ topic, partition: p, droppable, next: 0 });
    }
  }

  // Plan: the oldest batch across partitions goes next, until enough is freed.
  const freeing = new Set<string>();
  let planned = 0;
  while (freed + planned < neededBytes) {
    let oldest: Queue | null = null;
    for (const q of queues) {
      if (q.next >= q.droppable.length) continue;
      if (
        oldest === null ||
        q.droppable[q.next].maxTimestamp < oldest.droppable[oldest.next].maxTimestamp
      ) {
        oldest = q;
      }
    }
    if (oldest === null) break;
    const e = oldest.droppable[oldest.next++];
    const left = droppableIn.get(e.blob)! - 1;
    droppableIn.set(e.blob, left);
    if (left === 0 && !pinned.has(e.blob)) {
      freeing.add(e.blob);
      planned += space.blobBytes(e.blob);
    }
  }
  if (freeing.size === 0) return freed;

  for (const q of queues) {
    if (q.next === 0) continue;
    await meta.advanceLogStart(q.topic.id, q.partition, q.droppable[q.next - 1].lastOffset + 1);
  }
  // Only blobs whose batches were all committed and have now all gone: a
  // blob written for a commit still in flight is never among them. Removing
  // them at once (no grace) is safe in the memory store: a fetch that has
  // read its bytes holds its own reference to them (as does the blob cache),
  // and one that read the index just before the log start moved finds the
  // blob gone, answers KAFKA_STORAGE_ERROR (retriable), and on its retry
  // OFFSET_OUT_OF_RANGE.
  const referenced = await meta.referencedBlobs();
  freed += space.discard([...freeing].filter((b) => !referenced.has(b)));
  return freed;
}

/**
 * Installs the broker's space reclaim on a bounded log store (one reclaim at
 * a time; the store makes writers that also need room wait for it) and its
 * used and max bytes as gauges.
 */
export function watchLogSpace(log: LogStore, meta: MetaStore, metrics: Metrics): void {
  const space = log.space;
  if (space === undefined) return;
  space.onFull = async (neededBytes) => (await reclaimSpace(meta, log, space, neededBytes)) > 0;
  metrics.gauges.set("skb_log_store_used_bytes", () => space.usedBytes());
  metrics.gaugeHelp.set("skb_log_store_used_bytes", "Bytes the bounded log store holds.");
  metrics.gauges.set("skb_log_store_max_bytes", () => space.maxBytes);
  metrics.gaugeHelp.set("skb_log_store_max_bytes", "The log store's bound (max-bytes).");
}
