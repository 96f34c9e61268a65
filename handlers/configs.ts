/**
 * Config entries as DescribeConfigs and CreateTopics report them: each with
 * its value, its source and synonyms (KIP-226) and its type (KIP-569). Topic
 * configs a topic does not set take the broker's: the dynamic ones from the
 * meta store (log.retention.ms for retention.ms, message.max.bytes for
 * max.message.bytes), then the flags, then Kafka's defaults.
 */

import { SHARE_GROUP_CONFIGS } from "../broker/share_configs.ts";
import { STREAMS_GROUP_CONFIGS } from "../broker/streams_configs.ts";
import { type BrokerConfig, TOPIC_CONFIGS } from "../broker/config.ts";
import {
  BROKER_CONFIGS,
  ConfigSource,
  type ConfigSynonym,
  type DynamicConfigs,
  GROUP_CONFIGS,
  retentionMsOf,
  TOPIC_BROKER_SYNONYM,
} from "../broker/dynamic_config.ts";
import type { TopicInfo } from "../stores/types.ts";
import { isStoreFailure, storeErrorCode } from "../broker/store_guard.ts";
import { ErrorCode } from "../protocol/errors.ts";

export { ConfigSource };

/** Config resource types (DescribeConfigs, AlterConfigs, ListConfigResources). */
export const ResourceType = {
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

/** One described config. */
export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  type: number;
  isSensitive: boolean;
  documentation: string | null;
  synonyms: ConfigSynonym[];
}

/**
 * The error code and message for a configs request whose meta store call
 * failed: retriable (REQUEST_TIMED_OUT or KAFKA_STORAGE_ERROR), never a
 * closed connection. Only store calls are wrapped, so any failure is the store's.
 */
export function storeFailure(e: unknown): { errorCode: number; errorMessage: string } {
  return {
    errorCode: isStoreFailure(e) ? storeErrorCode(e) : ErrorCode.KAFKA_STORAGE_ERROR,
    errorMessage: `Meta store failed: ${(e as Error)?.message ?? e}; retry`,
  };
}

/** Kafka's values of a topic's compression.type. */
const COMPRESSION_TYPES = ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"];

/** Checks topic configs from CreateTopics or AlterConfigs; returns a message for the first bad one. */
export function topicConfigProblem(configs: Record<string, string | null>): string | null {
  for (const [name, value] of Object.entries(configs)) {
    const spec = TOPIC_CONFIGS[name];
    if (!spec) return `Unknown topic config ${JSON.stringify(name)}`;
    if (value === null) continue;
    if ((spec.type === 3 || spec.type === 5) && !/^-?\d+$/.test(value)) {
      return `Topic config ${name}=${JSON.stringify(value)} must be a whole number`;
    }
    if (spec.type === 6 && !(Number.isFinite(Number(value)) && value.trim() !== "")) {
      return `Topic config ${name}=${JSON.stringify(value)} must be a number`;
    }
    if (name === "cleanup.policy") {
      const policies = value.split(",").map((p) => p.trim().toLowerCase());
      if (policies.length === 0 || policies.some((p) => p !== "delete" && p !== "compact")) {
        return `cleanup.policy=${JSON.stringify(value)} must be "delete", "compact" or both`;
      }
    }
    if (name === "min.cleanable.dirty.ratio" && !(Number(value) >= 0 && Number(value) <= 1)) {
      return `min.cleanable.dirty.ratio=${JSON.stringify(value)} must be between 0 and 1`;
    }
    if (name === "compression.type" && !COMPRESSION_TYPES.includes(value)) {
      return `compression.type=${JSON.stringify(value)} must be one of ${
        COMPRESSION_TYPES.join(", ")
      }`;
    }
    if (name === "message.timestamp.type" && value !== "CreateTime" && value !== "LogAppendTime") {
      return `message.timestamp.type=${JSON.stringify(value)} must be CreateTime or LogAppendTime`;
    }
  }
  return null;
}

/**
 * Every config of a topic: its own values, then the broker's for the configs
 * that have a broker synonym (from `dyn`'s cache when given), then defaults.
 */
export function topicConfigEntries(
  topic: Pick<TopicInfo, "configs">,
  dyn?: DynamicConfigs,
): ConfigEntry[] {
  const own = dyn?.cachedBroker(String(dyn.live.nodeId)) ?? {};
  const clusterDefault = dyn?.cachedBroker("") ?? {};
  return Object.entries(TOPIC_CONFIGS).map(([name, spec]) => {
    const synonyms: ConfigSynonym[] = [];
    const mine = topic.configs[name];
    if (mine !== undefined) {
      synonyms.push({ name, value: mine, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    }
    const brokerName = TOPIC_BROKER_SYNONYM[name];
    if (brokerName && dyn) synonyms.push(...dyn.synonyms(brokerName, own, clusterDefault));
    if (synonyms.length === (mine !== undefined ? 1 : 0)) {
      synonyms.push({ name, value: spec.default, source: ConfigSource.DEFAULT_CONFIG });
    }
    const first = synonyms[0];
    let value = first.value;
    if (name === "retention.ms" && mine === undefined && first.name !== "log.retention.ms") {
      value = String(retentionMsOf({ ...clusterDefault, ...own }));
    }
    return {
      name,
      value,
      readOnly: false,
      source: first.source,
      type: spec.type,
      isSensitive: false,
      documentation: spec.doc,
      synonyms,
    };
  });
}

/**
 * The configs of a broker resource. For this broker's node id: every config
 * with the value in force, its source and synonyms. For "" (the cluster-wide
 * default): only the configs that default sets, as Kafka answers.
 */
export function brokerConfigEntries(
  dyn: DynamicConfigs,
  resourceName: string,
  own: Record<string, string>,
  clusterDefault: Record<string, string>,
): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const [name, spec] of Object.entries(BROKER_CONFIGS)) {
    const base = {
      name,
      readOnly: !spec.dynamic,
      type: spec.type,
      isSensitive: false,
      documentation: spec.doc,
    };
    if (resourceName === "") {
      if (clusterDefault[name] === undefined) continue;
      const s = {
        name,
        value: clusterDefault[name],
        source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
      };
      out.push({ ...base, value: s.value, source: s.source, synonyms: [s] });
      continue;
    }
    const synonyms = dyn.synonyms(name, own, clusterDefault);
    out.push({
      ...base,
      value: synonyms[0]?.value ?? null,
      source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      synonyms,
    });
  }
  return out;
}

/** A group's KIP-848 configs: its own (GROUP_CONFIG), else the broker's in force. */
export function groupConfigEntries(
  configs: Record<string, string>,
  live: BrokerConfig,
): ConfigEntry[] {
  return Object.entries(GROUP_CONFIGS).map(([name, spec]) => {
    const share = SHARE_GROUP_CONFIGS[name] ?? STREAMS_GROUP_CONFIGS[name];
    const brokerValue = share ? share.kafkaDefault : String(
      spec.broker === "group.consumer.session.timeout.ms"
        ? live.groupConsumerSessionTimeoutMs
        : live.groupConsumerHeartbeatIntervalMs,
    );
    const synonyms: ConfigSynonym[] = [];
    if (configs[name] !== undefined) {
      synonyms.push({ name, value: configs[name], source: ConfigSource.GROUP_CONFIG });
    }
    synonyms.push({ name, value: brokerValue, source: ConfigSource.DEFAULT_CONFIG });
    return {
      name,
      value: synonyms[0].value,
      readOnly: false,
      source: synonyms[0].source,
      type: share ? share.type : 3,
      isSensitive: false,
      documentation: spec.doc,
      synonyms,
    };
  });
}
