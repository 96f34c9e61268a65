/**
 * The command line: `deno run -A main.ts [flags]`. Parses flags (each also
 * settable by an environment variable), opens and pings the two stores,
 * starts the broker, prints `listening on host:port`, and shuts down
 * gracefully on SIGINT or SIGTERM.
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { getLogger, type LogLevel } from "@logtape/logtape";
import { configureLogging, redactSecrets } from "./broker/logging.ts";
import { openLogStore, openMetaStore, redactUrl } from "./stores/registry.ts";
import { startBroker } from "./server/broker.ts";
import { DEFAULT_BROKER_CONFIG } from "./broker/config.ts";
import {
  DEFAULT_SASL_MECHANISMS,
  parseListeners,
  SASL_MECHANISMS,
  type SaslMechanism,
  type SecurityConfig,
} from "./broker/security_config.ts";
import { VERSION } from "./version.ts";

/** One flag: its type, environment variable, default and help line. */
interface FlagSpec {
  type: "string" | "boolean";
  env: string;
  help: string;
  default?: string;
}

const FLAGS: Record<string, FlagSpec> = {
  "host": { type: "string", env: "SKB_HOST", help: "Address to listen on", default: "0.0.0.0" },
  "port": { type: "string", env: "SKB_PORT", help: "Port to listen on", default: "9092" },
  "advertised-host": {
    type: "string",
    env: "SKB_ADVERTISED_HOST",
    help: "Host clients are told to connect to (default: the address each client used)",
  },
  "advertised-port": {
    type: "string",
    env: "SKB_ADVERTISED_PORT",
    help: "Port clients are told to connect to (default: the port each client used)",
  },
  "node-id": { type: "string", env: "SKB_NODE_ID", help: "This broker's node id", default: "0" },
  "cluster-id": {
    type: "string",
    env: "SKB_CLUSTER_ID",
    help: "Cluster id recorded at first start (default: random)",
  },
  "cluster-shape": {
    type: "string",
    env: "SKB_CLUSTER_SHAPE",
    help:
      "load-balanced: all brokers share one advertised address; addressable: each registers and is listed",
    default: "load-balanced",
  },
  "rack": {
    type: "string",
    env: "SKB_RACK",
    help: "Rack id listed in Metadata (addressable shape)",
  },
  "meta": {
    type: "string",
    env: "SKB_META",
    help:
      "Meta store URL: memory:, sqlite:///abs/meta.db, sqlite:rel.db, file:dir (one process), redis://host:6379/0, rediss://..., upstash: or https://... (token in UPSTASH_REDIS_REST_TOKEN) (default: <data-dir>/meta.db)",
  },
  "log": {
    type: "string",
    env: "SKB_LOG",
    help:
      "Log store URL: memory:, file:///abs/dir, file:rel/dir, s3://bucket/prefix?endpoint=...&region=...&force_path_style=true (AWS_* credentials) (default: <data-dir>/log)",
  },
  "data-dir": {
    type: "string",
    env: "SKB_DATA_DIR",
    help: "Directory for the default stores",
    default: "./data",
  },
  "auto-create-topics": {
    type: "string",
    env: "SKB_AUTO_CREATE_TOPICS",
    help: "Create unknown topics on Metadata requests (true/false)",
    default: "true",
  },
  "default-partitions": {
    type: "string",
    env: "SKB_DEFAULT_PARTITIONS",
    help: "Partitions of auto-created topics and of CreateTopics with -1",
    default: "1",
  },
  "message-max-bytes": {
    type: "string",
    env: "SKB_MESSAGE_MAX_BYTES",
    help: "Largest record batch accepted (message.max.bytes)",
    default: String(DEFAULT_BROKER_CONFIG.messageMaxBytes),
  },
  "linger-ms": {
    type: "string",
    env: "SKB_LINGER_MS",
    help:
      "The longest a flush waits to gather more batches; it ends early once every idempotent producer in it has 5 requests waiting (default 25 with an s3: log store, where each flush is one object; else 0)",
  },
  "group-initial-rebalance-delay-ms": {
    type: "string",
    env: "SKB_GROUP_INITIAL_REBALANCE_DELAY_MS",
    help: "How long a new classic group's first rebalance waits for more members",
    default: String(DEFAULT_BROKER_CONFIG.groupInitialRebalanceDelayMs),
  },
  "group-consumer-heartbeat-interval-ms": {
    type: "string",
    env: "SKB_GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS",
    help:
      "How often KIP-848 consumer group members heartbeat (group.consumer.heartbeat.interval.ms)",
    default: String(DEFAULT_BROKER_CONFIG.groupConsumerHeartbeatIntervalMs),
  },
  "group-consumer-session-timeout-ms": {
    type: "string",
    env: "SKB_GROUP_CONSUMER_SESSION_TIMEOUT_MS",
    help:
      "A KIP-848 member silent this long is removed and its partitions reassigned (group.consumer.session.timeout.ms)",
    default: String(DEFAULT_BROKER_CONFIG.groupConsumerSessionTimeoutMs),
  },
  "store-timeout-ms": {
    type: "string",
    env: "SKB_STORE_TIMEOUT_MS",
    help:
      "Every store call (log writes and reads, meta reads and commits) with no answer after this long fails with a retriable error",
    default: String(DEFAULT_BROKER_CONFIG.storeTimeoutMs),
  },
  "max-incremental-fetch-session-cache-slots": {
    type: "string",
    env: "SKB_MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS",
    help:
      "Fetch sessions (KIP-227) held at once; 0: none, every fetch sends its full partition list",
    default: String(DEFAULT_BROKER_CONFIG.maxIncrementalFetchSessionCacheSlots),
  },
  "shutdown-timeout": {
    type: "string",
    env: "SKB_SHUTDOWN_TIMEOUT",
    help: "Milliseconds to finish in-flight work after SIGTERM",
    default: "30000",
  },
  "log-level": {
    type: "string",
    env: "SKB_LOG_LEVEL",
    help: "trace, debug, info, warning, error",
    default: "info",
  },
  "log-format": { type: "string", env: "SKB_LOG_FORMAT", help: "text or json", default: "text" },
  "cleaner-interval-ms": {
    type: "string",
    env: "SKB_CLEANER_INTERVAL_MS",
    help:
      "How often the log cleaner looks for compacted topics to clean (log.cleaner.backoff.ms; 0 turns it off)",
    default: "15000",
  },
  "cleaner-lease-ms": {
    type: "string",
    env: "SKB_CLEANER_LEASE_MS",
    help:
      "How long a broker's claim on a partition it cleans lasts unrenewed; a dead broker's runs out",
    default: "60000",
  },
  "consolidate-interval-ms": {
    type: "string",
    env: "SKB_CONSOLIDATE_INTERVAL_MS",
    help:
      "How often small s3: objects are merged into larger ones, partition by partition (0 turns it off)",
    default: "60000",
  },
  "txn-takeover-ms": {
    type: "string",
    env: "SKB_TXN_TAKEOVER_MS",
    help:
      "How long a transaction's ending (PrepareCommit/PrepareAbort) may stand before any broker finishes it (a broker died mid-EndTxn)",
    default: "10000",
  },
  "http-port": {
    type: "string",
    env: "SKB_HTTP_PORT",
    help: "Port for /metrics, /healthz and /readyz on --host (off unless set)",
  },
  "listeners": {
    type: "string",
    env: "SKB_LISTENERS",
    help:
      "Kafka's listener list, NAME://host:port,... with NAME one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL (default: PLAINTEXT://--host:--port)",
  },
  "advertised-listeners": {
    type: "string",
    env: "SKB_ADVERTISED_LISTENERS",
    help:
      "What Metadata tells clients of each listener, same form (default: the address each client used)",
  },
  "tls-cert": {
    type: "string",
    env: "SKB_TLS_CERT",
    help: "PEM certificate chain for SSL and SASL_SSL listeners (reloaded when the file changes)",
  },
  "tls-key": { type: "string", env: "SKB_TLS_KEY", help: "PEM private key of --tls-cert" },
  "tls-client-ca": {
    type: "string",
    env: "SKB_TLS_CLIENT_CA",
    help:
      "PEM CA certificates: clients must present a certificate they issued (mutual TLS); its subject is the principal on SSL listeners",
  },
  "sasl-mechanisms": {
    type: "string",
    env: "SKB_SASL_MECHANISMS",
    help:
      "SASL mechanisms served on SASL listeners: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER",
    default: DEFAULT_SASL_MECHANISMS.join(","),
  },
  "sasl-users": {
    type: "string",
    env: "SKB_SASL_USERS",
    help:
      "Users created or updated at start, name:password,... (SCRAM credentials in the meta store; prefer the environment variable)",
  },
  "sasl-oauthbearer-jwks-url": {
    type: "string",
    env: "SKB_SASL_OAUTHBEARER_JWKS_URL",
    help: "JWKS (https:// URL, file: URL or path) OAUTHBEARER tokens are verified against",
  },
  "sasl-oauthbearer-expected-issuer": {
    type: "string",
    env: "SKB_SASL_OAUTHBEARER_EXPECTED_ISSUER",
    help: "The iss every OAUTHBEARER token must carry",
  },
  "sasl-oauthbearer-expected-audience": {
    type: "string",
    env: "SKB_SASL_OAUTHBEARER_EXPECTED_AUDIENCE",
    help: "Audiences, comma-separated: a token's aud must hold one",
  },
  "sasl-oauthbearer-sub-claim-name": {
    type: "string",
    env: "SKB_SASL_OAUTHBEARER_SUB_CLAIM_NAME",
    help: "The token claim that names the principal",
    default: "sub",
  },
  "connections-max-reauth-ms": {
    type: "string",
    env: "SKB_CONNECTIONS_MAX_REAUTH_MS",
    help:
      "SASL sessions last this long; clients re-authenticate on the same connection (KIP-368; 0: forever)",
    default: "0",
  },
  "authorizer": {
    type: "string",
    env: "SKB_AUTHORIZER",
    help: "none, or acl: every request is checked against the ACLs in the meta store",
    default: "none",
  },
  "super-users": {
    type: "string",
    env: "SKB_SUPER_USERS",
    help: "Principals allowed everything, semicolon-separated, e.g. User:admin;User:ops",
  },
  "allow-everyone-if-no-acl-found": {
    type: "string",
    env: "SKB_ALLOW_EVERYONE_IF_NO_ACL_FOUND",
    help: "With --authorizer acl: a resource no ACL matches is open to everyone (true/false)",
    default: "false",
  },
  "max-connections": {
    type: "string",
    env: "SKB_MAX_CONNECTIONS",
    help: "Connections open at once; more are closed as they arrive (max.connections; 0: no cap)",
    default: String(DEFAULT_BROKER_CONFIG.maxConnections),
  },
  "max-connections-per-ip": {
    type: "string",
    env: "SKB_MAX_CONNECTIONS_PER_IP",
    help: "Connections open at once from one address (max.connections.per.ip; 0: no cap)",
    default: String(DEFAULT_BROKER_CONFIG.maxConnectionsPerIp),
  },
  "connections-max-idle-ms": {
    type: "string",
    env: "SKB_CONNECTIONS_MAX_IDLE_MS",
    help:
      "A connection that completes no request for this long, with none in flight, is closed (connections.max.idle.ms)",
    default: String(DEFAULT_BROKER_CONFIG.connectionsMaxIdleMs),
  },
  "queued-max-request-bytes": {
    type: "string",
    env: "SKB_QUEUED_MAX_REQUEST_BYTES",
    help:
      "Bytes held for requests in flight and responses not yet written, broker-wide; at the bound, reading pauses (queued.max.request.bytes; 0: no bound)",
    default: String(DEFAULT_BROKER_CONFIG.queuedMaxRequestBytes),
  },
  "connection-queued-max-bytes": {
    type: "string",
    env: "SKB_CONNECTION_QUEUED_MAX_BYTES",
    help:
      "The same bound for one connection, so that a client that pipelines or never reads its responses stops being read (0: no bound)",
    default: String(DEFAULT_BROKER_CONFIG.connectionQueuedMaxBytes),
  },
  "request-timeout-ms": {
    type: "string",
    env: "SKB_REQUEST_TIMEOUT_MS",
    help:
      "A request unanswered this long beyond its own wait (max_wait_ms, rebalance or request timeout) closes its connection",
    default: String(DEFAULT_BROKER_CONFIG.requestTimeoutMs),
  },
  "help": { type: "boolean", env: "", help: "Show this help" },
  "version": { type: "boolean", env: "", help: "Show the version" },
};

