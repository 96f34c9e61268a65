/**
 * Config entries as DescribeConfigs and CreateTopics report them: each with
 * its value, its source (KIP-226 numbering) and its type (KIP-569).
 */

import { type BrokerConfig, TOPIC_CONFIGS } from "../broker/config.ts";
import type { TopicInfo } from "../stores/types.ts";

/** ConfigSource values of DescribeConfigs v1+. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
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
}

/** Checks topic configs from CreateTopics or AlterConfigs; returns a message for the first bad one. */
export function topicConfigProblem(configs: Record<string, string | null>): string | null {
  for (const [name, value] of Object.entries(configs)) {
    const spec = TOPIC_CONFIGS[name];
    if (!spec) return `Unknown topic config ${JSON.stringify(name)}`;
    if (value === null) continue;
    if ((spec.type === 3 || spec.type === 5) && !/^-?\d+$/.test(value)) {
      return `Topic config ${name}=${JSON.stringify(value)} must be a whole number`;
    }
    if (name === "cleanup.policy" && value.split(",").some((p) => p.trim() !== "delete")) {
      return `cleanup.policy=${JSON.stringify(value)} is not supported; only "delete" is`;
    }
    if (name === "message.timestamp.type" && value !== "CreateTime") {
      return `message.timestamp.type=${JSON.stringify(value)} is not supported; only CreateTime is`;
    }
  }
  return null;
}

/** Every config of a topic: its own values, then defaults. */
export function topicConfigEntries(topic: TopicInfo): ConfigEntry[] {
  return Object.entries(TOPIC_CONFIGS).map(([name, spec]) => {
    const own = topic.configs[name];
    return {
      name,
      value: own ?? spec.default,
      readOnly: false,
      source: own !== undefined ? ConfigSource.DYNAMIC_TOPIC_CONFIG : ConfigSource.DEFAULT_CONFIG,
      type: spec.type,
      isSensitive: false,
      documentation: spec.doc,
    };
  });
}

/** The broker's own configs, as Kafka names them. */
export function brokerConfigEntries(c: BrokerConfig): ConfigEntry[] {
  const entry = (name: string, value: string, type: number, doc: string): ConfigEntry => ({
    name,
    value,
    readOnly: true,
    source: ConfigSource.STATIC_BROKER_CONFIG,
    type,
    isSensitive: false,
    documentation: doc,
  });
  return [
    entry("node.id", String(c.nodeId), 3, "--node-id"),
    entry("broker.id", String(c.nodeId), 3, "--node-id"),
    entry("auto.create.topics.enable", String(c.autoCreateTopics), 1, "--auto-create-topics"),
    entry("num.partitions", String(c.defaultPartitions), 3, "--default-partitions"),
    entry("default.replication.factor", "1", 4, "The stores replicate, not brokers"),
    entry("message.max.bytes", String(c.messageMaxBytes), 3, "Largest record batch accepted"),
    entry("socket.request.max.bytes", String(c.socketRequestMaxBytes), 3, "Largest request"),
    entry("log.retention.ms", TOPIC_CONFIGS["retention.ms"].default, 5, "Default retention.ms"),
    entry("log.retention.bytes", "-1", 5, "Default retention.bytes"),
    entry("min.insync.replicas", "1", 3, "The stores replicate, not brokers"),
    entry("compression.type", "producer", 2, "Batches are stored as sent"),
    entry(
      "advertised.listeners",
      c.advertisedHost ? `PLAINTEXT://${c.advertisedHost}:${c.advertisedPort ?? c.port}` : "",
      2,
      "--advertised-host and --advertised-port; empty: the address each client used",
    ),
    entry("listeners", `PLAINTEXT://${c.host}:${c.port}`, 2, "--host and --port"),
  ];
}
