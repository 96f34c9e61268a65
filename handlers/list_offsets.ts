/**
 * ListOffsets (key 2), versions 1-10. Special timestamps: -2 earliest, -1
 * latest (the last stable offset for read_committed), -3 the batch holding the
 * greatest timestamp (KIP-734), -4 earliest local and -5 earliest pending
 * upload (KIP-1005; with no tiered storage both are the log start). A
 * timestamp >= 0 finds the first batch whose max timestamp reaches it.
 */

import {
  LIST_OFFSETS_API,
  type ListOffsetsResponsePartition,
  type ListOffsetsResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const EARLIEST_PENDING_UPLOAD = -5;
const LATEST_TIERED = -6;

export const listOffsets = defineHandler({
  api: LIST_OFFSETS_API,
  minVersion: 1,
  maxVersion: 10,
  async handle(req, ctx) {
    const { meta, topics } = ctx.broker;
    const out: ListOffsetsResponseTopic[] = [];
    for (const t of req.topics) {
      const topic = await topics.byTopicName(t.name);
      const partitions: ListOffsetsResponsePartition[] = [];
      for (const p of t.partitions) {
        const r: ListOffsetsResponsePartition = {
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.NONE,
          timestamp: -1,
          offset: -1,
          leaderEpoch: -1,
        };
        partitions.push(r);
        if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
          r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        try {
          const st = await meta.partitionState(topic.id, p.partitionIndex);
          if (!st) {
            r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            continue;
          }
          r.leaderEpoch = 0;
          switch (p.timestamp) {
            case LATEST:
            case LATEST_TIERED:
              r.offset = req.isolationLevel === 1 ? st.lastStableOffset : st.highWatermark;
              break;
            case EARLIEST:
            case EARLIEST_LOCAL:
            case EARLIEST_PENDING_UPLOAD:
              r.offset = st.logStartOffset;
              break;
            case MAX_TIMESTAMP: {
              const e = await meta.maxTimestampEntry(topic.id, p.partitionIndex);
              if (e) {
                r.offset = e.lastOffset;
                r.timestamp = e.maxTimestamp;
              }
              break;
            }
            default: {
              if (p.timestamp < 0) {
                r.errorCode = ErrorCode.INVALID_REQUEST;
                break;
              }
              const e = await meta.findByTimestamp(topic.id, p.partitionIndex, p.timestamp);
              if (e) {
                r.offset = Math.max(e.baseOffset, st.logStartOffset);
                r.timestamp = e.maxTimestamp;
              }
            }
          }
        } catch {
          ctx.broker.metrics.storeError("meta", "listOffsets");
          r.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
        }
      }
      out.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics: out };
  },
});
