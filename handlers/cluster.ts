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
 * The address clients should use for this broker, on the listener the client
 * connected through (Kafka answers each client with the endpoints of its own
 * listener): that listener's entry in --advertised-listeners, else, on
 * PLAINTEXT, --advertised-host/--advertised-port, else the address this client
 * reached us on (never a host name the client might not resolve).
 */
export function selfAddress(ctx: RequestContext): BrokerAddress {
  const c = ctx.broker.config;
  const name = ctx.connection.listenerName;
  const advertised = c.security.advertisedListeners.find((l) => l.name === name);
  if (advertised !== undefined) {
    return { nodeId: c.nodeId, host: advertised.host, port: advertised.port, rack: null };
  }
  const short = name === "PLAINTEXT";
  return {
    nodeId: c.nodeId,
    host: (short ? c.advertisedHost : null) ?? ctx.connection.localHost,
    port: (short ? c.advertisedPort : null) ?? ctx.connection.localPort,
    rack: null,
  };
}

/**
 * The brokers to list: this one alone behind a load balancer, or every broker
 * with a live lease in the addressable shape, each at its endpoint on the
 * listener the client came through.
 */
export function clusterBrokers(ctx: RequestContext): BrokerAddress[] {
  const registry = ctx.broker.registry;
  if (!registry) return [selfAddress(ctx)];
  const self = ctx.broker.config.nodeId;
  const listener = ctx.connection.listenerName;
  const out: BrokerAddress[] = [];
  for (const b of registry.brokers()) {
    if (b.nodeId === self) {
      out.push({ ...selfAddress(ctx), rack: b.rack });
      continue;
    }
    // A broker without the client's listener is left out, as Kafka does.
    const e = registry.endpoint(b, listener);
    if (e !== null) out.push({ nodeId: b.nodeId, host: e.host, port: e.port, rack: b.rack });
  }
  return out;
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
