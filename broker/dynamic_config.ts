/**
 * Dynamic configs (KIP-226 for brokers, KIP-848 for groups) kept in the meta
 * store, so that they hold cluster-wide: every broker sharing the stores reads
 * them back within about a second and applies them.
 *
 * Broker configs live in entity type "brokers": the entity "" is the
 * cluster-wide default (`kafka-configs --entity-default`), an entity named by a
 * node id overrides it for that broker. Group configs live in entity type
 * "groups", one entity per group id. Each broker keeps a small cache of both,
 * refreshed every {@link REFRESH_MS}; a change made on this broker is applied
 * here at once.
 *
 * Applying a broker config overwrites the field of the broker's live
 * {@link BrokerConfig} (the object every handler reads on use: message.max.bytes
 * in Produce, auto.create.topics.enable and num.partitions in Metadata and
 * CreateTopics) and of the live coordinator settings; removing it brings back
 * the value the broker was started with.
 */

import { SHARE_GROUP_CONFIGS } from "./share_configs.ts";
import { STREAMS_GROUP_CONFIGS } from "./streams_configs.ts";
import type { MetaStore } from "../stores/types.ts";
import type { BrokerConfig } from "./config.ts";
import type { CoordinatorConfig } from "./group_coordinator.ts";
import type { ConsumerGroupConfig } from "./consumer_group_state.ts";
import { PeriodicRefresh } from "./periodic_refresh.ts";

/** Meta store entity types. */
export const BROKER_ENTITY = "brokers";
export const GROUP_ENTITY = "groups";
/** Client quota entities; see handlers/client_quotas.ts. */
export const QUOTA_ENTITY = "quotas";

/** How often each broker re-reads the dynamic configs. */
export const REFRESH_MS = 1000;

/** ConfigSource of DescribeConfigs v1+ (KIP-226 numbering; 8 is KIP-848's group config). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  GROUP_CONFIG: 8,
} as const;

/** Config types of DescribeConfigs v3+ (KIP-569). */
export const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, LIST: 7 } as const;

type Field =
  | "autoCreateTopics"
  | "defaultPartitions"
  | "messageMaxBytes"
  | "groupInitialRebalanceDelayMs"
  | "groupMinSessionTimeoutMs"
  | "groupMaxSessionTimeoutMs"
  | "groupConsumerSessionTimeoutMs"
  | "groupConsumerHeartbeatIntervalMs";

/** A broker config this broker describes: how to read it, and whether it may change at run time. */
export interface BrokerConfigSpec {
  type: number;
  /** The value the broker started with (null: none; Kafka shows no value either). */
  started(c: BrokerConfig): string | null;
  /** Kafka's default; a started value equal to it is reported as DEFAULT_CONFIG. */
  kafkaDefault: string | null;
  doc: string;
  /** Dynamic configs: the whole numbers accepted, and the live field they set. */
  dynamic?: { min: number; max: number; field?: Field };
  /** Read-only configs: what sets them instead. */
  setBy?: string;
}

const INT_MAX = 2 ** 31 - 1;
const LONG_MAX = Number.MAX_SAFE_INTEGER;
const I = ConfigType;

const field = (f: Field) => (c: BrokerConfig) => String(c[f]);
const fixed = (v: string | null) => () => v;

