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
import { allowedCluster, allowedTopic, authorizing, Op } from "./_authorize.ts";
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
    const asked = req.includeTopicAuthorizedOperations;
    const topicOps = topicAuthorizedOperations(asked);
    const describe = (t: TopicInfo) =>
      describeTopic(
        t,
        brokers,
        authorizing(ctx) ? topicAuthorizedOperations(asked, ctx, t.name) : topicOps,
      );
    const topics: MetadataResponseTopic[] = [];
    let errorCode: number = ErrorCode.NONE;
    // v0: an empty list means every topic; v1+: null means every topic.
    const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
    if (all) {
      try {
        // Topics the caller may not DESCRIBE are left out of the listing (KIP-11).
        for (const t of await broker.topics.all()) {
          if (allowedTopic(ctx, Op.DESCRIBE, t.name)) topics.push(describe(t));
        }
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
        ctx,
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
    if (found.topic && !allowedTopic(ctx, Op.DESCRIBE, found.topic.name)) {
      return missing(null, want.topicId, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    }
    return found.topic ? describe(found.topic) : missing(null, want.topicId, found.errorCode);
  }
  if (!allowedTopic(ctx, Op.DESCRIBE, want.name)) {
    return missing(want.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  }
  const found = await log.topicByName(want.name);
  if (found.topic) return describe(found.topic);
  if (found.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
    return missing(want.name, ZERO_UUID, found.errorCode);
  }
  if (topicNameProblem(want.name) !== null) {
    return missing(want.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION);
  }
  // Auto-creation needs CREATE on the cluster or on the topic (KIP-11).
  const mayCreate = !authorizing(ctx) || allowedCluster(ctx, Op.CREATE) ||
    allowedTopic(ctx, Op.CREATE, want.name);
  if (broker.config.autoCreateTopics && allowAutoTopicCreation && mayCreate) {
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
