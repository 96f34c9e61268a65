/**
 * Whole Kafka frames (header + body, without the 4-byte size prefix) through our
 * generated codec: split a frame into its header and body, decode the body, and
 * encode both again. Shared by the capture proxy (tools/capture_proxy.ts), the
 * fixture selector (tools/select_golden.ts) and the golden codec test
 * (tests/golden_test.ts).
 *
 * Request headers are v1 (classic) or v2 (flexible: tagged fields after the
 * client id); response headers are v0 or v1, and ApiVersions responses always
 * use v0 (KIP-511). Header tagged fields are kept as raw bytes and written back
 * verbatim: no header tag is defined for the APIs we serve.
 */

import { CODECS } from "../protocol/generated/mod.ts";
import { Reader, toHex } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import {
  API_VERSIONS_KEY,
  requestHeaderFlexible as requestFlexible,
  responseHeaderFlexible as responseFlexible,
} from "../protocol/frame.ts";

/** The codec of one API, as the generated files export it. */
export interface FrameCodec {
  readonly name: string;
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly requestFlexibleFrom: number;
  readonly responseFlexibleFrom: number;
  decodeRequest(r: Reader, version: number): unknown;
  encodeRequest(w: Writer, m: never, version: number): void;
  decodeResponse(r: Reader, version: number): unknown;
  encodeResponse(w: Writer, m: never, version: number): void;
}

const BY_KEY = new Map<number, FrameCodec>(
  (CODECS as readonly unknown[]).map((c) => [(c as FrameCodec).apiKey, c as FrameCodec]),
);

export { API_VERSIONS_KEY };

/** Our codec for an API key, if we have one. */
export function codecFor(apiKey: number): FrameCodec | undefined {
  return BY_KEY.get(apiKey);
}

/** Kafka's names for the API keys real clients send, including ones our codec lacks. */
const KAFKA_API_NAMES: Record<number, string> = {
  0: "Produce",
  1: "Fetch",
  2: "ListOffsets",
  3: "Metadata",
  8: "OffsetCommit",
  9: "OffsetFetch",
  10: "FindCoordinator",
  11: "JoinGroup",
  12: "Heartbeat",
  13: "LeaveGroup",
  14: "SyncGroup",
  15: "DescribeGroups",
  16: "ListGroups",
  17: "SaslHandshake",
  18: "ApiVersions",
  19: "CreateTopics",
  20: "DeleteTopics",
  21: "DeleteRecords",
  22: "InitProducerId",
  23: "OffsetForLeaderEpoch",
  24: "AddPartitionsToTxn",
  25: "AddOffsetsToTxn",
  26: "EndTxn",
  27: "WriteTxnMarkers",
  28: "TxnOffsetCommit",
  29: "DescribeAcls",
  30: "CreateAcls",
  31: "DeleteAcls",
  32: "DescribeConfigs",
  33: "AlterConfigs",
  34: "AlterReplicaLogDirs",
  35: "DescribeLogDirs",
  36: "SaslAuthenticate",
  37: "CreatePartitions",
  38: "CreateDelegationToken",
  39: "RenewDelegationToken",
  40: "ExpireDelegationToken",
  41: "DescribeDelegationToken",
  42: "DeleteGroups",
  43: "ElectLeaders",
  44: "IncrementalAlterConfigs",
  45: "AlterPartitionReassignments",
  46: "ListPartitionReassignments",
  47: "OffsetDelete",
  48: "DescribeClientQuotas",
  49: "AlterClientQuotas",
  50: "DescribeUserScramCredentials",
  51: "AlterUserScramCredentials",
  57: "UpdateFeatures",
  60: "DescribeCluster",
  61: "DescribeProducers",
  64: "UnregisterBroker",
  65: "DescribeTransactions",
  66: "ListTransactions",
  68: "ConsumerGroupHeartbeat",
  69: "ConsumerGroupDescribe",
  71: "GetTelemetrySubscriptions",
  72: "PushTelemetry",
  74: "ListConfigResources",
  75: "DescribeTopicPartitions",
  76: "ShareGroupHeartbeat",
  77: "ShareGroupDescribe",
  78: "ShareFetch",
  79: "ShareAcknowledge",
  80: "AddRaftVoter",
  81: "RemoveRaftVoter",
  83: "InitializeShareGroupState",
  84: "ReadShareGroupState",
  85: "WriteShareGroupState",
  86: "DeleteShareGroupState",
  87: "ReadShareGroupStateSummary",
  88: "StreamsGroupHeartbeat",
  89: "StreamsGroupDescribe",
  90: "DescribeShareGroupOffsets",
  91: "AlterShareGroupOffsets",
  92: "DeleteShareGroupOffsets",
};

