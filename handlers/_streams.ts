/** Pieces of the streams group handlers (KIP-1071): settings, topic metadata, internal topics. */

import { getLogger } from "@logtape/logtape";
import type { TopicMeta } from "../broker/consumer_group_state.ts";
import type { StreamsGroupConfig } from "../broker/streams_group_state.ts";
import { streamsSettingsOf } from "../broker/streams_configs.ts";
import {
  configureTopology,
  type StreamsTopology,
  topologyTopics,
  usesRegex,
} from "../broker/streams_topology.ts";
import { topicNameProblem } from "../broker/config.ts";
import type { MetaStore } from "../stores/types.ts";
import { topicConfigProblem } from "./configs.ts";
import { allowedCluster, allowedTopic, Op } from "./_authorize.ts";
import type { RequestContext } from "./types.ts";

const log = getLogger(["skb", "groups"]);

/** Group configs re-read at most once a second per broker (one meta-store read per heartbeat otherwise). */
const SETTINGS_TTL_MS = 1000;
const settingsCache = new WeakMap<MetaStore, Map<string, { at: number; s: StreamsGroupConfig }>>();

/** A streams group's settings: its group configs over Kafka's defaults. */
export async function streamsSettings(
  ctx: RequestContext,
  groupId: string,
): Promise<StreamsGroupConfig> {
  const meta = ctx.broker.meta;
  let cache = settingsCache.get(meta);
  if (!cache) settingsCache.set(meta, cache = new Map());
  const now = performance.now();
  const hit = cache.get(groupId);
  if (hit && now - hit.at < SETTINGS_TTL_MS) return hit.s;
  const [configs] = await meta.entityConfigs("groups", [groupId]);
  const s = streamsSettingsOf(configs?.configs ?? {});
  if (cache.size > 10_000) cache.clear();
  cache.set(groupId, { at: now, s });
  return s;
}

/** The metadata of every topic a topology touches (every topic, when it subscribes by regex). */
export async function loadTopologyTopics(
  ctx: RequestContext,
  topology: StreamsTopology,
): Promise<Map<string, TopicMeta>> {
  const out = new Map<string, TopicMeta>();
  if (usesRegex(topology)) {
    for (const t of await ctx.broker.topics.all()) {
      out.set(t.name, { id: t.id, partitions: t.partitions });
    }
    return out;
  }
  for (const name of topologyTopics(topology)) {
    const t = await ctx.broker.topics.byTopicName(name);
    if (t) out.set(name, { id: t.id, partitions: t.partitions });
  }
  return out;
}

/**
 * Creates the internal topics (repartition, changelog) the topology still
 * lacks, with the partition counts and configs the broker decided for them.
 * Returns whether any was created. A topic another broker created first is
 * fine; one that cannot be created stays missing, and the heartbeat reports
 * it (MISSING_INTERNAL_TOPICS) with the reason in the log. As in Kafka, the
 * member's principal must be allowed to CREATE them (on the cluster, or on
 * each topic).
 */
export async function ensureInternalTopics(
  ctx: RequestContext,
  topology: StreamsTopology,
  topics: Map<string, TopicMeta>,
): Promise<boolean> {
  const configured = configureTopology(
    topology,
    new Map([...topics].map(([n, t]) => [n, t.partitions])),
  );
  let created = false;
  const clusterCreate = allowedCluster(ctx, Op.CREATE);
  for (const t of configured.toCreate) {
    if (!clusterCreate && !allowedTopic(ctx, Op.CREATE, t.name)) {
      log.warn("Streams internal topic {topic} not created: the member may not CREATE it", {
        topic: t.name,
      });
      continue;
    }
    const problem = topicNameProblem(t.name) ?? topicConfigProblem(t.configs) ??
      (t.partitions < 1 ? `partition count ${t.partitions} is not positive` : null);
    if (problem) {
      log.warn("Streams internal topic {topic} cannot be created: {problem}", {
        topic: t.name,
        problem,
      });
      continue;
    }
    try {
      const info = await ctx.broker.meta.createTopic({
        name: t.name,
        partitions: t.partitions,
        configs: t.configs,
      }) ?? await ctx.broker.meta.getTopic(t.name);
      ctx.broker.topics.remember(t.name, info);
      if (info) {
        created = true;
        log.info("Created streams internal topic {topic} with {partitions} partitions", {
          topic: t.name,
          partitions: info.partitions,
        });
      }
    } catch (e) {
      log.warn("Streams internal topic {topic} could not be created: {error}", {
        topic: t.name,
        error: e,
      });
    }
  }
  return created;
}
