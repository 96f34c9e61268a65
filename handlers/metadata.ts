/**
 * Metadata (key 3), versions 0-13. Every broker leads every partition: the
 * stores are shared, so any broker can serve any request. Unknown topics are
 * created when the client allows it (v4+) and the broker is configured to
 * (--auto-create-topics). Topics may be asked for by id from v10 (KIP-516).
 */

import { METADATA_API, type MetadataResponseTopic } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import type { TopicInfo } from "../stores/types.ts";
import { topicNameProblem } from "../broker/config.ts";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  type BrokerAddress,
  clusterBrokers,
  createTopicOrGet,
  leaderFor,
} from "./cluster.ts";
import { defineHandler } from "./types.ts";

function describeTopic(
  t: TopicInfo,
  brokers: BrokerAddress[],
): MetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: false,
    partitions: Array.from({ length: t.partitions }, (_, i) => {
      const leader = leaderFor(t.id, i, brokers);
      return {
        errorCode: ErrorCode.NONE,
        partitionIndex: i,
        leaderId: leader,
        leaderEpoch: 0,
        replicaNodes: [leader],
        isrNodes: [leader],
        offlineReplicas: [],
      };
    }),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function missing(name: string | null, topicId: string, errorCode: number): MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export const metadata = defineHandler({
  api: METADATA_API,
  minVersion: 0,
  maxVersion: 13,
  async handle(req, ctx) {
    const { broker } = ctx;
    const brokers = clusterBrokers(ctx);
    const topics: MetadataResponseTopic[] = [];
    // v0: an empty list means every topic; v1+: null means every topic.
    const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
    if (all) {
      for (const t of await broker.meta.listTopics()) topics.push(describeTopic(t, brokers));
    } else {
      const autoCreate = broker.config.autoCreateTopics && req.allowAutoTopicCreation;
      for (const want of req.topics ?? []) {
        if (want.name === null || want.name === "") {
          const t = want.topicId !== ZERO_UUID ? await broker.topics.byTopicId(want.topicId) : null;
          topics.push(
            t ? describeTopic(t, brokers) : missing(null, want.topicId, ErrorCode.UNKNOWN_TOPIC_ID),
          );
          continue;
        }
        let t = await broker.topics.byTopicName(want.name);
        if (!t && topicNameProblem(want.name) !== null) {
          topics.push(missing(want.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION));
          continue;
        }
        if (!t && autoCreate) {
          t = await createTopicOrGet(ctx, {
            name: want.name,
            partitions: broker.config.defaultPartitions,
            configs: {},
          });
          if (t) {
            // Kafka answers the creating request with LEADER_NOT_AVAILABLE; ours is ready at once.
            topics.push(describeTopic(t, brokers));
            continue;
          }
        }
        topics.push(
          t
            ? describeTopic(t, brokers)
            : missing(want.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        );
      }
    }
    return {
      throttleTimeMs: 0,
      brokers,
      clusterId: broker.clusterId,
      controllerId: broker.config.nodeId,
      topics,
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      errorCode: ErrorCode.NONE,
    };
  },
});
