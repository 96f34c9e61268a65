/**
 * DescribeQuorum (key 55), versions 0-2 (KIP-595; timestamps KIP-836; nodes,
 * directory ids and messages KIP-853): the metadata quorum's leader, voters
 * and observers. Answered as a single-node Kafka in combined mode answers: one
 * voter, this broker, leading at epoch 1 with nothing behind it (brokers here
 * keep no Raft log, so the log end offset and high watermark are 0), no
 * observers, and from v2 the voter's listener at the address the client
 * reached us on. As in Kafka, a request that is not exactly one partition,
 * __cluster_metadata-0, answers UNKNOWN_TOPIC_OR_PARTITION for every
 * partition it names.
 */

import {
  DESCRIBE_QUORUM_API,
  type DescribeQuorumRequest,
  type DescribeQuorumResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { selfAddress } from "./cluster.ts";
import {
  LISTENER_NAME,
  METADATA_PARTITION,
  METADATA_TOPIC,
  QUORUM_LEADER_EPOCH,
  VOTER_DIRECTORY_ID,
} from "./_quorum.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

/** Errors.UNKNOWN_TOPIC_OR_PARTITION's message in Kafka. */
const NOT_HOSTED = "This server does not host this topic-partition.";

/** The offset our (absent) metadata log ends at. */
const LOG_END_OFFSET = 0;

/** True when the request asks for exactly the metadata partition, as Kafka requires. */
function asksForQuorum(req: DescribeQuorumRequest): boolean {
  return req.topics.length === 1 && req.topics[0].topicName === METADATA_TOPIC &&
    req.topics[0].partitions.length === 1 &&
    req.topics[0].partitions[0].partitionIndex === METADATA_PARTITION;
}

export const describeQuorum = defineHandler({
  api: DESCRIBE_QUORUM_API,
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx): Promise<DescribeQuorumResponse> {
    if (!allowedCluster(ctx, AclOperation.DESCRIBE)) {
      return Promise.resolve({
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        topics: [],
        nodes: [],
      });
    }
    if (!asksForQuorum(req)) {
      return Promise.resolve({
        errorCode: ErrorCode.NONE,
        errorMessage: "",
        topics: req.topics.map((t) => ({
          topicName: t.topicName,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: NOT_HOSTED,
            leaderId: 0,
            leaderEpoch: 0,
            highWatermark: 0,
            currentVoters: [],
            observers: [],
          })),
        })),
        nodes: [],
      });
    }
    const self = selfAddress(ctx);
    // The leader reports itself fetched and caught up now (KIP-836), as Kafka does.
    const now = Date.now();
    return Promise.resolve({
      errorCode: ErrorCode.NONE,
      errorMessage: "",
      topics: [{
        topicName: METADATA_TOPIC,
        partitions: [{
          partitionIndex: METADATA_PARTITION,
          errorCode: ErrorCode.NONE,
          errorMessage: "",
          leaderId: self.nodeId,
          leaderEpoch: QUORUM_LEADER_EPOCH,
          highWatermark: LOG_END_OFFSET,
          currentVoters: [{
            replicaId: self.nodeId,
            replicaDirectoryId: VOTER_DIRECTORY_ID,
            logEndOffset: LOG_END_OFFSET,
            lastFetchTimestamp: now,
            lastCaughtUpTimestamp: now,
          }],
          observers: [],
        }],
      }],
      nodes: [{
        nodeId: self.nodeId,
        listeners: [{ name: LISTENER_NAME, host: self.host, port: self.port }],
      }],
    });
  },
});
