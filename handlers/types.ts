/** What a handler is, and what it is given. */

import type { Reader } from "../protocol/reader.ts";
import type { Writer } from "../protocol/writer.ts";
import type { RequestHeader } from "../protocol/header.ts";
import type { BrokerConfig } from "../broker/config.ts";
import type { LogStore, MetaStore } from "../stores/types.ts";
import type { ProducePipeline } from "../broker/produce_pipeline.ts";
import type { Notifier } from "../broker/notifier.ts";
import type { TopicCache } from "../broker/topic_cache.ts";
import type { BlobCache } from "../broker/blob_cache.ts";
import type { Metrics } from "../broker/metrics.ts";
import type { BrokerRegistry } from "../broker/registry.ts";
import type { GroupCoordinator } from "../broker/group_coordinator.ts";

/** A generated codec for one API (see protocol/generated/). */
export interface ApiCodec<Req, Resp> {
  readonly name: string;
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly requestFlexibleFrom: number;
  readonly responseFlexibleFrom: number;
  decodeRequest(r: Reader, version: number): Req;
  encodeRequest(w: Writer, m: Req, version: number): void;
  decodeResponse(r: Reader, version: number): Resp;
  encodeResponse(w: Writer, m: Resp, version: number): void;
}

/** State shared by every connection of one broker process (none of it durable). */
export interface BrokerContext {
  config: BrokerConfig;
  clusterId: string;
  meta: MetaStore;
  log: LogStore;
  pipeline: ProducePipeline;
  notifier: Notifier;
  topics: TopicCache;
  blobs: BlobCache;
  metrics: Metrics;
  /** The lease registry in the addressable cluster shape; null when load-balanced. */
  registry: BrokerRegistry | null;
  /** The coordinator of every consumer group (its state lives in the meta store). */
  groups: GroupCoordinator;
  /** Every handler, by API key (ApiVersions answers from it). */
  handlers: Map<number, Handler>;
  /** Aborted when the broker starts shutting down (ends long polls early). */
  closing: AbortSignal;
  /** Open connections' drain functions: each stops reading, answers what it read, and closes. */
  connections: Set<() => Promise<void>>;
}

/** Per-connection facts a handler may need. */
export interface ConnectionInfo {
  /** The address the client reached us on: the default advertised address. */
  localHost: string;
  localPort: number;
  remote: string;
  /**
   * Produce requests on one connection reach the flush buffer in arrival order
   * even when their topic lookups take different times: each waits for this.
   */
  produceOrder: Promise<void>;
}

/** Everything a handler is given besides the request. */
export interface RequestContext {
  broker: BrokerContext;
  header: RequestHeader;
  apiVersion: number;
  connection: ConnectionInfo;
}

/** A handler: the API it serves, the versions, and the function. */
export interface Handler<Req = unknown, Resp = unknown> {
  api: ApiCodec<Req, Resp>;
  minVersion: number;
  maxVersion: number;
  /** Returns the response, or null when none is sent (Produce with acks=0). */
  handle(request: Req, ctx: RequestContext): Promise<Resp | null>;
}

/** Declares a handler with its types inferred from the codec. */
export function defineHandler<Req, Resp>(h: Handler<Req, Resp>): Handler {
  return h as unknown as Handler;
}
