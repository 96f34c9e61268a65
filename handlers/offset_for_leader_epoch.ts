/**
 * OffsetForLeaderEpoch (key 23), versions 2-4. Consumers use it to check
 * their position after a leader change (KIP-320). Leadership never moves
 * here (every partition has leader epoch 0, since the stores are shared), so
 * the end offset of epoch 0 or later is the high watermark; an older epoch
 * has none.
 */

import {
  OFFSET_FOR_LEADER_EPOCH_API,
  type OffsetForLeaderEpochResponsePartition,
  type OffsetForLeaderEpochResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";

export const offsetForLeaderEpoch = defineHandler({
  api: OFFSET_FOR_LEADER_EPOCH_API,
  minVersion: 2,
  maxVersion: 4,
  async handle(req, ctx) {
    const out: OffsetForLeaderEpochResponseTopic[] = [];
    for (const t of req.topics) {
      const topic = await ctx.broker.topics.byTopicName(t.topic);
      const partitions = [];
      for (const p of t.partitions) {
        const r: OffsetForLeaderEpochResponsePartition = {
          errorCode: ErrorCode.NONE,
          partition: p.partition,
          leaderEpoch: -1,
          endOffset: -1,
        };
        partitions.push(r);
        if (!topic || p.partition < 0 || p.partition >= topic.partitions) {
          r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        if (p.currentLeaderEpoch > 0) {
          r.errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH;
          continue;
        }
        const st = await ctx.broker.meta.partitionState(topic.id, p.partition);
        if (!st) {
          r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        if (p.leaderEpoch >= 0) {
          r.leaderEpoch = 0;
          r.endOffset = st.highWatermark;
        }
      }
      out.push({ topic: t.topic, partitions });
    }
    return { throttleTimeMs: 0, topics: out };
  },
});