/** A bad command line or setting: printed as one line, exit 2. */
class UsageError extends Error {}

function usage(): string {
  const lines = [
    "stateless-kafka-broker: a Kafka-compatible broker that keeps its state in two stores.",
    "",
    "Usage: deno run -A main.ts [flags]",
    "",
    "Flags (each also read from the environment variable shown):",
  ];
  for (const [name, f] of Object.entries(FLAGS)) {
    const arg = f.type === "string" ? ` <value>` : "";
    const env = f.env ? `  [${f.env}]` : "";
    const def = f.default !== undefined ? ` (default ${f.default})` : "";
    lines.push(`  --${name}${arg}`.padEnd(34) + ` ${f.help}${def}${env}`);
  }
  return lines.join("\n");
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(
      `--${name} ${JSON.stringify(value)} must be a whole number in ${min}..${max}`,
    );
  }
  return n;
}

/** SKB_TEST_TXN_PAUSE (test-only, tests/txn_shared_test.ts): where the coordinator stops. */
function testPause(value: string | undefined): "prepared" | "markers" | null {
  if (value === undefined || value === "") return null;
  if (value === "prepared" || value === "markers") return value;
  throw new UsageError(`SKB_TEST_TXN_PAUSE ${JSON.stringify(value)} must be prepared or markers`);
}

