/**
 * GetTelemetrySubscriptions (key 71) and PushTelemetry (key 72), version 0
 * (KIP-714 client metrics). No client-metrics subscription can be configured
 * here, so every client gets what Kafka 4.4 gives when none matches: no
 * requested metrics (clients push nothing), a push interval of 300000 ms,
 * telemetry.max.bytes' default of 1048576, delta temporality, the
 * compressions zstd, lz4, gzip and snappy, and Kafka's subscription id (the
 * CRC-32C of the empty metric set and the interval, XOR the instance id's
 * hash), so the ids match Kafka's. A client sending the zero UUID is given a
 * new random one. Pushes are checked as Kafka checks them and then dropped.
 *
 * As in Kafka, each broker remembers the client instances it has seen, in
 * memory only (a soft cache, bounded and forgotten after three idle push
 * intervals): asking again before the push interval is up answers
 * THROTTLING_QUOTA_EXCEEDED, and a client that pushed with terminating set
 * is refused with INVALID_REQUEST after that. A client moved to another
 * broker starts afresh there, as it does between Kafka brokers.
 */

import {
  GET_TELEMETRY_SUBSCRIPTIONS_API,
  type GetTelemetrySubscriptionsResponse,
  PUSH_TELEMETRY_API,
  type PushTelemetryResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { crc32c } from "../protocol/crc32c.ts";
import { uuidFromString, uuidToString, ZERO_UUID } from "../protocol/reader.ts";
import type { BrokerContext } from "../broker/context.ts";
import { defineHandler } from "./types.ts";

/** Kafka's interval when no subscription sets one. */
export const PUSH_INTERVAL_MS = 300_000;
/** The default of Kafka's telemetry.max.bytes. */
export const TELEMETRY_MAX_BYTES = 1_048_576;
/** zstd, lz4, gzip, snappy: Kafka's order of preference. */
export const ACCEPTED_COMPRESSION_TYPES = [4, 3, 1, 2];
/** The record-batch compression ids Kafka knows (none, gzip, snappy, lz4, zstd). */
const KNOWN_COMPRESSION = new Set([0, 1, 2, 3, 4]);
/** Kafka's reserved ids, refused in a push: the zero UUID and the metadata topic's id. */
const RESERVED = new Set([ZERO_UUID, "AAAAAAAAAAAAAAAAAAAAAQ"]);
/** As many client instances as Kafka's cache holds. */
const CACHE_MAX = 16_384;

/** What a broker remembers of one client instance, as Kafka's ClientMetricsInstance. */
interface Instance {
  lastGet: number;
  lastPush: number;
  lastError: number;
  terminating: boolean;
  lastSeen: number;
}

const caches = new WeakMap<BrokerContext, Map<string, Instance>>();

/** The instance for `id` on this broker, made when new; it moves to the back (most recent). */
function instance(broker: BrokerContext, id: string, now: number): Instance {
  let cache = caches.get(broker);
  if (!cache) caches.set(broker, cache = new Map());
  let inst = cache.get(id);
  if (inst && now - inst.lastSeen > 3 * PUSH_INTERVAL_MS) inst = undefined;
  cache.delete(id);
  inst ??= {
    lastGet: 0,
    lastPush: 0,
    lastError: ErrorCode.NONE,
    terminating: false,
    lastSeen: now,
  };
  inst.lastSeen = now;
  cache.set(id, inst);
  for (const [old, i] of cache) {
    if (cache.size <= CACHE_MAX && now - i.lastSeen <= 3 * PUSH_INTERVAL_MS) break;
    cache.delete(old);
  }
  return inst;
}

/** Kafka's Uuid.hashCode: the two 64-bit halves XORed, then its two 32-bit halves. */
function uuidHash(id: string): number {
  const v = new DataView(uuidFromString(id).buffer);
  return v.getInt32(0) ^ v.getInt32(4) ^ v.getInt32(8) ^ v.getInt32(12);
}

/** Kafka's subscription id for no metrics at the default interval. */
export function subscriptionId(clientInstanceId: string): number {
  const crc = crc32c(new TextEncoder().encode(`[]${PUSH_INTERVAL_MS}`));
  return (crc ^ uuidHash(clientInstanceId)) | 0;
}

/** A random version-4 UUID, never one whose text starts with "-", as Kafka's Uuid.randomUuid. */
function newInstanceId(): string {
  for (;;) {
    const hex = crypto.randomUUID().replaceAll("-", "");
    const bytes = Uint8Array.from(
      { length: 16 },
      (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16),
    );
    const id = uuidToString(bytes);
    if (!id.startsWith("-") && !RESERVED.has(id)) return id;
  }
}

export const getTelemetrySubscriptions = defineHandler({
  api: GET_TELEMETRY_SUBSCRIPTIONS_API,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx): Promise<GetTelemetrySubscriptionsResponse> {
    const now = Date.now();
    const id = req.clientInstanceId === ZERO_UUID ? newInstanceId() : req.clientInstanceId;
    const inst = instance(ctx.broker, id, now);
    // A client may ask again at once after its push was refused for these two.
    const early = now - Math.max(inst.lastGet, inst.lastPush) < PUSH_INTERVAL_MS;
    if (
      early && inst.lastError !== ErrorCode.UNKNOWN_SUBSCRIPTION_ID &&
      inst.lastError !== ErrorCode.UNSUPPORTED_COMPRESSION_TYPE
    ) {
      return Promise.resolve({
        throttleTimeMs: 0,
        errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED,
        clientInstanceId: ZERO_UUID,
        subscriptionId: 0,
        acceptedCompressionTypes: [],
        pushIntervalMs: 0,
        telemetryMaxBytes: 0,
        deltaTemporality: false,
        requestedMetrics: [],
      });
    }
    if (!early) inst.lastGet = now;
    inst.lastError = ErrorCode.NONE;
    return Promise.resolve({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      clientInstanceId: id,
      subscriptionId: subscriptionId(id),
      acceptedCompressionTypes: ACCEPTED_COMPRESSION_TYPES,
      pushIntervalMs: PUSH_INTERVAL_MS,
      telemetryMaxBytes: TELEMETRY_MAX_BYTES,
      deltaTemporality: true,
      requestedMetrics: [],
    });
  },
});

