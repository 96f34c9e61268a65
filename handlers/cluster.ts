/** How this broker describes itself and the cluster to clients. */

import type { RequestContext } from "./types.ts";
import type { NewTopic, TopicInfo } from "../stores/types.ts";
import { topicNameProblem } from "../broker/config.ts";

/** A broker as Metadata and DescribeCluster list it. */
export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/**
 * The address clients should use for this broker: the configured advertised
 * host and port, else the address this client reached us on (never a host
 * name the client might not resolve).
 */
export function selfAddress(ctx: RequestContext): BrokerAddress {
  const c = ctx.broker.config;
  return {
    nodeId: c.nodeId,
    host: c.advertisedHost ?? ctx.connection.localHost,
    port: c.advertisedPort ?? ctx.connection.localPort,
    rack: null,
  };
}

/**
 * The brokers to list: this one alone behind a load balancer, or every broker
 * with a live lease in the addressable shape.
 */
export function clusterBrokers(ctx: RequestContext): BrokerAddress[] {
  const registry = ctx.broker.registry;
  if (!registry) return [selfAddress(ctx)];
  return registry.brokers().map((b) => ({
    nodeId: b.nodeId,
    host: b.host,
    port: b.port,
    rack: b.rack,
  }));
}

/**
 * The broker named leader of a partition: any broker can serve any partition,
 * so leadership only spreads clients' load. Deterministic, so every broker
 * names the same leader while they see the same live brokers.
 */
export function leaderFor(topicId: string, partition: number, brokers: BrokerAddress[]): number {
  let h = 0;
  for (let i = 0; i < topicId.length; i++) h = (h * 31 + topicId.charCodeAt(i)) | 0;
  return brokers[(Math.abs(h) + partition) % brokers.length].nodeId;
}

/**
 * Creates a topic with broker defaults, as auto-creation does; if another
 * broker created it first, returns theirs.
 */
export async function createTopicOrGet(
  ctx: RequestContext,
  topic: NewTopic,
): Promise<TopicInfo | null> {
  if (topicNameProblem(topic.name) !== null) return null;
  const created = await ctx.broker.meta.createTopic(topic);
  const info = created ?? await ctx.broker.meta.getTopic(topic.name);
  ctx.broker.topics.remember(topic.name, info);
  return info;
}