function bool(name: string, value: string): boolean {
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw new UsageError(`--${name} ${JSON.stringify(value)} must be true or false`);
}

function clusterShape(value: string): "load-balanced" | "addressable" {
  if (value === "load-balanced" || value === "addressable") return value;
  throw new UsageError(
    `--cluster-shape ${JSON.stringify(value)} must be load-balanced or addressable`,
  );
}

/**
 * The KIP-848 heartbeat interval and session timeout: positive int32s (the
 * interval goes on the wire as one), the interval below the session timeout,
 * as Kafka requires of group.consumer.heartbeat.interval.ms, or members would
 * expire between two heartbeats.
 */
function consumerGroupSettings(interval: string, session: string) {
  const groupConsumerHeartbeatIntervalMs = integer(
    "group-consumer-heartbeat-interval-ms",
    interval,
    1,
    2 ** 31 - 1,
  );
  const groupConsumerSessionTimeoutMs = integer(
    "group-consumer-session-timeout-ms",
    session,
    1,
    2 ** 31 - 1,
  );
  if (groupConsumerHeartbeatIntervalMs >= groupConsumerSessionTimeoutMs) {
    throw new UsageError(
      `--group-consumer-heartbeat-interval-ms ${groupConsumerHeartbeatIntervalMs} must be less than --group-consumer-session-timeout-ms ${groupConsumerSessionTimeoutMs}`,
    );
  }
  return { groupConsumerHeartbeatIntervalMs, groupConsumerSessionTimeoutMs };
}