/** The API's name: ours when we have a codec, else Kafka's, else "Api<key>". */
export function apiName(apiKey: number): string {
  return codecFor(apiKey)?.name ?? KAFKA_API_NAMES[apiKey] ?? `Api${apiKey}`;
}

/** "DescribeConfigs" -> "describe_configs" (fixture file names). */
export function snakeName(apiKey: number): string {
  return apiName(apiKey).replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** True when requests of this version use header v2 (known only for APIs we have a codec for). */
export function requestHeaderFlexible(apiKey: number, version: number): boolean | undefined {
  const c = codecFor(apiKey);
  return c ? requestFlexible(c, version) : undefined;
}

/** True when responses of this version use header v1 (never for ApiVersions). */
export function responseHeaderFlexible(apiKey: number, version: number): boolean | undefined {
  const c = codecFor(apiKey);
  return c ? responseFlexible(c, version) : undefined;
}

/** The fixed start of every request header; readable for any API. */
export interface RequestHeaderPrefix {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Reads api key, version, correlation id and client id (header v1 and v2 share them). */
export function peekRequestHeader(frame: Uint8Array): RequestHeaderPrefix {
  const r = new Reader(frame);
  return {
    apiKey: r.int16(),
    apiVersion: r.int16(),
    correlationId: r.int32(),
    clientId: r.nullableString(),
  };
}

/** Reads the correlation id a response frame starts with. */
export function peekCorrelationId(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getInt32(0);
}

/** Skips one KIP-482 tagged-field section and returns its raw bytes. */
function rawTaggedFields(r: Reader): Uint8Array {
  const start = r.pos;
  r.skipTaggedFields();
  return r.buf.subarray(start, r.pos);
}

/** A request frame decoded by our codec. */
export interface DecodedRequest {
  header: RequestHeaderPrefix;
  /** Header v2's tagged-field section, raw (empty for header v1). */
  headerTags: Uint8Array;
  headerVersion: 1 | 2;
  /** Where the body starts in the frame. */
  bodyStart: number;
  body: unknown;
  /** Bytes the decoder consumed (header + body). */
  consumed: number;
}

/** Decodes a whole request frame; throws when we have no codec for it or it does not parse. */
export function decodeRequestFrame(frame: Uint8Array): DecodedRequest {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString();
  const codec = codecFor(apiKey);
  if (!codec) throw new Error(`No codec for API key ${apiKey}`);
  if (apiVersion < codec.minVersion || apiVersion > codec.maxVersion) {
    throw new Error(
      `${codec.name} v${apiVersion} is outside our codec's ${codec.minVersion}-${codec.maxVersion}`,
    );
  }
  const flexible = requestHeaderFlexible(apiKey, apiVersion)!;
  const headerTags = flexible ? rawTaggedFields(r) : new Uint8Array(0);
  const bodyStart = r.pos;
  const body = codec.decodeRequest(r, apiVersion);
  return {
    header: { apiKey, apiVersion, correlationId, clientId },
    headerTags,
    headerVersion: flexible ? 2 : 1,
    bodyStart,
    body,
    consumed: r.pos,
  };
}

/** Encodes a request frame (no size prefix) from a decoded one. */
export function encodeRequestFrame(d: DecodedRequest, body: unknown = d.body): Uint8Array {
  const codec = codecFor(d.header.apiKey)!;
  const w = new Writer(256);
  w.int16(d.header.apiKey);
  w.int16(d.header.apiVersion);
  w.int32(d.header.correlationId);
  w.nullableString(d.header.clientId);
  if (d.headerVersion === 2) w.raw(d.headerTags);
  codec.encodeRequest(w, body as never, d.header.apiVersion);
  return w.bytes().slice();
}

/** A response frame decoded by our codec. */
export interface DecodedResponse {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  headerTags: Uint8Array;
  headerVersion: 0 | 1;
  bodyStart: number;
  body: unknown;
  consumed: number;
}

/** Decodes a whole response frame of the given API and version (responses do not carry them). */
export function decodeResponseFrame(
  frame: Uint8Array,
  apiKey: number,
  apiVersion: number,
): DecodedResponse {
  const codec = codecFor(apiKey);
  if (!codec) throw new Error(`No codec for API key ${apiKey}`);
  const r = new Reader(frame);
  const correlationId = r.int32();
  const flexible = responseHeaderFlexible(apiKey, apiVersion)!;
  const headerTags = flexible ? rawTaggedFields(r) : new Uint8Array(0);
  const bodyStart = r.pos;
  const body = codec.decodeResponse(r, apiVersion);
  return {
    apiKey,
    apiVersion,
    correlationId,
    headerTags,
    headerVersion: flexible ? 1 : 0,
    bodyStart,
    body,
    consumed: r.pos,
  };
}

/** Encodes a response frame (no size prefix) from a decoded one. */
export function encodeResponseFrame(d: DecodedResponse, body: unknown = d.body): Uint8Array {
  const codec = codecFor(d.apiKey)!;
  const w = new Writer(256);
  w.int32(d.correlationId);
  if (d.headerVersion === 1) w.raw(d.headerTags);
  codec.encodeResponse(w, body as never, d.apiVersion);
  return w.bytes().slice();
}

/** The outcome of decoding a frame and encoding it again. */
export interface RoundTrip {
  /** Decoding worked, consumed every byte, and the encoding is byte-identical. */
  ok: boolean;
  /** Why not, in one line (decode error, trailing bytes or first differing byte). */
  problem: string | null;
  consumed: number;
  reencoded: Uint8Array | null;
}

/** Where two byte strings first differ, with a little context in hex. */
export function describeDiff(want: Uint8Array, got: Uint8Array): string | null {
  const n = Math.min(want.length, got.length);
  let i = 0;
  while (i < n && want[i] === got[i]) i++;
  if (i === n && want.length === got.length) return null;
  const from = Math.max(0, i - 8);
  return `first difference at byte ${i} of ${want.length} (re-encoded: ${got.length} bytes); ` +
    `original ${toHex(want.subarray(from, i + 16))}, re-encoded ${
      toHex(got.subarray(from, i + 16))
    } (from byte ${from})`;
}

/** Decodes and re-encodes a request or response frame, reporting any difference. */
export function roundTrip(
  kind: "request" | "response",
  frame: Uint8Array,
  apiKey: number,
  apiVersion: number,
): RoundTrip {
  let consumed = 0;
  let reencoded: Uint8Array;
  try {
    if (kind === "request") {
      const d = decodeRequestFrame(frame);
      consumed = d.consumed;
      reencoded = encodeRequestFrame(d);
    } else {
      const d = decodeResponseFrame(frame, apiKey, apiVersion);
      consumed = d.consumed;
      reencoded = encodeResponseFrame(d);
    }
  } catch (e) {
    return {
      ok: false,
      problem: `decode failed: ${(e as Error).message}`,
      consumed,
      reencoded: null,
    };
  }
  if (consumed !== frame.length) {
    return {
      ok: false,
      problem: `decoding consumed ${consumed} of ${frame.length} bytes`,
      consumed,
      reencoded,
    };
  }
  const diff = describeDiff(frame, reencoded);
  return { ok: diff === null, problem: diff, consumed, reencoded };
}