export const pushTelemetry = defineHandler({
  api: PUSH_TELEMETRY_API,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx): Promise<PushTelemetryResponse> {
    const answer = (errorCode: number) => Promise.resolve({ throttleTimeMs: 0, errorCode });
    if (RESERVED.has(req.clientInstanceId)) return answer(ErrorCode.INVALID_REQUEST);
    const now = Date.now();
    const inst = instance(ctx.broker, req.clientInstanceId, now);
    let errorCode: number = ErrorCode.NONE;
    if (inst.terminating) {
      errorCode = ErrorCode.INVALID_REQUEST;
    } else {
      // The first push after a fetch is taken early: clients jitter the interval.
      const accepted = inst.lastGet > inst.lastPush || now - inst.lastPush >= PUSH_INTERVAL_MS;
      if (accepted) inst.lastPush = now;
      if (!accepted && !req.terminating) errorCode = ErrorCode.THROTTLING_QUOTA_EXCEEDED;
      else if (req.subscriptionId !== subscriptionId(req.clientInstanceId)) {
        errorCode = ErrorCode.UNKNOWN_SUBSCRIPTION_ID;
      } else if (!KNOWN_COMPRESSION.has(req.compressionType)) {
        errorCode = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
      } else if (req.metrics.length > TELEMETRY_MAX_BYTES) {
        errorCode = ErrorCode.TELEMETRY_TOO_LARGE;
      }
    }
    // Kafka takes the flag from every push it checks, refused or not.
    inst.terminating = req.terminating;
    inst.lastError = errorCode;
    return answer(errorCode);
  },
});
