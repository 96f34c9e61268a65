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
import { guardLookup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const offsetForLeaderEpoch = defineHandler({
  api: OFFSET_FOR_LEADER_EPOCH_API,
  minVersion: 2,
  maxVersion: 4,
  async handle(req, ctx) {
    const log = ctx.broker.partitions;
    const out: OffsetForLeaderEpochResponseTopic[] = [];
    for (const t of req.topics) {
      const lookup = guardLookup(ctx, Op.DESCRIBE, await log.topicByName(t.topic), t.topic);
      const partitions: OffsetForLeaderEpochResponsePartition[] = [];
      for (const p of t.partitions) {
        const at = log.locate(lookup, p.partition);
        const r = at.ref === null
          ? { errorCode: at.errorCode, leaderEpoch: -1, endOffset: -1 }
          : await log.endOfEpoch(at.ref, p.currentLeaderEpoch, p.leaderEpoch);
        partitions.push({
          errorCode: r.errorCode,
          partition: p.partition,
          leaderEpoch: r.leaderEpoch,
          endOffset: r.endOffset,
        });
      }
      out.push({ topic: t.topic, partitions });
    }
    return { throttleTimeMs: 0, topics: out };
  },
});
