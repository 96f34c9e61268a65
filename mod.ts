/**
 * @module
 * stateless-kafka-broker: a Kafka-compatible broker whose processes keep no
 * state of their own. Embed it by opening two stores and starting a broker:
 *
 * ```ts
 * import { openLogStore, openMetaStore, startBroker } from "./mod.ts";
 * const broker = await startBroker({
 *   meta: openMetaStore("memory:"),
 *   log: openLogStore("memory:"),
 *   host: "127.0.0.1",
 *   port: 0,
 * });
 * console.log(`listening on ${broker.hostname}:${broker.port}`);
 * await broker.close();
 * ```
 */

export { type Broker, type BrokerOptions, startBroker } from "./server/broker.ts";
export { type BrokerConfig, DEFAULT_BROKER_CONFIG } from "./broker/config.ts";
export { openLogStore, openMetaStore, redactUrl, StoreUrlError } from "./stores/registry.ts";
export type * from "./stores/types.ts";
export { MemoryMetaStore } from "./stores/meta/memory.ts";
export { SqliteMetaStore } from "./stores/meta/sqlite.ts";
export { FileMetaStore } from "./stores/meta/file.ts";
export { MemoryLogStore } from "./stores/log/memory.ts";
export { FileLogStore } from "./stores/log/file.ts";
export { RedisMetaStore } from "./stores/meta/redis.ts";
export { UpstashMetaStore } from "./stores/meta/upstash.ts";
export { S3LogStore } from "./stores/log/s3.ts";
export { ErrorCode } from "./protocol/errors.ts";
