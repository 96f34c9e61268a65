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

export const listOffsets = defineHandler({
  api: LIST_OFFSETS_API,
  minVersion: 1,
  maxVersion: 10,
  async handle(req, ctx) {
    const log = ctx.broker.partitions;
    const readCommitted = req.isolationLevel === 1;
    const out: ListOffsetsResponseTopic[] = [];
    for (const t of req.topics) {
      const lookup = await log.topicByName(t.name);
      const partitions: ListOffsetsResponsePartition[] = [];
      for (const p of t.partitions) {
        const at = log.locate(lookup, p.partitionIndex);
        const r = at.ref === null
          ? { errorCode: at.errorCode, offset: -1, timestamp: -1 }
          : await log.offsetForTimestamp(at.ref, p.timestamp, readCommitted);
        partitions.push({
          partitionIndex: p.partitionIndex,
          errorCode: r.errorCode,
          timestamp: r.timestamp,
          offset: r.offset,
          // Leadership never moves here: every partition is in leader epoch 0.
          leaderEpoch: r.errorCode === ErrorCode.NONE ? 0 : -1,
        });
      }
      out.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics: out };
  },
});
