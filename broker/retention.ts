/**
 * Retention of topics whose cleanup.policy includes "delete" (KIP-71: a
 * "compact" topic keeps everything the cleaner keeps; "compact,delete" gets
 * both). By time (retention.ms): batches whose newest record is older than
 * the retention leave the log. By size (retention.bytes, per partition): the
 * oldest batches leave until the partition holds no more than that. Either
 * moves the log start offset forward, as Kafka deletes old segments, but a
 * batch at a time rather than a segment. Any broker may run it; moving the log
 * start is idempotent, so brokers running it at once do no harm. Topics that
 * set no retention.ms take the dynamic cluster-wide log.retention.ms (or
 * .minutes, .hours) from the meta store (KIP-226), else Kafka's 7 days.
 */

import type { MetaStore, TopicInfo } from "../stores/types.ts";
import { topicConfig } from "./config.ts";
import { BROKER_ENTITY, retentionMsOf } from "./dynamic_config.ts";

/** The policies of a topic's cleanup.policy ("delete", "compact", or both). */
export function cleanupPolicies(topic: Pick<TopicInfo, "configs">): Set<string> {
  return new Set(
    topicConfig(topic.configs, "cleanup.policy").split(",").map((p) => p.trim().toLowerCase()),
  );
}

/**
 * Applies retention.ms and retention.bytes to every partition of every topic
 * with the delete policy; returns how many partitions moved their start.
 */
export async function enforceRetention(meta: MetaStore, nowMs: number): Promise<number> {
  let moved = 0;
  const [cluster] = await meta.entityConfigs(BROKER_ENTITY, [""]);
  const clusterConfigs = cluster?.configs ?? {};
  const brokerDefault = retentionMsOf(clusterConfigs);
  const brokerBytes = Number(clusterConfigs["log.retention.bytes"] ?? -1);
  for (const topic of await meta.listTopics()) {
    if (!cleanupPolicies(topic).has("delete")) continue;
    const own = topic.configs["retention.ms"];
    const retentionMs = own !== undefined ? Number(own) : brokerDefault;
    const ownBytes = topic.configs["retention.bytes"];
    const retentionBytes = ownBytes !== undefined ? Number(ownBytes) : brokerBytes;
    const byTime = Number.isFinite(retentionMs) && retentionMs >= 0;
    const bySize = Number.isFinite(retentionBytes) && retentionBytes >= 0;
    if (!byTime && !bySize) continue;
    const sizes = bySize ? await meta.partitionSizes(topic.id, topic.partitions) : [];
    for (let p = 0; p < topic.partitions; p++) {
      const state = await meta.partitionState(topic.id, p);
      if (!state || state.logStartOffset >= state.highWatermark) continue;
      let target = state.logStartOffset;
      if (byTime) {
        const firstKept = await meta.findByTimestamp(topic.id, p, nowMs - retentionMs);
        target = Math.max(target, firstKept ? firstKept.baseOffset : state.highWatermark);
      }
      if (bySize && sizes[p] > retentionBytes) {
        target = Math.max(
          target,
          await firstOffsetWithin(
            meta,
            topic.id,
            p,
            state.logStartOffset,
            sizes[p] - retentionBytes,
          ),
        );
      }
      if (target > state.logStartOffset) {
        await meta.advanceLogStart(topic.id, p, target);
        moved++;
      }
    }
  }
  return moved;
}

/**
 * The offset the log must start at for at least `excess` bytes of its oldest
 * batches to go: just past the shortest run of batches from the log start
 * that holds that many bytes.
 */
async function firstOffsetWithin(
  meta: MetaStore,
  topicId: string,
  partition: number,
  logStart: number,
  excess: number,
): Promise<number> {
  let removed = 0;
  let from = logStart;
  for (;;) {
    const entries = await meta.readIndex(topicId, partition, from, Math.max(excess - removed, 1));
    if (entries.length === 0) return from;
    for (const e of entries) {
      removed += e.length;
      from = e.lastOffset + 1;
      if (removed >= excess) return from;
    }
  }
}