/** The broker configs, by Kafka's names. */
export const BROKER_CONFIGS: Record<string, BrokerConfigSpec> = {
  "auto.create.topics.enable": {
    type: I.BOOLEAN,
    started: field("autoCreateTopics"),
    kafkaDefault: "true",
    doc: "Metadata requests create missing topics (--auto-create-topics)",
    dynamic: { min: 0, max: 1, field: "autoCreateTopics" },
  },
  "num.partitions": {
    type: I.INT,
    started: field("defaultPartitions"),
    kafkaDefault: "1",
    doc: "Partitions of a topic created without a count (--default-partitions)",
    dynamic: { min: 1, max: 10000, field: "defaultPartitions" },
  },
  "message.max.bytes": {
    type: I.INT,
    started: field("messageMaxBytes"),
    kafkaDefault: "1048588",
    doc: "Largest record batch accepted (--message-max-bytes)",
    dynamic: { min: 1024, max: 2 ** 30, field: "messageMaxBytes" },
  },
  "log.retention.ms": {
    type: I.LONG,
    started: fixed(null),
    kafkaDefault: null,
    doc: "retention.ms of topics that set none; -1 keeps everything",
    dynamic: { min: -1, max: LONG_MAX },
  },
  "log.retention.minutes": {
    type: I.INT,
    started: fixed(null),
    kafkaDefault: null,
    doc: "log.retention.ms in minutes, when that is not set",
    dynamic: { min: -1, max: INT_MAX },
  },
  "log.retention.hours": {
    type: I.INT,
    started: fixed("168"),
    kafkaDefault: "168",
    doc: "log.retention.ms in hours, when neither that nor the minutes are set",
    dynamic: { min: -1, max: INT_MAX },
  },
  "log.retention.bytes": {
    type: I.LONG,
    started: fixed("-1"),
    kafkaDefault: "-1",
    doc: "retention.bytes of topics that set none (kept; size retention is not enforced yet)",
    dynamic: { min: -1, max: LONG_MAX },
  },
  "group.initial.rebalance.delay.ms": {
    type: I.INT,
    started: field("groupInitialRebalanceDelayMs"),
    kafkaDefault: "3000",
    doc: "A new classic group's first rebalance waits this long for more members",
    dynamic: { min: 0, max: INT_MAX, field: "groupInitialRebalanceDelayMs" },
  },
  "group.min.session.timeout.ms": {
    type: I.INT,
    started: field("groupMinSessionTimeoutMs"),
    kafkaDefault: "6000",
    doc: "Shortest session timeout a classic group member may ask for",
    dynamic: { min: 0, max: INT_MAX, field: "groupMinSessionTimeoutMs" },
  },
  "group.max.session.timeout.ms": {
    type: I.INT,
    started: field("groupMaxSessionTimeoutMs"),
    kafkaDefault: "1800000",
    doc: "Longest session timeout a classic group member may ask for",
    dynamic: { min: 0, max: INT_MAX, field: "groupMaxSessionTimeoutMs" },
  },
  "group.consumer.session.timeout.ms": {
    type: I.INT,
    started: field("groupConsumerSessionTimeoutMs"),
    kafkaDefault: "45000",
    doc: "KIP-848 members not heard from for this long are fenced",
    dynamic: { min: 1, max: INT_MAX, field: "groupConsumerSessionTimeoutMs" },
  },
  "group.consumer.heartbeat.interval.ms": {
    type: I.INT,
    started: field("groupConsumerHeartbeatIntervalMs"),
    kafkaDefault: "5000",
    doc: "How often KIP-848 members are told to heartbeat",
    dynamic: { min: 1, max: INT_MAX, field: "groupConsumerHeartbeatIntervalMs" },
  },
  "group.consumer.min.session.timeout.ms": {
    type: I.INT,
    started: (c) => String(consumerBounds(c).minSession),
    kafkaDefault: "45000",
    doc: "Shortest consumer.session.timeout.ms a group may set",
    setBy: "45000, or --group-consumer-session-timeout-ms when lower",
  },
  "group.consumer.max.session.timeout.ms": {
    type: I.INT,
    started: (c) => String(consumerBounds(c).maxSession),
    kafkaDefault: "60000",
    doc: "Longest consumer.session.timeout.ms a group may set",
    setBy: "60000, or --group-consumer-session-timeout-ms when higher",
  },
  "group.consumer.min.heartbeat.interval.ms": {
    type: I.INT,
    started: (c) => String(consumerBounds(c).minHeartbeat),
    kafkaDefault: "5000",
    doc: "Shortest consumer.heartbeat.interval.ms a group may set",
    setBy: "5000, or --group-consumer-heartbeat-interval-ms when lower",
  },
  "group.consumer.max.heartbeat.interval.ms": {
    type: I.INT,
    started: (c) => String(consumerBounds(c).maxHeartbeat),
    kafkaDefault: "15000",
    doc: "Longest consumer.heartbeat.interval.ms a group may set",
    setBy: "15000, or --group-consumer-heartbeat-interval-ms when higher",
  },
  "node.id": {
    type: I.INT,
    started: (c) => String(c.nodeId),
    kafkaDefault: null,
    doc: "This broker's node id",
    setBy: "--node-id",
  },
  "broker.id": {
    type: I.INT,
    started: (c) => String(c.nodeId),
    kafkaDefault: "-1",
    doc: "This broker's node id",
    setBy: "--node-id",
  },
  "default.replication.factor": {
    type: I.SHORT,
    started: fixed("1"),
    kafkaDefault: "1",
    doc: "The stores replicate, not brokers",
    setBy: "the stores (brokers do not replicate)",
  },
  "min.insync.replicas": {
    type: I.INT,
    started: fixed("1"),
    kafkaDefault: "1",
    doc: "The stores replicate, not brokers",
    setBy: "the stores (brokers do not replicate)",
  },
  "socket.request.max.bytes": {
    type: I.INT,
    started: (c) => String(c.socketRequestMaxBytes),
    kafkaDefault: "104857600",
    doc: "Largest request frame read",
    setBy: "the broker's start-up options (socketRequestMaxBytes)",
  },
  "compression.type": {
    type: I.STRING,
    started: fixed("producer"),
    kafkaDefault: "producer",
    doc: "Batches are stored as sent",
    setBy: "the producers (batches are stored as sent)",
  },
  "advertised.listeners": {
    type: I.LIST,
    started: (c) =>
      c.security.advertisedListeners.length > 0
        ? c.security.advertisedListeners.map((l) => `${l.name}://${hostPort(l.host, l.port)}`)
          .join(",")
        : c.advertisedHost
        ? `PLAINTEXT://${c.advertisedHost}:${c.advertisedPort ?? c.port}`
        : "",
    kafkaDefault: null,
    doc:
      "--advertised-listeners, or --advertised-host and --advertised-port; empty: the address each client used",
    setBy: "--advertised-host and --advertised-port, or --advertised-listeners",
  },
  "listeners": {
    type: I.LIST,
    started: (c) =>
      c.security.listeners.length > 0
        ? c.security.listeners.map((l) => `${l.name}://${hostPort(l.host, l.port)}`).join(",")
        : `PLAINTEXT://${c.host}:${c.port}`,
    kafkaDefault: "PLAINTEXT://:9092",
    doc: "--listeners, or --host and --port",
    setBy: "--host and --port, or --listeners",
  },
};

