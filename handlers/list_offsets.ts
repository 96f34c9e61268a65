/**
 * ListOffsets (key 2), versions 1-11. Special timestamps: -2 earliest, -1
 * latest (the last stable offset for read_committed), -3 the batch holding the
 * greatest timestamp (KIP-734), -4 earliest local (v8+, KIP-405; the log
 * start), -5 latest tiered (v9+, KIP-1005) and -6 earliest pending upload
 * (v11+, KIP-1023); with no tiered storage both of these are -1, as Kafka
 * answers for a topic without it. A special timestamp the version does not
 * know is UNSUPPORTED_VERSION, as Kafka 4.4 answers. A timestamp >= 0 finds
 * the first batch whose max timestamp reaches it. No offset found: offset,
 * timestamp and leader epoch are -1.
 */

import {
  LIST_OFFSETS_API,
  type ListOffsetsResponsePartition,
  type ListOffsetsResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import {
  EARLIEST_LOCAL,
  EARLIEST_PENDING_UPLOAD,
  LATEST_TIERED,
  MAX_TIMESTAMP,
} from "../broker/partition_log.ts";
import { guardLookup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

/** The lowest special timestamp each version knows. */
function lowestTimestamp(version: number): number {
  if (version >= 11) return EARLIEST_PENDING_UPLOAD;
  if (version >= 9) return LATEST_TIERED;
  if (version >= 8) return EARLIEST_LOCAL;
  return MAX_TIMESTAMP;
}

export const listOffsets = defineHandler({
  api: LIST_OFFSETS_API,
  minVersion: 1,
  maxVersion: 11,
  async handle(req, ctx) {
    const log = ctx.broker.partitions;
    const readCommitted = req.isolationLevel === 1;
    const lowest = lowestTimestamp(ctx.apiVersion);
    const out: ListOffsetsResponseTopic[] = [];
    for (const t of req.topics) {
      const lookup = guardLookup(ctx, Op.DESCRIBE, await log.topicByName(t.name), t.name);
      const partitions: ListOffsetsResponsePartition[] = [];
      for (const p of t.partitions) {
        const at = log.locate(lookup, p.partitionIndex);
        const r = at.ref === null
          ? { errorCode: at.errorCode, offset: -1, timestamp: -1 }
          : p.timestamp < lowest
          ? { errorCode: ErrorCode.UNSUPPORTED_VERSION, offset: -1, timestamp: -1 }
          : await log.offsetForTimestamp(at.ref, p.timestamp, readCommitted);
        partitions.push({
          partitionIndex: p.partitionIndex,
          errorCode: r.errorCode,
          timestamp: r.timestamp,
          offset: r.offset,
          // Leadership never moves here: every partition is in leader epoch 0.
          leaderEpoch: r.errorCode === ErrorCode.NONE && r.offset >= 0 ? 0 : -1,
        });
      }
      out.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics: out };
  },
});
