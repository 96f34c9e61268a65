/**
 * Fetch (key 1), versions 4-18. Consumers only: there are no follower
 * replicas, since the stores replicate. Topic ids replace names from v13
 * (KIP-516). The follower's high watermark of v18 (KIP-1166) is read and
 * ignored; the response is as in v17. Fetch sessions (KIP-227) are not kept: every response has session
 * id 0, which tells clients to send full requests. Reading, byte limits and
 * the long poll are the partition-log service's (broker/partition_log.ts).
 */

import {
  FETCH_API,
  type FetchResponsePartition,
  type FetchResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import type { FetchWant, TopicLookup } from "../broker/partition_log.ts";
import { guardLookup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

const READ_COMMITTED = 1;
const EMPTY = new Uint8Array(0);

export const fetch = defineHandler({
  api: FETCH_API,
  minVersion: 4,
  maxVersion: 18,
  async handle(req, ctx) {
    const log = ctx.broker.partitions;
    const useIds = ctx.apiVersion >= 13;
    const lookups: TopicLookup[] = [];
    const wants: FetchWant[] = [];
    for (const t of req.topics) {
      const found = useIds ? await log.topicById(t.topicId) : await log.topicByName(t.topic);
      const lookup = guardLookup(ctx, Op.READ, found, useIds ? null : t.topic);
      lookups.push(lookup);
      for (const p of t.partitions) {
        wants.push({
          at: log.locate(lookup, p.partition),
          fetchOffset: p.fetchOffset,
          partitionMaxBytes: p.partitionMaxBytes,
        });
      }
    }
    const readCommitted = req.isolationLevel === READ_COMMITTED;
    const reads = await log.fetch(wants, {
      maxBytes: req.maxBytes,
      minBytes: req.minBytes,
      maxWaitMs: req.maxWaitMs,
      readCommitted,
    });
    let i = 0;
    const responses: FetchResponseTopic[] = req.topics.map((t, ti) => {
      const topic = lookups[ti].topic;
      const partitions: FetchResponsePartition[] = t.partitions.map((p) => {
        const read = reads[i++];
        return {
          partitionIndex: p.partition,
          errorCode: read.errorCode,
          highWatermark: read.highWatermark,
          lastStableOffset: read.lastStableOffset,
          logStartOffset: read.logStartOffset,
          divergingEpoch: { epoch: -1, endOffset: -1 },
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
          snapshotId: { endOffset: -1, epoch: -1 },
          abortedTransactions: read.abortedTransactions,
          preferredReadReplica: -1,
          // Kafka sends an empty record set, never null: librdkafka refuses a size of -1.
          records: read.records.length > 0 ? read.records : EMPTY,
        };
      });
      return {
        topic: topic?.name ?? t.topic,
        topicId: topic?.id ?? t.topicId ?? ZERO_UUID,
        partitions,
      };
    });
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId: 0,
      responses,
      nodeEndpoints: [],
    };
  },
});
