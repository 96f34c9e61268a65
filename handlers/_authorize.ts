/**
 * The one way handlers ask the authorizer (KIP-11): the caller is the
 * connection's principal and address. Without --authorizer every check is a
 * single property read.
 */

import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from "../broker/authorizer.ts";
import type { RequestContext } from "./types.ts";
import type { TopicLookup } from "../broker/partition_log.ts";
import { ErrorCode } from "../protocol/errors.ts";

export { AclOperation as Op, ResourceType as Res } from "../broker/authorizer.ts";

const who = (ctx: RequestContext) => ({
  principal: ctx.connection.principal,
  host: ctx.connection.remoteHost,
});

/** Whether the caller may perform `op` on the resource. */
export function allowed(ctx: RequestContext, op: number, type: number, name: string): boolean {
  const a = ctx.broker.authorizer;
  return !a.enabled || a.authorize(who(ctx), op, type, name);
}

export const allowedTopic = (ctx: RequestContext, op: number, topic: string) =>
  allowed(ctx, op, ResourceType.TOPIC, topic);
export const allowedGroup = (ctx: RequestContext, op: number, group: string) =>
  allowed(ctx, op, ResourceType.GROUP, group);
export const allowedTxnId = (ctx: RequestContext, op: number, id: string) =>
  allowed(ctx, op, ResourceType.TRANSACTIONAL_ID, id);
export const allowedCluster = (ctx: RequestContext, op: number) =>
  allowed(ctx, op, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);

/** KIP-679: whether the caller may perform `op` on some resource of the type. */
export function allowedAny(ctx: RequestContext, op: number, type: number): boolean {
  const a = ctx.broker.authorizer;
  return !a.enabled || a.authorizeAny(who(ctx), op, type);
}

/** Whether checks are on at all (to skip building lists when they are not). */
export const authorizing = (ctx: RequestContext) => ctx.broker.authorizer.enabled;

export { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType };

/** A topic lookup the caller may not perform `op` on becomes TOPIC_AUTHORIZATION_FAILED for every partition. */
export function guardLookup(
  ctx: RequestContext,
  op: number,
  lookup: TopicLookup,
  name: string | null,
): TopicLookup {
  if (!ctx.broker.authorizer.enabled) return lookup;
  const topic = lookup.topic?.name ?? name;
  if (topic === null || topic === "" || allowedTopic(ctx, op, topic)) return lookup;
  return { topic: null, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, message: null };
}

/** Every partition of a commit-like request answered with one error (a refused group or transactional id). */
export function refusePartitions(
  topics: { name: string; topicId: string; partitions: { partitionIndex: number }[] }[],
  errorCode: number,
) {
  return topics.map((t) => ({
    name: t.name,
    topicId: t.topicId,
    partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
  }));
}

/**
 * The error for a config resource (DescribeConfigs, AlterConfigs,
 * IncrementalAlterConfigs resource types: 2 topic, 4 broker, 8 broker
 * logger, 16 client metrics, 32 group) the caller may not perform `op`
 * (DESCRIBE_CONFIGS or ALTER_CONFIGS) on, or null: topics and groups are
 * checked by name, the rest on the cluster, as Kafka's ConfigHelper does.
 */
export function configResourceRefusal(
  ctx: RequestContext,
  op: number,
  configResourceType: number,
  name: string,
): number | null {
  if (!ctx.broker.authorizer.enabled) return null;
  if (configResourceType === 2) {
    return allowedTopic(ctx, op, name) ? null : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  }
  if (configResourceType === 32) {
    return allowedGroup(ctx, op, name) ? null : ErrorCode.GROUP_AUTHORIZATION_FAILED;
  }
  return allowedCluster(ctx, op) ? null : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
}
