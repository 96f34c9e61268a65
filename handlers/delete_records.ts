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
import { guardLookup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const deleteRecords = defineHandler({
  api: DELETE_RECORDS_API,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const log = ctx.broker.partitions;
    const out: DeleteRecordsResponseTopic[] = [];
    for (const t of req.topics) {
      const lookup = guardLookup(ctx, Op.DELETE, await log.topicByName(t.name), t.name);
      const partitions: DeleteRecordsResponsePartition[] = [];
      for (const p of t.partitions) {
        const at = log.locate(lookup, p.partitionIndex);
        const r = at.ref === null
          ? { errorCode: at.errorCode, lowWatermark: -1 }
          : await log.deleteBefore(at.ref, p.offset);
        partitions.push({
          partitionIndex: p.partitionIndex,
          lowWatermark: r.lowWatermark,
          errorCode: r.errorCode,
        });
      }
      out.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics: out };
  },
});