/**
 * Other names a broker config is known by, in Kafka's order of precedence
 * (log.retention.ms wins over the minutes, which win over the hours).
 */
export function brokerSynonyms(name: string): string[] {
  if (name === "log.retention.ms") {
    return ["log.retention.ms", "log.retention.minutes", "log.retention.hours"];
  }
  if (name === "log.retention.minutes") return ["log.retention.minutes", "log.retention.hours"];
  return [name];
}

/** The broker config a topic config defaults to (Kafka's topic-to-broker synonyms). */
export const TOPIC_BROKER_SYNONYM: Record<string, string> = {
  "retention.ms": "log.retention.ms",
  "retention.bytes": "log.retention.bytes",
  "max.message.bytes": "message.max.bytes",
};

/** The bounds of KIP-848 group session timeouts and heartbeat intervals (Kafka's, widened to the flags). */
export function consumerBounds(c: BrokerConfig) {
  return {
    minSession: Math.min(45_000, c.groupConsumerSessionTimeoutMs),
    maxSession: Math.max(60_000, c.groupConsumerSessionTimeoutMs),
    minHeartbeat: Math.min(5_000, c.groupConsumerHeartbeatIntervalMs),
    maxHeartbeat: Math.max(15_000, c.groupConsumerHeartbeatIntervalMs),
  };
}

