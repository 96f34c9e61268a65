/**
 * DescribeTopicPartitions (key 75), version 0 (KIP-966): topics and their
 * partitions as Metadata names them, paged. Topics go in name order (every
 * topic when none is named); the request's cursor says at which topic and, for
 * that topic only, at which partition to start. At most
 * `responsePartitionLimit` partitions are answered (at least 1, at most
 * Kafka's max.request.partition.size.limit, 2000) across topics; when the
 * limit stops a topic part way, `nextCursor` names the partition to go on
 * from, and when it is reached exactly at a topic's end, the next topic
 * (partition 0). Named topics that do not exist answer
 * UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for impossible names)
 * without using the limit. A cursor topic missing from the named topics makes
 * the whole request INVALID_REQUEST, as in Kafka's
 * DescribeTopicPartitionsRequestHandler.
 *
 * Leadership never moves, so there are no eligible leader replicas: both ELR
 * lists are empty. There are no ACLs: every topic answers all topic operations
 * (KIP-430), which Kafka always fills in for this API.
 */

import {
  DESCRIBE_TOPIC_PARTITIONS_API,
  type DescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponseCursor,
  type DescribeTopicPartitionsResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import type { TopicInfo } from "../stores/types.ts";
import { topicNameProblem } from "../broker/config.ts";
import { type BrokerAddress, clusterBrokers, leaderFor } from "./cluster.ts";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  topicAuthorizedOperations,
} from "./_authorized_operations.ts";
import { allowedTopic, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

/** Kafka's max.request.partition.size.limit default: the most partitions one answer holds. */
export const MAX_RESPONSE_PARTITIONS = 2000;

/** Names in Kafka's order (String.compareTo: UTF-16 code units). */
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function failedTopic(name: string | null, errorCode: number): DescribeTopicPartitionsResponseTopic {
  return {
    errorCode,
    name,
    topicId: ZERO_UUID,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: topicAuthorizedOperations(true),
  };
}

/** Partitions [from, to) of a topic. */
function describePartitions(t: TopicInfo, from: number, to: number, brokers: BrokerAddress[]) {
  const out = [];
  for (let i = from; i < to; i++) {
    const leader = leaderFor(t.id, i, brokers);
    out.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: i,
      leaderId: leader,
      leaderEpoch: 0,
      replicaNodes: [leader],
      isrNodes: [leader],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: [],
    });
  }
  return out;
}

export const describeTopicPartitions = defineHandler({
  api: DESCRIBE_TOPIC_PARTITIONS_API,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx): Promise<DescribeTopicPartitionsResponse> {
    const { broker } = ctx;
    const cursor = req.cursor;
    const cursorTopic = cursor?.topicName ?? "";
    const fetchAll = req.topics.length === 0;
    const answer = (
      topics: DescribeTopicPartitionsResponseTopic[],
      nextCursor: DescribeTopicPartitionsResponseCursor | null,
    ) => ({ throttleTimeMs: 0, topics, nextCursor });

    // The topics at or after the cursor's, each once, in name order, with what the store knows.
    let wanted: { name: string; info: TopicInfo | null }[];
    if (fetchAll) {
      let all: TopicInfo[];
      try {
        all = await broker.meta.listTopics();
      } catch {
        broker.metrics.storeError("meta", "listTopics");
        return answer([failedTopic(cursorTopic, ErrorCode.KAFKA_STORAGE_ERROR)], null);
      }
      // Topics the caller may not DESCRIBE are left out of the listing (KIP-11).
      wanted = all.filter((t) => t.name >= cursorTopic && allowedTopic(ctx, Op.DESCRIBE, t.name))
        .map((t) => ({ name: t.name, info: t }));
    } else {
      const names = [...new Set(req.topics.map((t) => t.name))];
      if (cursor && !names.includes(cursor.topicName)) {
        // Kafka fails the whole request: every named topic answers the error.
        return answer(
          names.map((name) => ({
            ...failedTopic(name, ErrorCode.INVALID_REQUEST),
            topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
          })),
          null,
        );
      }
      wanted = names.filter((n) => n >= cursorTopic).map((name) => ({ name, info: null }));
    }
    wanted.sort((a, b) => byName(a.name, b.name));

    const brokers = clusterBrokers(ctx);
    const topics: DescribeTopicPartitionsResponseTopic[] = [];
    let remaining = Math.max(1, Math.min(MAX_RESPONSE_PARTITIONS, req.responsePartitionLimit));
    for (const w of wanted) {
      if (remaining === 0) {
        // The limit was reached at the end of the previous topic: go on from this one.
        return answer(topics, { topicName: w.name, partitionIndex: 0 });
      }
      let t = w.info;
      if (!fetchAll && !allowedTopic(ctx, Op.DESCRIBE, w.name)) {
        topics.push({
          ...failedTopic(w.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED),
          topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        });
        continue;
      }
      if (!fetchAll && topicNameProblem(w.name) === null) {
        try {
          t = await broker.topics.byTopicName(w.name);
        } catch {
          broker.metrics.storeError("meta", "getTopic");
          topics.push(failedTopic(w.name, ErrorCode.KAFKA_STORAGE_ERROR));
          continue;
        }
      }
      if (!t) {
        topics.push(
          failedTopic(
            w.name,
            topicNameProblem(w.name) === null
              ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
              : ErrorCode.INVALID_TOPIC_EXCEPTION,
          ),
        );
        continue;
      }
      const start = w.name === cursorTopic && cursor ? Math.max(0, cursor.partitionIndex) : 0;
      const end = Math.min(t.partitions, start + remaining);
      topics.push({
        errorCode: ErrorCode.NONE,
        name: t.name,
        topicId: t.id,
        isInternal: false,
        partitions: describePartitions(t, start, end, brokers),
        topicAuthorizedOperations: topicAuthorizedOperations(true, ctx, t.name),
      });
      if (end < t.partitions) return answer(topics, { topicName: t.name, partitionIndex: end });
      remaining -= Math.max(0, end - start);
    }
    return answer(topics, null);
  },
});
