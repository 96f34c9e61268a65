/** Broker settings and the topic configs the broker knows, with Kafka's defaults. */

import { DEFAULT_CONSUMER_GROUP_CONFIG } from "./consumer_group_state.ts";
import { DEFAULT_SECURITY_CONFIG, type SecurityConfig } from "./security_config.ts";

/** Everything a broker needs to know about itself; every broker sharing stores may differ only in these. */
export interface BrokerConfig {
  host: string;
  port: number;
  /** Host and port put in Metadata; null = the address the client connected to. */
  advertisedHost: string | null;
  advertisedPort: number | null;
  nodeId: number;
  /** Proposed cluster id; the meta store keeps the first one it sees. */
  clusterId: string | null;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  /** message.max.bytes: the largest record batch accepted (Kafka's default, 1 MiB + 12). */
  messageMaxBytes: number;
  /** socket.request.max.bytes: the largest request frame read (100 MiB). */
  socketRequestMaxBytes: number;
  /** Requests read ahead on one connection before reading pauses (backpressure). */
  maxInFlightPerConnection: number;
  /** How long a flush may wait for more batches (0 = flush as soon as the previous one ends). */
  lingerMs: number;
  /** Flush early once this many bytes are buffered. */
  flushBytes: number;
  /** Every store call's deadline (the store guard): one that takes longer fails with a retriable error. */
  storeTimeoutMs: number;
  /** How often a long-polling fetch re-reads the high watermark for other brokers' commits. */
  fetchPollMs: number;
  /**
   * max.incremental.fetch.session.cache.slots: fetch sessions (KIP-227) this
   * broker holds at once; 0 answers every fetch without a session.
   */
  maxIncrementalFetchSessionCacheSlots: number;
  /**
   * "load-balanced": every broker answers Metadata with one shared address and
   * node id (clients see one broker). "addressable": each broker registers a
   * lease and Metadata lists the live ones, spreading partition leadership.
   */
  clusterShape: "load-balanced" | "addressable";
  rack: string | null;
  /** group.initial.rebalance.delay.ms: a new group's first rebalance waits this long for more members. */
  groupInitialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms and group.max.session.timeout.ms: the session timeouts accepted. */
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /** How often a waiting JoinGroup/SyncGroup re-reads the shared group record. */
  groupPollMs: number;
  /**
   * group.consumer.heartbeat.interval.ms: how often KIP-848 members are told to
   * heartbeat (ConsumerGroupHeartbeat's HeartbeatIntervalMs).
   */
  groupConsumerHeartbeatIntervalMs: number;
  /**
   * group.consumer.session.timeout.ms: a KIP-848 member not heard from for this
   * long is fenced and its partitions reassigned (the broker decides it; KIP-848
   * members send no session timeout of their own).
   */
  groupConsumerSessionTimeoutMs: number;
  /** Listeners, TLS, SASL and the authorizer (security_config.ts). */
  security: SecurityConfig;
  /** max.connections: connections open at once beyond which new ones are closed (0: no cap). */
  maxConnections: number;
  /** max.connections.per.ip: the same, per client address (0: no cap). */
  maxConnectionsPerIp: number;
  /**
   * connections.max.idle.ms: a connection that completes no request for this
   * long, with nothing in flight, is closed (a slowloris sender never
   * completes one).
   */
  connectionsMaxIdleMs: number;
  /**
   * queued.max.request.bytes: bytes held broker-wide for requests being read
   * or handled and responses not yet written; while they reach it, no
   * connection is read from (0: no bound).
   */
  queuedMaxRequestBytes: number;
  /** The same bound for one connection's own requests and responses (0: no bound). */
  connectionQueuedMaxBytes: number;
  /**
   * A request not answered this long after it arrived, beyond its own wait
   * (Fetch's max_wait_ms, JoinGroup's rebalance timeout, a timeout_ms), closes
   * its connection: every request gets an answer or a closed connection.
   */
  requestTimeoutMs: number;
}

