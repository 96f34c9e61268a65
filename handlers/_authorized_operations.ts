/** KIP-430: the operations a principal may perform, as the bit fields Metadata, DescribeCluster, DescribeGroups and DescribeTopicPartitions report. */

/** Kafka's value for "authorized operations were not asked for" (KIP-430). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/**
 * Kafka's AclOperation codes of every operation on a topic (READ 3, WRITE 4,
 * CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11).
 */
const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11];

/**
 * A topic's authorized operations as the KIP-430 bit field (bit n set: the
 * operation with code n is allowed). There are no ACLs, so every topic
 * operation is; `asked` false gives Kafka's "not asked for" value.
 */
export function topicAuthorizedOperations(asked: boolean): number {
  if (!asked) return AUTHORIZED_OPERATIONS_OMITTED;
  return TOPIC_OPERATIONS.reduce((bits, op) => bits | (1 << op), 0);
}

/**
 * Kafka's AclOperation codes of every operation on the cluster (CREATE 5,
 * ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11,
 * IDEMPOTENT_WRITE 12).
 */
const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12];

/** The cluster's authorized operations (KIP-430), as {@link topicAuthorizedOperations}. */
export function clusterAuthorizedOperations(asked: boolean): number {
  if (!asked) return AUTHORIZED_OPERATIONS_OMITTED;
  return CLUSTER_OPERATIONS.reduce((bits, op) => bits | (1 << op), 0);
}
