/**
 * AlterPartitionReassignments (key 45), versions 0-1 (KIP-455; v1 adds
 * allowReplicationFactorChange, KIP-860). The stores replicate every
 * partition, so there is nothing to reassign: each partition's one replica is
 * its leader. Per partition, as Kafka's controller answers: an unknown topic
 * or partition UNKNOWN_TOPIC_OR_PARTITION; cancelling (replicas null)
 * NO_REASSIGNMENT_IN_PROGRESS; a target equal to the current replicas NONE
 * (nothing to do); an empty target, a repeated broker or one that is not
 * registered INVALID_REPLICA_ASSIGNMENT with Kafka's reason; a valid target of
 * another size with allowReplicationFactorChange false
 * INVALID_REPLICATION_FACTOR; any other target INVALID_REPLICA_ASSIGNMENT,
 * since replicas cannot be moved.
 */

import {
  ALTER_PARTITION_REASSIGNMENTS_API,
  type AlterPartitionReassignmentsResponse,
  type AlterPartitionReassignmentsResponsePartition,
  type AlterPartitionReassignmentsResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { TopicInfo } from "../stores/types.ts";
import { clusterBrokers, leaderFor } from "./cluster.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

const CANNOT_MOVE = "The stores replicate every partition, so replicas cannot be moved.";

/** Kafka's reason to refuse a target replica list, or null when it is a valid one. */
function assignmentProblem(replicas: number[], registered: Set<number>): string | null {
  if (replicas.length === 0) {
    return "The manual partition assignment includes an empty replica list.";
  }
  const seen = new Set<number>();
  for (const r of replicas) {
    if (!registered.has(r)) {
      return `The manual partition assignment includes broker ${r}, but no such broker is registered.`;
    }
    if (seen.has(r)) {
      return `The manual partition assignment includes the broker ${r} more than once.`;
    }
    seen.add(r);
  }
  return null;
}

export const alterPartitionReassignments = defineHandler({
  api: ALTER_PARTITION_REASSIGNMENTS_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx): Promise<AlterPartitionReassignmentsResponse> {
    if (!allowedCluster(ctx, AclOperation.ALTER)) {
      return {
        throttleTimeMs: 0,
        allowReplicationFactorChange: true,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
        responses: [],
      };
    }
    const { broker } = ctx;
    const brokers = clusterBrokers(ctx);
    const registered = new Set(brokers.map((b) => b.nodeId));
    // v0 has no such flag: the replication factor may change.
    const allowRfChange = ctx.apiVersion === 0 || req.allowReplicationFactorChange;
    const responses: AlterPartitionReassignmentsResponseTopic[] = [];
    for (const t of req.topics) {
      let topic: TopicInfo | null = null;
      let failed = false;
      try {
        topic = await broker.topics.byTopicName(t.name);
      } catch {
        broker.metrics.storeError("meta", "getTopic");
        failed = true;
      }
      const partitions: AlterPartitionReassignmentsResponsePartition[] = [];
      for (const p of t.partitions) {
        const answer = (errorCode: number, errorMessage: string | null) =>
          partitions.push({ partitionIndex: p.partitionIndex, errorCode, errorMessage });
        if (failed) {
          answer(ErrorCode.KAFKA_STORAGE_ERROR, "The meta store did not answer; retry");
        } else if (!topic) {
          answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find a topic named ${t.name}.`);
        } else if (p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
          answer(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `Unable to find partition ${t.name}:${p.partitionIndex}.`,
          );
        } else if (p.replicas === null) {
          answer(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, null);
        } else {
          const leader = leaderFor(topic.id, p.partitionIndex, brokers);
          const problem = assignmentProblem(p.replicas, registered);
          if (problem !== null) {
            answer(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `${problem} ${CANNOT_MOVE}`);
          } else if (p.replicas.length === 1 && p.replicas[0] === leader) {
            answer(ErrorCode.NONE, null);
          } else if (!allowRfChange && p.replicas.length !== 1) {
            answer(
              ErrorCode.INVALID_REPLICATION_FACTOR,
              `The replication factor is changed from 1 to ${p.replicas.length}`,
            );
          } else {
            answer(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `Partition ${t.name}-${p.partitionIndex} stays on broker ${leader}: ${CANNOT_MOVE}`,
            );
          }
        }
      }
      responses.push({ name: t.name, partitions });
    }
    return {
      throttleTimeMs: 0,
      allowReplicationFactorChange: req.allowReplicationFactorChange,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses,
    };
  },
});
