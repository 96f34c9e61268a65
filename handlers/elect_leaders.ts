/**
 * ElectLeaders (key 43), versions 0-2: preferred (0) and, from v1, unclean (1)
 * leader elections (KIP-183, KIP-460). Leadership never moves here: a
 * partition's leader is fixed because every broker shares the stores, so the
 * leader is always the preferred one and every existing partition answers
 * ELECTION_NOT_NEEDED, as Kafka's controller does when the preferred leader
 * already leads. As in Kafka, null topic partitions (all of them) lists every
 * topic with no partition results (partitions that need no election are left
 * out), unknown topics and partitions answer UNKNOWN_TOPIC_OR_PARTITION, and
 * an unknown election type fails the request and every partition with
 * INVALID_REQUEST.
 */

import {
  ELECT_LEADERS_API,
  type ElectLeadersResponse,
  type ElectLeadersResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { TopicInfo } from "../stores/types.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

/** Errors.ELECTION_NOT_NEEDED's message in Kafka. */
const NOT_NEEDED = "Leader election not needed for topic partition.";

export const electLeaders = defineHandler({
  api: ELECT_LEADERS_API,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx): Promise<ElectLeadersResponse> {
    if (!allowedCluster(ctx, AclOperation.ALTER)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        // Kafka repeats the error for every partition asked about.
        replicaElectionResults: (req.topicPartitions ?? []).map((t) => ({
          topic: t.topic,
          partitionResult: t.partitions.map((partitionId) => ({
            partitionId,
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            errorMessage: null,
          })),
        })),
      };
    }
    const { broker } = ctx;
    const answer = (errorCode: number, replicaElectionResults: ElectLeadersResponseTopic[]) => ({
      throttleTimeMs: 0,
      errorCode,
      replicaElectionResults,
    });
    // v0 has no election type: it is always preferred.
    const electionType = ctx.apiVersion === 0 ? 0 : req.electionType;
    const badType = electionType !== 0 && electionType !== 1;

    if (req.topicPartitions === null) {
      if (badType) return answer(ErrorCode.INVALID_REQUEST, []);
      let all: TopicInfo[];
      try {
        all = await broker.meta.listTopics();
      } catch {
        broker.metrics.storeError("meta", "listTopics");
        return answer(ErrorCode.KAFKA_STORAGE_ERROR, []);
      }
      all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return answer(ErrorCode.NONE, all.map((t) => ({ topic: t.name, partitionResult: [] })));
    }

    const results: ElectLeadersResponseTopic[] = [];
    for (const want of req.topicPartitions) {
      const partitionResult = [];
      let topic: TopicInfo | null = null;
      let failed = false;
      if (!badType) {
        try {
          topic = await broker.topics.byTopicName(want.topic);
        } catch {
          broker.metrics.storeError("meta", "getTopic");
          failed = true;
        }
      }
      for (const p of want.partitions) {
        let errorCode: number = ErrorCode.ELECTION_NOT_NEEDED;
        let errorMessage: string | null = NOT_NEEDED;
        if (badType) {
          errorCode = ErrorCode.INVALID_REQUEST;
          errorMessage = `Unknown election type ${electionType}`;
        } else if (failed) {
          errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
          errorMessage = "The meta store did not answer; retry";
        } else if (!topic) {
          errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          errorMessage = `No such topic as ${want.topic}`;
        } else if (p < 0 || p >= topic.partitions) {
          errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          errorMessage = `No such partition as ${want.topic}-${p}`;
        }
        partitionResult.push({ partitionId: p, errorCode, errorMessage });
      }
      results.push({ topic: want.topic, partitionResult });
    }
    return answer(badType ? ErrorCode.INVALID_REQUEST : ErrorCode.NONE, results);
  },
});