/** What is wrong with setting (or, for null, removing) a broker config; null when nothing. */
export function brokerConfigProblem(name: string, value: string | null): string | null {
  const spec = BROKER_CONFIGS[name];
  if (!spec) {
    return `Unknown broker config ${JSON.stringify(name)}; the dynamic ones are ${
      DYNAMIC_BROKER_CONFIG_NAMES.join(", ")
    }`;
  }
  if (!spec.dynamic) {
    return `${name} is read-only here; it is set by ${spec.setBy}`;
  }
  if (value === null) return null;
  return valueProblem(name, value, spec.type, spec.dynamic.min, spec.dynamic.max);
}

/** The broker configs that may change at run time. */
export const DYNAMIC_BROKER_CONFIG_NAMES = Object.keys(BROKER_CONFIGS).filter((n) =>
  BROKER_CONFIGS[n].dynamic
);

function valueProblem(
  name: string,
  value: string,
  type: number,
  min: number,
  max: number,
): string | null {
  if (type === I.BOOLEAN) {
    return /^(true|false)$/i.test(value.trim())
      ? null
      : `${name}=${JSON.stringify(value)} must be true or false`;
  }
  const v = value.trim();
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    return `${name}=${JSON.stringify(value)} must be a whole number from ${min} to ${max}`;
  }
  return null;
}

/** The group configs (KIP-848) a group may set, with the broker configs they default to. */
export const GROUP_CONFIGS: Record<string, { broker: string; doc: string }> = {
  "consumer.session.timeout.ms": {
    broker: "group.consumer.session.timeout.ms",
    doc: "This group's members not heard from for this long are fenced",
  },
  "consumer.heartbeat.interval.ms": {
    broker: "group.consumer.heartbeat.interval.ms",
    doc: "How often this group's members are told to heartbeat",
  },
  // Share groups (KIP-932): broker/share_configs.ts.
  ...SHARE_GROUP_CONFIGS,
  // Streams groups (KIP-1071): broker/streams_configs.ts.
  ...STREAMS_GROUP_CONFIGS,
};

/**
 * What is wrong with a group's configs after a change (all of them, as they
 * would be), checked as Kafka does against the broker's group.consumer bounds.
 */
export function groupConfigProblem(
  configs: Record<string, string>,
  c: BrokerConfig,
): string | null {
  const b = consumerBounds(c);
  for (const [name, value] of Object.entries(configs)) {
    if (!GROUP_CONFIGS[name]) {
      return `Unknown group config ${JSON.stringify(name)}; supported: ${
        Object.keys(GROUP_CONFIGS).join(", ")
      }`;
    }
    const share = SHARE_GROUP_CONFIGS[name] ?? STREAMS_GROUP_CONFIGS[name];
    if (share) {
      const problem = share.problem(value);
      if (problem) return problem;
      continue;
    }
    const [min, max, lo, hi] = name === "consumer.session.timeout.ms"
      ? [
        b.minSession,
        b.maxSession,
        "group.consumer.min.session.timeout.ms",
        "group.consumer.max.session.timeout.ms",
      ]
      : [
        b.minHeartbeat,
        b.maxHeartbeat,
        "group.consumer.min.heartbeat.interval.ms",
        "group.consumer.max.heartbeat.interval.ms",
      ];
    if (!/^-?\d+$/.test(value.trim())) {
      return `${name}=${JSON.stringify(value)} must be a whole number`;
    }
    const v = Number(value);
    if (v < min) return `${name}=${JSON.stringify(value)} must be at least ${lo} (${min})`;
    if (v > max) return `${name}=${JSON.stringify(value)} must be at most ${hi} (${max})`;
  }
  const session = Number(configs["consumer.session.timeout.ms"] ?? c.groupConsumerSessionTimeoutMs);
  const heartbeat = Number(
    configs["consumer.heartbeat.interval.ms"] ?? c.groupConsumerHeartbeatIntervalMs,
  );
  if (heartbeat >= session) {
    return `consumer.heartbeat.interval.ms (${heartbeat}) must be less than consumer.session.timeout.ms (${session})`;
  }
  return null;
}

