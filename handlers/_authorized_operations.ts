/** KIP-430: the operations a principal may perform, as the bit fields Metadata, DescribeCluster, DescribeGroups, ConsumerGroupDescribe and DescribeTopicPartitions report. */

import { CLUSTER_RESOURCE_NAME, ResourceType } from "../broker/authorizer.ts";
import { SUPPORTED_OPERATIONS } from "../broker/acl.ts";
import { allowed } from "./_authorize.ts";
import type { RequestContext } from "./types.ts";

/** Kafka's value for "authorized operations were not asked for" (KIP-430). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

const allBits = (type: number) =>
  SUPPORTED_OPERATIONS[type].reduce((bits, op) => bits | (1 << op), 0);

/**
 * The bit field (bit n set: the operation with code n is allowed) of the
 * operations of the resource's type that the caller may perform; without a
 * context (or an authorizer) every one of them. `asked` false gives Kafka's
 * "not asked for" value.
 */
export function authorizedOperations(
  asked: boolean,
  type: number,
  name: string,
  ctx?: RequestContext,
): number {
  if (!asked) return AUTHORIZED_OPERATIONS_OMITTED;
  if (!ctx || !ctx.broker.authorizer.enabled) return allBits(type);
  return SUPPORTED_OPERATIONS[type].reduce(
    (bits, op) => allowed(ctx, op, type, name) ? bits | (1 << op) : bits,
    0,
  );
}

/** A topic's authorized operations (KIP-430). */
export function topicAuthorizedOperations(
  asked: boolean,
  ctx?: RequestContext,
  topic = "",
): number {
  return authorizedOperations(asked, ResourceType.TOPIC, topic, ctx);
}

/** The cluster's authorized operations (KIP-430). */
export function clusterAuthorizedOperations(asked: boolean, ctx?: RequestContext): number {
  return authorizedOperations(asked, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, ctx);
}

/** A group's authorized operations (KIP-430). */
export function groupAuthorizedOperations(
  asked: boolean,
  ctx: RequestContext,
  group: string,
): number {
  return authorizedOperations(asked, ResourceType.GROUP, group, ctx);
}
