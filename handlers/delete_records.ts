/**
 * DeleteRecords (key 21), versions 0-2: moves a partition's log start offset
 * forward (-1 means the high watermark). Index entries wholly below it go at
 * once; their bytes go at the next sweep.
 */

import {
  DELETE_RECORDS_API,
  type DeleteRecordsResponsePartition,
  type DeleteRecordsResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";

export const deleteRecords = defineHandler({
  api: DELETE_RECORDS_API,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const { meta, topics } = ctx.broker;
    const out: DeleteRecordsResponseTopic[] = [];
    for (const t of req.topics) {
      const topic = await topics.byTopicName(t.name);
      const partitions = [];
      for (const p of t.partitions) {
        const r: DeleteRecordsResponsePartition = {
          partitionIndex: p.partitionIndex,
          lowWatermark: -1,
          errorCode: ErrorCode.NONE,
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
          const target = p.offset === -1 ? st.highWatermark : p.offset;
          if (target < 0 || target > st.highWatermark) {
            r.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
            continue;
          }
          r.lowWatermark = await meta.advanceLogStart(topic.id, p.partitionIndex, target);
        } catch {
          ctx.broker.metrics.storeError("meta", "advanceLogStart");
          r.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
        }
      }
      out.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics: out };
  },
});
