/**
 * DescribeProducers (key 61), version 0 (KIP-664): the producers each
 * partition keeps state for, with the first offset of an open transaction
 * (what `kafka-transactions describe-producers` and `find-hanging` read). The
 * coordinator epoch is -1: markers here carry epoch 0, and no partition
 * fences coordinators by it.
 */

import {
  DESCRIBE_PRODUCERS_API,
  type DescribeProducersResponsePartition,
} from "../protocol/generated/mod.ts";
import { guardLookup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const describeProducers = defineHandler({
  api: DESCRIBE_PRODUCERS_API,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const { partitions, meta } = ctx.broker;
    const topics = [];
    for (const t of req.topics) {
      const lookup = guardLookup(ctx, Op.READ, await partitions.topicByName(t.name), t.name);
      const results: DescribeProducersResponsePartition[] = [];
      for (const p of t.partitionIndexes) {
        const at = partitions.locate(lookup, p);
        const out: DescribeProducersResponsePartition = {
          partitionIndex: p,
          errorCode: at.errorCode,
          errorMessage: at.ref ? null : at.message,
          activeProducers: [],
        };
        results.push(out);
        if (!at.ref) continue;
        try {
          const states = await meta.producerStates(at.ref.topic.id, p);
          out.activeProducers = states.map((s) => ({
            producerId: s.producerId,
            producerEpoch: s.producerEpoch,
            lastSequence: s.lastSequence,
            lastTimestamp: s.lastTimestamp,
            coordinatorEpoch: -1,
            currentTxnStartOffset: s.currentTxnStartOffset,
          }));
        } catch (e) {
          out.errorCode = partitions.failure(e);
          out.errorMessage = (e as Error).message;
        }
      }
      topics.push({ name: t.name, partitions: results });
    }
    return { throttleTimeMs: 0, topics };
  },
});
