/**
 * Time-based retention (retention.ms): batches whose newest record is older
 * than the topic's retention leave the log by moving its start offset
 * forward, like Kafka deleting old segments. Any broker may run it; moving the
 * log start is idempotent, so brokers running it at once do no harm. Topics
 * that set no retention.ms take the dynamic cluster-wide log.retention.ms
 * (or .minutes, .hours) from the meta store (KIP-226), else Kafka's 7 days.
 */

import type { MetaStore } from "../stores/types.ts";
import { BROKER_ENTITY, retentionMsOf } from "./dynamic_config.ts";

/** Applies retention.ms to every partition; returns how many partitions moved their start. */
export async function enforceRetention(meta: MetaStore, nowMs: number): Promise<number> {
  let moved = 0;
  const [cluster] = await meta.entityConfigs(BROKER_ENTITY, [""]);
  const brokerDefault = retentionMsOf(cluster?.configs ?? {});
  for (const topic of await meta.listTopics()) {
    const own = topic.configs["retention.ms"];
    const retentionMs = own !== undefined ? Number(own) : brokerDefault;
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