/** One source of a config's value, as DescribeConfigs lists synonyms. */
export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

/** A broker's view of the dynamic configs, and the live settings it applies them to. */
export class DynamicConfigs {
  /** The configuration the broker started with (flags); what removing a dynamic config restores. */
  readonly started: BrokerConfig;
  /** The cluster-wide default entity ("") and this broker's own entity. */
  private clusterDefault: Record<string, string> = {};
  private own: Record<string, string> = {};
  private groups = new Map<string, Record<string, string>>();
  private readonly refresher = new PeriodicRefresh(() => this.load());
  /** The coordinator settings, kept up to date (give this object to the GroupCoordinator). */
  readonly coordinator: CoordinatorConfig & { consumer: ConsumerGroupConfig };

  /** `live` is the broker's own config object: dynamic values are written into it. */
  constructor(private readonly meta: MetaStore, readonly live: BrokerConfig) {
    this.started = { ...live };
    this.coordinator = {
      initialRebalanceDelayMs: live.groupInitialRebalanceDelayMs,
      minSessionTimeoutMs: live.groupMinSessionTimeoutMs,
      maxSessionTimeoutMs: live.groupMaxSessionTimeoutMs,
      pollMs: live.groupPollMs,
      consumer: {
        heartbeatIntervalMs: live.groupConsumerHeartbeatIntervalMs,
        sessionTimeoutMs: live.groupConsumerSessionTimeoutMs,
        forGroup: (groupId) => this.groupSettings(groupId),
      },
    };
  }

  /** Refreshes every {@link REFRESH_MS} until `closing` aborts. Failures keep the last values. */
  start(closing: AbortSignal, everyMs = REFRESH_MS): void {
    this.refresher.start(closing, everyMs);
  }

  stop(): void {
    this.refresher.stop();
  }

  /** Reads the broker and group configs from the meta store and applies them (one read at a time). */
  refresh(): Promise<void> {
    return this.refresher.run();
  }

  private async load(): Promise<void> {
    const brokers = await this.meta.entityConfigs(BROKER_ENTITY, [
      "",
      String(this.live.nodeId),
    ]);
    const groups = await this.meta.entityConfigs(GROUP_ENTITY, null);
    this.clusterDefault = brokers.find((e) => e.name === "")?.configs ?? {};
    this.own = brokers.find((e) => e.name === String(this.live.nodeId))?.configs ?? {};
    this.groups = new Map(groups.map((g) => [g.name, g.configs]));
    this.apply();
  }

  /** Takes a broker entity this broker just wrote (so the change applies here at once). */
  noteBroker(name: string, configs: Record<string, string>): void {
    if (name === "") this.clusterDefault = { ...configs };
    else if (name === String(this.live.nodeId)) this.own = { ...configs };
    else return;
    this.apply();
  }

  /** Takes a group entity this broker just wrote. */
  noteGroup(groupId: string, configs: Record<string, string>): void {
    if (Object.keys(configs).length === 0) this.groups.delete(groupId);
    else this.groups.set(groupId, { ...configs });
  }

  /** The dynamic value of a broker config in force here, or undefined when none is set. */
  dynamicValue(name: string): string | undefined {
    return this.own[name] ?? this.clusterDefault[name];
  }

  /** Configs of a broker entity as cached ("" the default, or this broker's node id). */
  cachedBroker(name: string): Record<string, string> {
    return name === "" ? { ...this.clusterDefault } : { ...this.own };
  }