/**
 * The security flags: listeners, TLS files, SASL and the authorizer. Checks
 * what can be checked without the files themselves (the server reads those).
 */
function securitySettings(str: (k: string) => string | undefined): SecurityConfig {
  const listeners = str("listeners") ? parseListeners("listeners", str("listeners")!) : [];
  const advertisedListeners = str("advertised-listeners")
    ? parseListeners("advertised-listeners", str("advertised-listeners")!)
    : [];
  for (const a of advertisedListeners) {
    if (listeners.length > 0 && !listeners.some((l) => l.name === a.name)) {
      throw new UsageError(
        `--advertised-listeners names ${a.name}, which --listeners does not have`,
      );
    }
  }
  const cert = str("tls-cert"), key = str("tls-key");
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together: pass both PEM files");
  }
  const tlsNeeded = listeners.some((l) => l.protocol === "SSL" || l.protocol === "SASL_SSL");
  if (tlsNeeded && cert === undefined) {
    throw new UsageError("SSL and SASL_SSL listeners need --tls-cert and --tls-key (PEM files)");
  }
  if (str("tls-client-ca") !== undefined && cert === undefined) {
    throw new UsageError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  const mechanisms = str("sasl-mechanisms")!.split(",").map((m) => m.trim().toUpperCase())
    .filter((m) => m !== "");
  for (const m of mechanisms) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(m)) {
      throw new UsageError(
        `--sasl-mechanisms ${JSON.stringify(m)} is not one of ${SASL_MECHANISMS.join(", ")}`,
      );
    }
  }
  if (mechanisms.includes("OAUTHBEARER") && !str("sasl-oauthbearer-jwks-url")) {
    throw new UsageError("OAUTHBEARER in --sasl-mechanisms needs --sasl-oauthbearer-jwks-url");
  }
  const saslUsers: { name: string; password: string }[] = [];
  for (const entry of (str("sasl-users") ?? "").split(",").filter((e) => e !== "")) {
    const at = entry.indexOf(":");
    const name = at > 0 ? entry.slice(0, at) : "";
    // Never echo the entry: it holds a password.
    if (name === "" || at === entry.length - 1) {
      throw new UsageError(
        `--sasl-users entry ${saslUsers.length + 1} must be name:password (neither empty)`,
      );
    }
    saslUsers.push({ name, password: entry.slice(at + 1) });
  }
  const authorizer = str("authorizer")!;
  if (authorizer !== "none" && authorizer !== "acl") {
    throw new UsageError(`--authorizer ${JSON.stringify(authorizer)} must be none or acl`);
  }
  const superUsers = (str("super-users") ?? "").split(";").map((u) => u.trim()).filter((u) =>
    u !== ""
  );
  for (const u of superUsers) {
    if (!/^[A-Za-z]+:.+$/.test(u)) {
      throw new UsageError(`--super-users ${JSON.stringify(u)} must look like User:name`);
    }
  }
  return {
    listeners,
    advertisedListeners,
    tls: cert === undefined
      ? null
      : { certFile: cert, keyFile: key!, clientCaFile: str("tls-client-ca") ?? null },
    saslMechanisms: mechanisms as SaslMechanism[],
    saslUsers,
    oauthbearer: {
      jwksUrl: str("sasl-oauthbearer-jwks-url") ?? null,
      expectedIssuer: str("sasl-oauthbearer-expected-issuer") ?? null,
      expectedAudience: (str("sasl-oauthbearer-expected-audience") ?? "").split(",")
        .map((a) => a.trim()).filter((a) => a !== ""),
      subClaim: str("sasl-oauthbearer-sub-claim-name")!,
    },
    connectionsMaxReauthMs: integer(
      "connections-max-reauth-ms",
      str("connections-max-reauth-ms")!,
      0,
      2 ** 31 - 1,
    ),
    authorizer,
    superUsers,
    allowEveryoneIfNoAclFound: bool(
      "allow-everyone-if-no-acl-found",
      str("allow-everyone-if-no-acl-found")!,
    ),
  };
}

