/**
 * The broker's services, shared by every connection of one process: the two
 * stores (each behind one {@link guardStore}), the produce pipeline, the
 * partition-log service, the group and transaction coordinators and the caches. None of it is
 * durable; everything durable is in the stores, so a process can be killed and
 * replaced at any time.
 */

import type { LogStore, MetaStore } from "../stores/types.ts";
import { newClusterId } from "../stores/ids.ts";
import type { BrokerConfig } from "./config.ts";
import { Waiter } from "./waiter.ts";
import { ProducePipeline } from "./produce_pipeline.ts";
import { TopicCache } from "./topic_cache.ts";
import { BlobCache } from "./blob_cache.ts";
import { Metrics } from "./metrics.ts";
import { guardStore } from "./store_guard.ts";
import type { BrokerRegistry } from "./registry.ts";
import { GroupCoordinator } from "./group_coordinator.ts";
import { PartitionLog } from "./partition_log.ts";
import { DynamicConfigs } from "./dynamic_config.ts";
import { DEFAULT_TXN_CONFIG, TxnCoordinator } from "./txn_coordinator.ts";
import type { Authorizer } from "./authorizer.ts";
import { createAuthorizer } from "./acl_authorizer.ts";
import { ensureSaslUsers } from "./sasl/users.ts";

/** State shared by every connection of one broker process (none of it durable). */
export interface BrokerContext {
  config: BrokerConfig;
  clusterId: string;
  /** The meta store, guarded: every call timed, deadlined, failures as StoreUnavailable. */
  meta: MetaStore;
  /** The log store, guarded likewise. */
  log: LogStore;
  pipeline: ProducePipeline;
  /** Wakes fetch long polls when this broker commits to a partition. */
  waiter: Waiter;
  topics: TopicCache;
  blobs: BlobCache;
  /** Topic lookup, partition checks, produce results and fetch reads (see partition_log.ts). */
  partitions: PartitionLog;
  metrics: Metrics;
  /** The lease registry in the addressable cluster shape; null when load-balanced. */
  registry: BrokerRegistry | null;
  /** The coordinator of every consumer group (its state lives in the meta store). */
  groups: GroupCoordinator;
  /** The coordinator of every transactional id (its state lives in the meta store). */
  transactions: TxnCoordinator;
  /**
   * Dynamic broker and group configs (KIP-226), kept in the meta store and
   * refreshed every second; their values are written into `config`.
   */
  dynamicConfigs: DynamicConfigs;
  /** Who may do what (KIP-11); allows everything unless --authorizer acl. */
  authorizer: Authorizer;
  /** Aborted when the broker starts shutting down (ends long polls early). */
  closing: AbortSignal;
}

/** What {@link createBrokerContext} needs besides the configuration. */
export interface ContextOptions {
  meta: MetaStore;
  log: LogStore;
  /** Bytes of recent log data kept in memory for tail readers. */
  blobCacheBytes: number;
  closing: AbortSignal;
}

/**
 * Guards the stores, pings them, settles the cluster id, and builds the
 * services. The registry (addressable shape) is set by the server once it
 * knows the port it listens on.
 */
export async function createBrokerContext(
  config: BrokerConfig,
  opts: ContextOptions,
): Promise<BrokerContext> {
  const metrics = new Metrics();
  const guard = { metrics, timeoutMs: config.storeTimeoutMs };
  const meta = guardStore(opts.meta, { ...guard, name: "meta" });
  const log = guardStore(opts.log, { ...guard, name: "log" });
  await meta.ping();
  await log.ping();
  const clusterId = await meta.clusterId(config.clusterId ?? newClusterId());
  await ensureSaslUsers(meta, config.security.saslUsers);
  const waiter = new Waiter(opts.closing);
  const pipeline = new ProducePipeline(meta, log, waiter, {
    lingerMs: config.lingerMs,
    flushBytes: config.flushBytes,
  });
  pipeline.onFlush = (bytes, batches, ms, failed) => metrics.flush(bytes, batches, ms, failed);
  pipeline.onStages = (why, requests) =>
    metrics.flushStages(
      why,
      requests.map((r) => ({
        linger: r.linger,
        slot: r.slot,
        write: r.write,
        commit_wait: r.commitWait,
        commit: r.commit,
        total: r.total,
      })),
    );
  const topics = new TopicCache(meta);
  const dynamicConfigs = new DynamicConfigs(meta, config);
  dynamicConfigs.start(opts.closing);
  const blobs = new BlobCache(log, opts.blobCacheBytes);
  const groups = new GroupCoordinator(meta, dynamicConfigs.coordinator, opts.closing);
  metrics.gauges.set("skb_blob_cache_bytes", () => blobs.size);
  metrics.gaugeHelp.set("skb_blob_cache_bytes", "Bytes of recent log data cached in memory.");
  const s3Reads = (opts.log as { readStats?: Record<string, number> }).readStats;
  if (s3Reads) {
    metrics.gauges.set("skb_s3_reads", () => ({
      'kind="gets"': s3Reads.gets,
      'kind="get_bytes"': s3Reads.getBytes,
      'kind="shared"': s3Reads.shared,
    }));
    metrics.gaugeHelp.set(
      "skb_s3_reads",
      "S3 log store reads since start: ranged GETs sent, bytes they returned, reads served by another read's GET or a cached block.",
    );
  }
  return {
    config,
    clusterId,
    meta,
    log,
    pipeline,
    waiter,
    topics,
    blobs,
    partitions: new PartitionLog({
      meta,
      topics,
      blobs,
      waiter,
      pipeline,
      metrics,
      config,
      closing: opts.closing,
    }),
    metrics,
    registry: null,
    groups,
    transactions: new TxnCoordinator(meta, pipeline, groups, { ...DEFAULT_TXN_CONFIG }),
    dynamicConfigs,
    authorizer: createAuthorizer(meta, config.security, opts.closing),
    closing: opts.closing,
  };
}