  /**
   * Where each of a broker config's names gets a value, in order of
   * precedence: this broker's entity, the cluster default, the flags, Kafka's
   * default. `own` and `clusterDefault` are the entities (for a describe that
   * has just read them).
   */
  synonyms(
    name: string,
    own: Record<string, string>,
    clusterDefault: Record<string, string>,
  ): ConfigSynonym[] {
    const out: ConfigSynonym[] = [];
    for (const n of brokerSynonyms(name)) {
      const spec = BROKER_CONFIGS[n];
      if (!spec) continue;
      if (own[n] !== undefined) {
        out.push({ name: n, value: own[n], source: ConfigSource.DYNAMIC_BROKER_CONFIG });
      }
      if (clusterDefault[n] !== undefined) {
        out.push({
          name: n,
          value: clusterDefault[n],
          source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
        });
      }
      const started = spec.started(this.started);
      if (started !== null && started !== spec.kafkaDefault) {
        out.push({ name: n, value: started, source: ConfigSource.STATIC_BROKER_CONFIG });
      }
      if (spec.kafkaDefault !== null) {
        out.push({ name: n, value: spec.kafkaDefault, source: ConfigSource.DEFAULT_CONFIG });
      }
    }
    return out;
  }

  /** retention.ms of topics that set none: log.retention.ms, else the minutes, else the hours. */
  retentionMs(): number {
    return retentionMsOf({ ...this.clusterDefault, ...this.own });
  }

  /** A group's own KIP-848 settings, when it has any (the coordinator asks on each use). */
  groupSettings(groupId: string): Partial<ConsumerGroupConfig> | undefined {
    const g = this.groups.get(groupId);
    if (!g) return undefined;
    const out: Partial<ConsumerGroupConfig> = {};
    const session = Number(g["consumer.session.timeout.ms"]);
    const heartbeat = Number(g["consumer.heartbeat.interval.ms"]);
    if (Number.isFinite(session) && session > 0) out.sessionTimeoutMs = session;
    if (Number.isFinite(heartbeat) && heartbeat > 0) out.heartbeatIntervalMs = heartbeat;
    return out;
  }

  private apply(): void {
    const merged = { ...this.clusterDefault, ...this.own };
    const live = this.live as unknown as Record<Field, number | boolean>;
    for (const [name, spec] of Object.entries(BROKER_CONFIGS)) {
      const f = spec.dynamic?.field;
      if (!f) continue;
      const v = merged[name];
      const problem = v === undefined ? "unset" : brokerConfigProblem(name, v);
      live[f] = problem !== null
        ? this.started[f]
        : spec.type === I.BOOLEAN
        ? v!.trim().toLowerCase() === "true"
        : Number(v);
    }
    this.coordinator.initialRebalanceDelayMs = this.live.groupInitialRebalanceDelayMs;
    this.coordinator.minSessionTimeoutMs = this.live.groupMinSessionTimeoutMs;
    this.coordinator.maxSessionTimeoutMs = this.live.groupMaxSessionTimeoutMs;
    this.coordinator.consumer.sessionTimeoutMs = this.live.groupConsumerSessionTimeoutMs;
    this.coordinator.consumer.heartbeatIntervalMs = this.live.groupConsumerHeartbeatIntervalMs;
  }
}

/** Kafka's precedence of the retention time configs, over one merged set of broker configs. */
export function retentionMsOf(configs: Record<string, string>): number {
  const num = (n: string) => {
    const v = configs[n];
    return v !== undefined && /^-?\d+$/.test(v.trim()) ? Number(v) : undefined;
  };
  const ms = num("log.retention.ms");
  if (ms !== undefined) return ms;
  const minutes = num("log.retention.minutes");
  if (minutes !== undefined) return minutes < 0 ? -1 : minutes * 60_000;
  const hours = num("log.retention.hours") ?? 168;
  return hours < 0 ? -1 : hours * 3_600_000;
}

/** `host:port`, IPv6 hosts in brackets as Kafka writes listeners. */
function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
