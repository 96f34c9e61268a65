/**
 * Whole v2 record batches (KIP-98) decoded into their header and records, and
 * encoded back, with any compression codec. The produce and fetch paths never
 * need this (they keep batches as producers sent them); the log cleaner of
 * compacted topics does (it keeps the latest record per key and rewrites the
 * batch), and so does produce's check that every record of a compacted topic has
 * a key (INVALID_RECORD), which {@link firstKeylessRecord} answers quickly.
 *
 * Record layout (inside the possibly compressed payload): length varint |
 * attributes int8 (unused) | timestampDelta varlong | offsetDelta varint |
 * key varint-length bytes (-1 null) | value varint-length bytes (-1 null) |
 * header count varint | per header: key varint-length UTF-8, value varint-length
 * bytes (-1 null).
 */

import { compress, compressionOf, decompress, DEFAULT_MAX_DECOMPRESSED } from "./compression.ts";
import type { CompressOptions } from "./compression.ts";
import { crc32c } from "./crc32c.ts";
import { BATCH_HEADER_SIZE } from "./record_batch.ts";
import type { SimpleRecord } from "./record_batch.ts";
import { DecodeError, Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/** Offset of the attributes field, where the CRC's coverage begins. */
const CRC_START = 21;
const TWO_32 = 4294967296;

/** Attribute bits of a v2 batch besides the codec (bits 0-2). */
export const BatchAttributes = {
  /** Bit 3: timestamps are the broker's append time (LogAppendTime), not the producer's. */
  LOG_APPEND_TIME: 0x08,
  /** Bit 4: the batch belongs to a transaction (KIP-98). */
  TRANSACTIONAL: 0x10,
  /** Bit 5: a control batch (transaction markers). */
  CONTROL: 0x20,
  /** Bit 6: baseTimestamp holds the delete horizon of a cleaned batch (KIP-534). */
  DELETE_HORIZON: 0x40,
} as const;

/** The header fields of a v2 batch that {@link encodeBatch} writes as given. */
export interface BatchHeaderFields {
  baseOffset: number;
  partitionLeaderEpoch: number;
  /** All attribute bits; encodeBatch replaces bits 0-2 when it is given a codec. */
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** Every header field of a decoded v2 batch, with the attribute bits spelled out. */
export interface BatchHeader extends BatchHeaderFields {
  /** Bytes after the length field (the whole batch is batchLength + 12 bytes). */
  batchLength: number;
  magic: number;
  crc: number;
  /** Attributes bits 0-2: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  compression: number;
  /** Attributes bit 3: 0 CreateTime, 1 LogAppendTime. */
  timestampType: 0 | 1;
  isTransactional: boolean;
  isControl: boolean;
  /** Attributes bit 6 (KIP-534): baseTimestamp is the delete horizon. */
  hasDeleteHorizon: boolean;
  recordCount: number;
}

/**
 * One record of a batch. Key, value and header values are views into the batch (or
 * into its decompressed payload), not copies.
 */
export interface BatchRecord extends SimpleRecord {
  /** The record's attributes byte (unused by Kafka so far; kept for re-encoding). */
  attributes?: number;
  timestampDelta: number;
  offsetDelta: number;
}

/** A decoded batch. */
export interface DecodedBatch {
  header: BatchHeader;
  records: BatchRecord[];
}

/** Options for {@link decodeBatch}. */
export interface DecodeBatchOptions {
  /** Check the CRC-32C (default true). */
  verifyCrc?: boolean;
  /** Largest decompressed payload accepted (default 256 MiB). */
  maxDecompressedBytes?: number;
}

function int64At(v: DataView, p: number): number {
  return v.getInt32(p) * TWO_32 + v.getUint32(p + 4);
}

/**
 * Reads the 61-byte header of the batch at the start of `bytes` (which may hold more
 * after it). Throws {@link DecodeError} when it is not a whole magic-2 batch.
 */
export function decodeBatchHeader(bytes: Uint8Array): BatchHeader {
  if (bytes.length < BATCH_HEADER_SIZE) {
    throw new DecodeError(`Record batch of ${bytes.length} bytes is shorter than its header`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batchLength = v.getInt32(8);
  const magic = v.getInt8(16);
  if (magic !== 2) {
    throw new DecodeError(`Record batch magic ${magic} is not supported; only magic 2 is`);
  }
  if (batchLength < BATCH_HEADER_SIZE - 12 || batchLength + 12 > bytes.length) {
    throw new DecodeError(
      `Record batch length ${batchLength} does not fit the ${bytes.length} bytes given`,
    );
  }
  const attributes = v.getInt16(21);
  return {
    baseOffset: int64At(v, 0),
    batchLength,
    partitionLeaderEpoch: v.getInt32(12),
    magic,
    crc: v.getUint32(17),
    attributes,
    compression: compressionOf(attributes),
    timestampType: (attributes & BatchAttributes.LOG_APPEND_TIME) ? 1 : 0,
    isTransactional: (attributes & BatchAttributes.TRANSACTIONAL) !== 0,
    isControl: (attributes & BatchAttributes.CONTROL) !== 0,
    hasDeleteHorizon: (attributes & BatchAttributes.DELETE_HORIZON) !== 0,
    lastOffsetDelta: v.getInt32(23),
    baseTimestamp: int64At(v, 27),
    maxTimestamp: int64At(v, 35),
    producerId: int64At(v, 43),
    producerEpoch: v.getInt16(51),
    baseSequence: v.getInt32(53),
    recordCount: v.getInt32(57),
  };
}

/** True when the CRC-32C of the batch at the start of `bytes` matches its contents. */
export function batchCrcValid(bytes: Uint8Array): boolean {
  const h = decodeBatchHeader(bytes);
  return crc32c(bytes.subarray(CRC_START, h.batchLength + 12)) === h.crc;
}

/** The batch's records section, decompressed (a view into `bytes` when uncompressed). */
export function batchPayload(
  bytes: Uint8Array,
  maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED,
): Uint8Array {
  const h = decodeBatchHeader(bytes);
  return decompress(
    h.compression,
    bytes.subarray(BATCH_HEADER_SIZE, h.batchLength + 12),
    maxDecompressedBytes,
  );
}

/**
 * Decodes the batch at the start of `bytes` (bytes after it are ignored): header and
 * every record, decompressing with the batch's codec. Throws {@link DecodeError} on a
 * bad magic, length, CRC or record, and CompressionError on a payload that does not
 * decompress.
 */
export function decodeBatch(bytes: Uint8Array, opts: DecodeBatchOptions = {}): DecodedBatch {
  const header = decodeBatchHeader(bytes);
  const end = header.batchLength + 12;
  if (opts.verifyCrc !== false) {
    const actual = crc32c(bytes.subarray(CRC_START, end));
    if (actual !== header.crc) {
      throw new DecodeError(
        `Record batch CRC ${header.crc} does not match its contents (${actual})`,
      );
    }
  }
  if (header.recordCount < 0) {
    throw new DecodeError(`Record batch record count ${header.recordCount} is negative`);
  }
  const payload = decompress(
    header.compression,
    bytes.subarray(BATCH_HEADER_SIZE, end),
    opts.maxDecompressedBytes,
  );
  return { header, records: decodeRecordsSection(payload, header.recordCount) };
}

/** Decodes every whole batch of a record set (a partial batch at the end is left out). */
export function decodeBatches(
  recordSet: Uint8Array,
  opts: DecodeBatchOptions = {},
): DecodedBatch[] {
  const out: DecodedBatch[] = [];
  const v = new DataView(recordSet.buffer, recordSet.byteOffset, recordSet.byteLength);
  let p = 0;
  while (p + BATCH_HEADER_SIZE <= recordSet.length) {
    const size = v.getInt32(p + 8) + 12;
    if (size < BATCH_HEADER_SIZE || p + size > recordSet.length) break;
    out.push(decodeBatch(recordSet.subarray(p, p + size), opts));
    p += size;
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Decodes `count` records from a decompressed records section, which they must fill exactly. */
export function decodeRecordsSection(payload: Uint8Array, count: number): BatchRecord[] {
  const r = new Reader(payload);
  const out: BatchRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const len = r.varint();
    const end = r.pos + len;
    if (len < 0 || end > payload.length) {
      throw new DecodeError(`Record ${i} length ${len} runs past the batch`);
    }
    const attributes = r.int8();
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const kl = r.varint();
    const key = kl < 0 ? null : r.raw(kl);
    const vl = r.varint();
    const value = vl < 0 ? null : r.raw(vl);
    const hc = r.varint();
    if (hc < 0) throw new DecodeError(`Record ${i} header count ${hc} is negative`);
    const headers: [string, Uint8Array | null][] = [];
    for (let h = 0; h < hc; h++) {
      const hkl = r.varint();
      if (hkl < 0) throw new DecodeError(`Record ${i} header ${h} has a null key`);
      const hk = utf8.decode(r.raw(hkl));
      const hl = r.varint();
      headers.push([hk, hl < 0 ? null : r.raw(hl)]);
    }
    if (r.pos !== end) {
      throw new DecodeError(`Record ${i} holds ${end - r.pos} bytes more than its fields`);
    }
    out[i] = { attributes, timestampDelta, offsetDelta, key, value, headers };
  }
  if (r.remaining !== 0) {
    throw new DecodeError(`Record batch has ${r.remaining} bytes after its ${count} records`);
  }
  return out;
}

/**
 * Index of the first record without a key (null key) in the batch at the start of
 * `bytes`, or -1 when every record has one. Decompresses when the batch is
 * compressed, and reads only as far as each key. For produce's check on compacted
 * topics (Kafka answers INVALID_RECORD with this record's index in record_errors).
 */
export function firstKeylessRecord(
  bytes: Uint8Array,
  maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED,
): number {
  const h = decodeBatchHeader(bytes);
  const payload = decompress(
    h.compression,
    bytes.subarray(BATCH_HEADER_SIZE, h.batchLength + 12),
    maxDecompressedBytes,
  );
  const r = new Reader(payload);
  for (let i = 0; i < h.recordCount; i++) {
    const len = r.varint();
    const end = r.pos + len;
    if (len < 0 || end > payload.length) {
      throw new DecodeError(`Record ${i} length ${len} runs past the batch`);
    }
    r.int8();
    r.varlong();
    r.varint();
    if (r.varint() < 0) return i;
    r.pos = end;
  }
  return -1;
}

/** True when every record of the batch at the start of `bytes` has a non-null key. */
export function batchKeysPresent(bytes: Uint8Array): boolean {
  return firstKeylessRecord(bytes) < 0;
}

const utf8Encoder = new TextEncoder();

function uvarintSize(u: number): number {
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}
function varintSize(v: number): number {
  return uvarintSize(v >= 0 ? v * 2 : -v * 2 - 1);
}
function bytesSize(b: Uint8Array | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

/** Writes records as a batch's (uncompressed) records section. */
export function encodeRecordsSection(records: readonly BatchRecord[]): Uint8Array {
  let guess = 0;
  for (const rec of records) guess += 16 + (rec.key?.length ?? 0) + (rec.value?.length ?? 0);
  const w = new Writer(Math.max(64, guess));
  for (const rec of records) {
    const hkeys = rec.headers.map(([k]) => utf8Encoder.encode(k));
    let size = 1 + varintSize(rec.timestampDelta) + varintSize(rec.offsetDelta) +
      bytesSize(rec.key) + bytesSize(rec.value) + varintSize(rec.headers.length);
    for (let h = 0; h < rec.headers.length; h++) {
      size += bytesSize(hkeys[h]) + bytesSize(rec.headers[h][1]);
    }
    w.varint(size);
    w.int8(rec.attributes ?? 0);
    w.varlong(rec.timestampDelta);
    w.varint(rec.offsetDelta);
    writeBytes(w, rec.key);
    writeBytes(w, rec.value);
    w.varint(rec.headers.length);
    for (let h = 0; h < rec.headers.length; h++) {
      writeBytes(w, hkeys[h]);
      writeBytes(w, rec.headers[h][1]);
    }
  }
  return w.bytes();
}

function writeBytes(w: Writer, b: Uint8Array | null): void {
  if (b === null) w.varint(-1);
  else {
    w.varint(b.length);
    w.raw(b);
  }
}

/**
 * Encodes a v2 batch from header fields and records. Every header field is written
 * as given (baseOffset, lastOffsetDelta, timestamps, producer id/epoch/sequence,
 * attributes), as Kafka's cleaner keeps a cleaned batch's base offset and last offset
 * delta when it drops records; only batchLength, the record count and the CRC-32C are
 * computed. `compression` (a codec id) replaces attributes bits 0-2 when given;
 * otherwise the codec of `header.attributes` is used. Records may be empty (Kafka keeps
 * an empty batch to preserve a producer's state).
 */
export function encodeBatch(
  header: BatchHeaderFields,
  records: readonly BatchRecord[],
  compression?: number,
  opts: CompressOptions = {},
): Uint8Array {
  const attributes = compression === undefined
    ? header.attributes
    : (header.attributes & ~0x07) | (compression & 0x07);
  const payload = compress(compressionOf(attributes), encodeRecordsSection(records), opts);
  const out = new Uint8Array(BATCH_HEADER_SIZE + payload.length);
  const v = new DataView(out.buffer);
  setInt64(v, 0, header.baseOffset);
  v.setInt32(8, BATCH_HEADER_SIZE - 12 + payload.length);
  v.setInt32(12, header.partitionLeaderEpoch);
  v.setInt8(16, 2);
  v.setInt16(21, attributes);
  v.setInt32(23, header.lastOffsetDelta);
  setInt64(v, 27, header.baseTimestamp);
  setInt64(v, 35, header.maxTimestamp);
  setInt64(v, 43, header.producerId);
  v.setInt16(51, header.producerEpoch);
  v.setInt32(53, header.baseSequence);
  v.setInt32(57, records.length);
  out.set(payload, BATCH_HEADER_SIZE);
  v.setUint32(17, crc32c(out.subarray(CRC_START)));
  return out;
}

function setInt64(v: DataView, p: number, n: number): void {
  const hi = Math.floor(n / TWO_32);
  v.setInt32(p, hi);
  v.setUint32(p + 4, n - hi * TWO_32);
}

/** Re-encodes a batch with another codec (or the same), keeping its header and records. */
export function recompressBatch(bytes: Uint8Array, compression: number): Uint8Array {
  const { header, records } = decodeBatch(bytes);
  return encodeBatch(header, records, compression);
}
