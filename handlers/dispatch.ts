/** The dispatch table: every API this broker serves, by API key. */

import type { Handler } from "./types.ts";
import { apiVersions } from "./api_versions.ts";
import { metadata } from "./metadata.ts";
import { produce } from "./produce.ts";
import { fetch } from "./fetch.ts";
import { listOffsets } from "./list_offsets.ts";
import { initProducerId } from "./init_producer_id.ts";
import { createTopics } from "./create_topics.ts";
import { deleteTopics } from "./delete_topics.ts";
import { createPartitions } from "./create_partitions.ts";
import { describeConfigs } from "./describe_configs.ts";
import { describeCluster } from "./describe_cluster.ts";
import { deleteRecords } from "./delete_records.ts";
import { offsetForLeaderEpoch } from "./offset_for_leader_epoch.ts";
import { alterConfigs, incrementalAlterConfigs } from "./alter_configs.ts";
import { alterClientQuotas, describeClientQuotas } from "./client_quotas.ts";
import { listConfigResources } from "./list_config_resources.ts";
import { findCoordinator } from "./find_coordinator.ts";
import { joinGroup } from "./join_group.ts";
import { syncGroup } from "./sync_group.ts";
import { heartbeat } from "./heartbeat.ts";
import { leaveGroup } from "./leave_group.ts";
import { offsetCommit } from "./offset_commit.ts";
import { offsetFetch } from "./offset_fetch.ts";
import { describeGroups } from "./describe_groups.ts";
import { listGroups } from "./list_groups.ts";
import { deleteGroups } from "./delete_groups.ts";
import { offsetDelete } from "./offset_delete.ts";
import { consumerGroupHeartbeat } from "./consumer_group_heartbeat.ts";
import { consumerGroupDescribe } from "./consumer_group_describe.ts";
import { describeTopicPartitions } from "./describe_topic_partitions.ts";
import { alterReplicaLogDirs } from "./alter_replica_log_dirs.ts";
import { describeLogDirs } from "./describe_log_dirs.ts";
import { electLeaders } from "./elect_leaders.ts";
import { alterPartitionReassignments } from "./alter_partition_reassignments.ts";
import { listPartitionReassignments } from "./list_partition_reassignments.ts";
import { describeQuorum } from "./describe_quorum.ts";
import { updateFeatures } from "./update_features.ts";
import { addRaftVoter, removeRaftVoter } from "./raft_voters.ts";
import { unregisterBroker } from "./unregister_broker.ts";
import { unregisterController } from "./unregister_controller.ts";
import {
  createDelegationToken,
  describeDelegationToken,
  expireDelegationToken,
  renewDelegationToken,
} from "./delegation_tokens.ts";
import { getTelemetrySubscriptions, pushTelemetry } from "./client_telemetry.ts";
import { addPartitionsToTxn } from "./add_partitions_to_txn.ts";
import { addOffsetsToTxn } from "./add_offsets_to_txn.ts";
import { endTxn } from "./end_txn.ts";
import { writeTxnMarkers } from "./write_txn_markers.ts";
import { txnOffsetCommit } from "./txn_offset_commit.ts";
import { describeProducers } from "./describe_producers.ts";
import { describeTransactions } from "./describe_transactions.ts";
import { listTransactions } from "./list_transactions.ts";
import { SASL_HANDLERS } from "./sasl_handlers.ts";
import { ACL_HANDLERS } from "./acl_handlers.ts";
import { SHARE_HANDLERS } from "./share_handlers.ts";
import { STREAMS_HANDLERS } from "./streams_handlers.ts";

const HANDLERS: Handler[] = [
  apiVersions,
  metadata,
  produce,
  fetch,
  listOffsets,
  initProducerId,
  createTopics,
  deleteTopics,
  createPartitions,
  describeConfigs,
  describeCluster,
  deleteRecords,
  offsetForLeaderEpoch,
  alterConfigs,
  incrementalAlterConfigs,
  describeClientQuotas,
  alterClientQuotas,
  listConfigResources,
  // Consumer groups (any broker coordinates any group).
  findCoordinator,
  joinGroup,
  syncGroup,
  heartbeat,
  leaveGroup,
  offsetCommit,
  offsetFetch,
  describeGroups,
  listGroups,
  deleteGroups,
  offsetDelete,
  consumerGroupHeartbeat,
  consumerGroupDescribe,
  // Transactions (any broker coordinates any transactional id; InitProducerId is above).
  addPartitionsToTxn,
  addOffsetsToTxn,
  endTxn,
  writeTxnMarkers,
  txnOffsetCommit,
  describeProducers,
  describeTransactions,
  listTransactions,
  // Admin APIs: partitions and replicas (leadership and replicas never move).
  describeTopicPartitions,
  alterReplicaLogDirs,
  describeLogDirs,
  electLeaders,
  alterPartitionReassignments,
  listPartitionReassignments,
  // Admin APIs: the cluster, its features and its (one-voter) quorum.
  describeQuorum,
  updateFeatures,
  addRaftVoter,
  removeRaftVoter,
  unregisterBroker,
  unregisterController,
  // Delegation tokens (refused until SASL, issue 13) and client metrics (KIP-714).
  createDelegationToken,
  renewDelegationToken,
  expireDelegationToken,
  describeDelegationToken,
  getTelemetrySubscriptions,
  pushTelemetry,
  // Security: SASL, SCRAM credentials and ACLs (KIP-43, KIP-152, KIP-554, KIP-11, KIP-140).
  ...SASL_HANDLERS,
  ...ACL_HANDLERS,
  // Share groups (KIP-932): any broker serves any share group and share-partition.
  ...SHARE_HANDLERS,
  // Streams groups (KIP-1071): the broker assigns Kafka Streams tasks; any broker serves any group.
  ...STREAMS_HANDLERS,
];

/** A fresh table (each broker gets its own map). */
export function handlerTable(): Map<number, Handler> {
  const m = new Map<number, Handler>();
  for (const h of HANDLERS) {
    if (m.has(h.api.apiKey)) throw new Error(`Two handlers for API key ${h.api.apiKey}`);
    if (h.minVersion < h.api.minVersion || h.maxVersion > h.api.maxVersion) {
      throw new Error(`${h.api.name} handler serves versions the codec lacks`);
    }
    m.set(h.api.apiKey, h);
  }
  return m;
}