/** Flags over environment over defaults. */
function settings(args: string[]): Record<string, string | boolean | undefined> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries(
        Object.entries(FLAGS).map(([k, f]) => [k, { type: f.type }]),
      ) as Record<string, { type: "string" | "boolean" }>,
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; see --help`);
  }
  const out: Record<string, string | boolean | undefined> = {};
  for (const [name, f] of Object.entries(FLAGS)) {
    const v = parsed.values[name];
    out[name] = v !== undefined ? v : (f.env && Deno.env.get(f.env)) || f.default;
  }
  return out;
}

/** Runs the command line; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  let s;
  try {
    s = settings(args);
  } catch (e) {
    console.error(`error: ${redactSecrets((e as Error).message)}`);
    return 2;
  }
  if (s.help) {
    console.log(usage());
    return 0;
  }
  if (s.version) {
    console.log(VERSION.describe());
    return 0;
  }
  const str = (k: string) => s[k] as string | undefined;
  let jsonLogs = false;
  /** Reports a failure to start: a plain line, or a JSON log line with --log-format json. */
  const fail = (message: string) => {
    const m = redactSecrets(message);
    if (jsonLogs) {
      getLogger(["skb", "main"]).error(m.replaceAll("{", "{{").replaceAll("}", "}}"));
    } else console.error(`error: ${m}`);
  };
  let options;
  try {
    const level = str("log-level")!;
    if (!["trace", "debug", "info", "warning", "error", "fatal"].includes(level)) {
      throw new UsageError(
        `--log-level ${JSON.stringify(level)} must be trace, debug, info, warning or error`,
      );
    }
    const format = str("log-format")!;
    if (format !== "text" && format !== "json") {
      throw new UsageError(`--log-format ${JSON.stringify(format)} must be text or json`);
    }
    await configureLogging(level as LogLevel, format);
    jsonLogs = format === "json";
    const dataDir = str("data-dir")!;
    const metaUrl = str("meta") ?? `sqlite:${join(dataDir, "meta.db")}`;
    const logUrl = str("log") ?? `file:${join(dataDir, "log")}`;
    if (!str("meta") || !str("log")) await Deno.mkdir(dataDir, { recursive: true });
    options = {
      host: str("host")!,
      port: integer("port", str("port")!, 0, 65535),
      advertisedHost: str("advertised-host") ?? null,
      advertisedPort: str("advertised-port")
        ? integer("advertised-port", str("advertised-port")!, 1, 65535)
        : null,
      nodeId: integer("node-id", str("node-id")!, 0, 2 ** 31 - 1),
      clusterId: str("cluster-id") ?? null,
      autoCreateTopics: bool("auto-create-topics", str("auto-create-topics")!),
      defaultPartitions: integer("default-partitions", str("default-partitions")!, 1, 10000),
      messageMaxBytes: integer("message-max-bytes", str("message-max-bytes")!, 1024, 2 ** 30),
      lingerMs: integer(
        "linger-ms",
        // 25 ms with S3: the produce p99 stays under 150 ms with 1-3 brokers
        // sharing one bucket (50 ms gave 120-210 ms), for about 1.4x the PUTs
        // at 5 MiB/s; bench/results/s3_latency.md.
        str("linger-ms") ?? (/^s3:/i.test(logUrl) ? "25" : "0"),
        0,
        60000,
      ),
      clusterShape: clusterShape(str("cluster-shape")!),
      rack: str("rack") ?? null,
      metaUrl,
      logUrl,
      groupInitialRebalanceDelayMs: integer(
        "group-initial-rebalance-delay-ms",
        str("group-initial-rebalance-delay-ms")!,
        0,
        3600000,
      ),
      ...consumerGroupSettings(
        str("group-consumer-heartbeat-interval-ms")!,
        str("group-consumer-session-timeout-ms")!,
      ),
      storeTimeoutMs: integer("store-timeout-ms", str("store-timeout-ms")!, 1, 3600000),
      maxIncrementalFetchSessionCacheSlots: integer(
        "max-incremental-fetch-session-cache-slots",
        str("max-incremental-fetch-session-cache-slots")!,
        0,
        1_000_000,
      ),
      shutdownTimeoutMs: integer("shutdown-timeout", str("shutdown-timeout")!, 0, 3600000),
      httpPort: str("http-port") ? integer("http-port", str("http-port")!, 0, 65535) : null,
      cleanerIntervalMs: integer("cleaner-interval-ms", str("cleaner-interval-ms")!, 0, 86_400_000),
      cleanerLeaseMs: integer("cleaner-lease-ms", str("cleaner-lease-ms")!, 100, 86_400_000),
      consolidateIntervalMs: integer(
        "consolidate-interval-ms",
        str("consolidate-interval-ms")!,
        0,
        86_400_000,
      ),
      txnTakeoverMs: integer("txn-takeover-ms", str("txn-takeover-ms")!, 100, 3_600_000),
      txnTestPause: testPause(Deno.env.get("SKB_TEST_TXN_PAUSE")),
      security: securitySettings(str),
      maxConnections: integer("max-connections", str("max-connections")!, 0, 1_000_000),
      maxConnectionsPerIp: integer(
        "max-connections-per-ip",
        str("max-connections-per-ip")!,
        0,
        1_000_000,
      ),
      connectionsMaxIdleMs: integer(
        "connections-max-idle-ms",
        str("connections-max-idle-ms")!,
        100,
        2 ** 31 - 1,
      ),
      queuedMaxRequestBytes: integer(
        "queued-max-request-bytes",
        str("queued-max-request-bytes")!,
        0,
        Number.MAX_SAFE_INTEGER,
      ),
      connectionQueuedMaxBytes: integer(
        "connection-queued-max-bytes",
        str("connection-queued-max-bytes")!,
        0,
        Number.MAX_SAFE_INTEGER,
      ),
      requestTimeoutMs: integer(
        "request-timeout-ms",
        str("request-timeout-ms")!,
        100,
        2 ** 31 - 1,
      ),
    };
  } catch (e) {
    fail((e as Error).message);
    return 2;
  }

  const log = getLogger(["skb", "main"]);
  let meta, logStore;
  try {
    meta = openMetaStore(options.metaUrl, { timeoutMs: options.storeTimeoutMs });
    logStore = openLogStore(options.logUrl, { timeoutMs: options.storeTimeoutMs });
  } catch (e) {
    fail((e as Error).message);
    return 2;
  }
  let broker;
  try {
    broker = await startBroker({ ...options, meta, log: logStore });
  } catch (e) {
    fail(
      `cannot start: ${(e as Error).message} (meta ${redactUrl(options.metaUrl)}, log ${
        redactUrl(options.logUrl)
      })`,
    );
    await meta.close().catch(() => {});
    await logStore.close().catch(() => {});
    return 1;
  }
  log.info("Meta store {meta}, log store {log}, cluster {cluster}, node {node}", {
    meta: redactUrl(options.metaUrl),
    log: redactUrl(options.logUrl),
    cluster: broker.clusterId,
    node: options.nodeId,
  });
  // Tests and scripts wait for these lines, whatever the log level; in JSON mode they are
  // JSON lines shaped like LogTape's.
  const announce = (line: string) =>
    console.log(
      jsonLogs
        ? JSON.stringify({
          "@timestamp": new Date().toISOString(),
          level: "INFO",
          message: line,
          logger: "skb.main",
          properties: {},
        })
        : line,
    );
  announce(`listening on ${broker.hostname}:${broker.port}`);
  for (const l of broker.listeners) announce(`listener ${l.name} on ${l.hostname}:${l.port}`);
  if (broker.httpPort !== null) {
    announce(`http on ${broker.hostname}:${broker.httpPort} (/metrics /healthz /readyz)`);
  }

  const stopped = new Promise<string>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(sig, () => resolve(sig));
      } catch { /* SIGTERM is not available on Windows */ }
    }
  });
  const sig = await stopped;
  log.info("{signal}: finishing in-flight requests, then exiting", { signal: sig });
  await broker.close(options.shutdownTimeoutMs);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
