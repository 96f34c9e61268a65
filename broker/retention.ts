/**
 * Time-based retention (retention.ms): batches whose newest record is older
 * than the topic's retention leave the log by moving its start offset
 * forward, like Kafka deleting old segments. Any broker may run it; moving the
 * log start is idempotent, so brokers running it at once do no harm.
 */

import type { MetaStore } from "../stores/types.ts";
import { topicConfig } from "./config.ts";

/** Applies retention.ms to every partition; returns how many partitions moved their start. */
export async function enforceRetention(meta: MetaStore, nowMs: number): Promise<number> {
  let moved = 0;
  for (const topic of await meta.listTopics()) {
    const retentionMs = Number(topicConfig(topic.configs, "retention.ms"));
    if (!Number.isFinite(retentionMs) || retentionMs < 0) continue;
    const cutoff = nowMs - retentionMs;
    for (let p = 0; p < topic.partitions; p++) {
      const state = await meta.partitionState(topic.id, p);
      if (!state || state.logStartOffset >= state.highWatermark) continue;
      const firstKept = await meta.findByTimestamp(topic.id, p, cutoff);
      const target = firstKept ? firstKept.baseOffset : state.highWatermark;
      if (target > state.logStartOffset) {
        await meta.advanceLogStart(topic.id, p, target);
        moved++;
      }
    }
  }
  return moved;
}
