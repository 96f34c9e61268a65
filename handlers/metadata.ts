/**
 * Metadata (key 3), versions 0-13. The stores are shared, so any broker can
 * serve any partition. Behind a load balancer (the default shape) clients see
 * one broker, leader of every partition; in the addressable shape every live
 * broker is listed and leadership is spread over them (cluster.ts leaderFor)
 * only to spread clients' load. Unknown topics are
 * created when the client allows it (v4+) and the broker is configured to
 * (--auto-create-topics). Topics may be asked for by id from v10 (KIP-516).
 */

import {
  METADATA_API,
  type MetadataRequestTopic,
  type MetadataResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import type { TopicInfo } from "../stores/types.ts";
import { topicNameProblem } from "../broker/config.ts";
import { type BrokerAddress, clusterBrokers, createTopicOrGet, leaderFor } from "./cluster.ts";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  clusterAuthorizedOperations,
  topicAuthorizedOperations,
} from "./_authorized_operations.ts";
import { defineHandler, type RequestContext } from "./types.ts";

function describeTopic(
  t: TopicInfo,
  brokers: BrokerAddress[],
  topicAuthorizedOperations: number,
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
    topicAuthorizedOperations,
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
    const topicOps = topicAuthorizedOperations(req.includeTopicAuthorizedOperations);
    const describe = (t: TopicInfo) => describeTopic(t, brokers, topicOps);
    const topics: MetadataResponseTopic[] = [];
    let errorCode: number = ErrorCode.NONE;
    // v0: an empty list means every topic; v1+: null means every topic.
    const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
    if (all) {
      try {
        for (const t of await broker.topics.all()) topics.push(describe(t));
      } catch (e) {
        // Never listed yet and the store is failing: no topics, and (v13) why.
        errorCode = broker.partitions.failure(e);
      }
    } else {
      for (const want of req.topics ?? []) {
        topics.push(await describeWanted(ctx, want, req.allowAutoTopicCreation, describe));
      }
    }
    return {
      throttleTimeMs: 0,
      brokers,
      clusterId: broker.clusterId,
      controllerId: broker.config.nodeId,
      topics,
      clusterAuthorizedOperations: clusterAuthorizedOperations(
        req.includeClusterAuthorizedOperations,
      ),
      errorCode,
    };
  },
});

/**
 * One topic asked for by name or id: described, created when auto-creation
 * is allowed (v4+ and --auto-create-topics), or answered with why not. A
 * store failure answers this topic with a retriable error.
 */
async function describeWanted(
  ctx: RequestContext,
  want: MetadataRequestTopic,
  allowAutoTopicCreation: boolean,
  describe: (t: TopicInfo) => MetadataResponseTopic,
): Promise<MetadataResponseTopic> {
  const { broker } = ctx;
  const log = broker.partitions;
  if (want.name === null || want.name === "") {
    if (want.topicId === ZERO_UUID) return missing(null, want.topicId, ErrorCode.UNKNOWN_TOPIC_ID);
    const found = await log.topicById(want.topicId);
    return found.topic ? describe(found.topic) : missing(null, want.topicId, found.errorCode);
  }
  const found = await log.topicByName(want.name);
  if (found.topic) return describe(found.topic);
  if (found.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
    return missing(want.name, ZERO_UUID, found.errorCode);
  }
  if (topicNameProblem(want.name) !== null) {
    return missing(want.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
  }
  if (broker.config.autoCreateTopics && allowAutoTopicCreation) {
    try {
      const t = await createTopicOrGet(ctx, {
        name: want.name,
        partitions: broker.config.defaultPartitions,
        configs: {},
      });
      // Kafka answers the creating request with LEADER_NOT_AVAILABLE; ours is ready at once.
      if (t) return describe(t);
    } catch (e) {
      return missing(want.name, ZERO_UUID, log.failure(e));
    }
  }
  return missing(want.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
}