/** The defaults `deno run -A main.ts` starts with. */
export const DEFAULT_BROKER_CONFIG: BrokerConfig = {
  host: "0.0.0.0",
  port: 9092,
  advertisedHost: null,
  advertisedPort: null,
  nodeId: 0,
  clusterId: null,
  autoCreateTopics: true,
  defaultPartitions: 1,
  messageMaxBytes: 1048588,
  socketRequestMaxBytes: 104857600,
  maxInFlightPerConnection: 64,
  lingerMs: 0,
  flushBytes: 4 * 1024 * 1024,
  storeTimeoutMs: 10_000,
  fetchPollMs: 100,
  maxIncrementalFetchSessionCacheSlots: 1000,
  clusterShape: "load-balanced",
  rack: null,
  groupInitialRebalanceDelayMs: 3000,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupPollMs: 100,
  groupConsumerHeartbeatIntervalMs: DEFAULT_CONSUMER_GROUP_CONFIG.heartbeatIntervalMs,
  groupConsumerSessionTimeoutMs: DEFAULT_CONSUMER_GROUP_CONFIG.sessionTimeoutMs,
  security: DEFAULT_SECURITY_CONFIG,
  maxConnections: 10_000,
  maxConnectionsPerIp: 0,
  connectionsMaxIdleMs: 600_000,
  queuedMaxRequestBytes: 256 * 1024 * 1024,
  connectionQueuedMaxBytes: 16 * 1024 * 1024,
  requestTimeoutMs: 60_000,
};

/** A topic config the broker accepts: its default and what it does here. */
export interface TopicConfigSpec {
  default: string;
  /** Type for DescribeConfigs v3+ (KIP-569): 1 boolean, 2 string, 3 int, 4 short, 5 long, 6 double, 7 list. */
  type: number;
  doc: string;
}

/** Topic configs, as Kafka names them. Unknown names are refused with INVALID_CONFIG. */
export const TOPIC_CONFIGS: Record<string, TopicConfigSpec> = {
  "cleanup.policy": {
    default: "delete",
    type: 7,
    doc: "delete (retention), compact (the log cleaner keeps the latest record per key), or both",
  },
  "compression.type": {
    default: "producer",
    type: 2,
    doc: "Batches are stored as sent; the cleaner writes batches it rewrites with this codec",
  },
  "delete.retention.ms": {
    default: "86400000",
    type: 5,
    doc: "How long the cleaner keeps a tombstone after it was first cleaned",
  },
  "file.delete.delay.ms": { default: "60000", type: 5, doc: "Kept for compatibility" },
  "flush.messages": { default: "9223372036854775807", type: 5, doc: "Kept for compatibility" },
  "flush.ms": { default: "9223372036854775807", type: 5, doc: "Kept for compatibility" },
  "max.compaction.lag.ms": {
    default: "9223372036854775807",
    type: 5,
    doc: "A dirty batch older than this is cleaned whatever the dirty ratio (KIP-354)",
  },
  "max.message.bytes": { default: "1048588", type: 3, doc: "Largest record batch accepted" },
  "message.timestamp.type": {
    default: "CreateTime",
    type: 2,
    doc: "CreateTime, or LogAppendTime (the broker stamps each flush's time)",
  },
  "message.timestamp.after.max.ms": { default: "9223372036854775807", type: 5, doc: "KIP-937" },
  "message.timestamp.before.max.ms": { default: "9223372036854775807", type: 5, doc: "KIP-937" },
  "min.cleanable.dirty.ratio": {
    default: "0.5",
    type: 6,
    doc: "The cleaner cleans once this share of the cleanable log is dirty",
  },
  "min.compaction.lag.ms": {
    default: "0",
    type: 5,
    doc: "Batches newer than this are never cleaned",
  },
  "min.insync.replicas": { default: "1", type: 3, doc: "The stores replicate, not brokers" },
  "retention.bytes": {
    default: "-1",
    type: 5,
    doc: "Per-partition size limit: the oldest batches go past it (delete policy)",
  },
  "retention.ms": { default: "604800000", type: 5, doc: "Age limit of a batch" },
  "segment.bytes": {
    default: "1073741824",
    type: 3,
    doc: "The cleaner never cleans the last segment of the index; one ends at this size",
  },
  "segment.ms": {
    default: "604800000",
    type: 5,
    doc: "A segment of the index ends this long after its first batch",
  },
  "unclean.leader.election.enable": { default: "false", type: 1, doc: "Kept for compatibility" },
};

/** The value of a topic config: the topic's own, else the default. */
export function topicConfig(configs: Record<string, string>, name: string): string {
  return configs[name] ?? TOPIC_CONFIGS[name]?.default ?? "";
}

/** Topic names Kafka accepts: 1-249 of [a-zA-Z0-9._-], not "." or "..". */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return "Topic name is empty";
  if (name === "." || name === "..") return `Topic name ${JSON.stringify(name)} is not allowed`;
  if (name.length > 249) return `Topic name is ${name.length} characters, over the limit of 249`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    return `Topic name ${JSON.stringify(name)} may only contain letters, digits, '.', '_' and '-'`;
  }
  return null;
}
