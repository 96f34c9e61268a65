/**
 * Record batches (message format v2, KIP-98) handled without decompression: the
 * broker reads the 61-byte header, checks the CRC-32C, and rewrites only the
 * base offset (bytes 0-7, outside the CRC) when it serves a batch.
 *
 * Layout: baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 |
 * magic int8 | crc uint32 | attributes int16 | lastOffsetDelta int32 |
 * baseTimestamp int64 | maxTimestamp int64 | producerId int64 |
 * producerEpoch int16 | baseSequence int32 | recordCount int32 | records
 */

import { crc32c } from "./crc32c.ts";
import { ErrorCode } from "./errors.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/** Size of the v2 batch header. */
export const BATCH_HEADER_SIZE = 61;
/** Offset of the attributes field, where the CRC's coverage begins. */
const CRC_START = 21;
const TWO_32 = 4294967296;

/** What the broker needs to know of one batch, read from its header. */
export interface BatchInfo {
  /** The whole batch, a view into the request. */
  bytes: Uint8Array;
  attributes: number;
  lastOffsetDelta: number;
  recordCount: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  isTransactional: boolean;
  isControl: boolean;
}

/** Why a record set was refused: a Kafka error code and a message naming the value. */
export interface BatchRejection {
  errorCode: number;
  message: string;
}

function int64At(v: DataView, p: number): number {
  return v.getInt32(p) * TWO_32 + v.getUint32(p + 4);
}

/**
 * Splits a produce request's record set into batches and validates each one:
 * magic 2, a length that fits, a matching CRC-32C, a record count that agrees
 * with the offset delta, and a size within `maxBatchBytes` (message.max.bytes).
 */
export function parseBatches(
  records: Uint8Array,
  maxBatchBytes: number,
): BatchInfo[] | BatchRejection {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const out: BatchInfo[] = [];
  let p = 0;
  if (records.length === 0) {
    return { errorCode: ErrorCode.INVALID_RECORD, message: "Record set is empty" };
  }
  while (p < records.length) {
    if (records.length - p < BATCH_HEADER_SIZE) {
      return {
        errorCode: ErrorCode.CORRUPT_MESSAGE,
        message: `Record set has ${records.length - p} trailing bytes, fewer than a batch header`,
      };
    }
    const batchLength = view.getInt32(p + 8);
    const size = batchLength + 12;
    const magic = view.getInt8(p + 16);
    if (magic !== 2) {
      return {
        errorCode: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
        message: `Record batch magic ${magic} is not supported; only magic 2 (Kafka 0.11+) is`,
      };
    }
    if (batchLength < BATCH_HEADER_SIZE - 12 || p + size > records.length) {
      return {
        errorCode: ErrorCode.CORRUPT_MESSAGE,
        message: `Record batch length ${batchLength} does not fit the ${
          records.length - p
        } bytes sent`,
      };
    }
    if (size > maxBatchBytes) {
      return {
        errorCode: ErrorCode.MESSAGE_TOO_LARGE,
        message: `Record batch of ${size} bytes is over message.max.bytes (${maxBatchBytes})`,
      };
    }
    const bytes = records.subarray(p, p + size);
    const expected = view.getUint32(p + 17);
    const actual = crc32c(bytes.subarray(CRC_START));
    if (expected !== actual) {
      return {
        errorCode: ErrorCode.CORRUPT_MESSAGE,
        message: `Record batch CRC ${expected} does not match its contents (${actual})`,
      };
    }
    const attributes = view.getInt16(p + 21);
    const lastOffsetDelta = view.getInt32(p + 23);
    const recordCount = view.getInt32(p + 57);
    if (recordCount <= 0 || lastOffsetDelta !== recordCount - 1) {
      return {
        errorCode: ErrorCode.INVALID_RECORD,
        message:
          `Record batch holds ${recordCount} records but its last offset delta is ${lastOffsetDelta}`,
      };
    }
    out.push({
      bytes,
      attributes,
      lastOffsetDelta,
      recordCount,
      baseTimestamp: int64At(view, p + 27),
      maxTimestamp: int64At(view, p + 35),
      producerId: int64At(view, p + 43),
      producerEpoch: view.getInt16(p + 51),
      baseSequence: view.getInt32(p + 53),
      isTransactional: (attributes & 0x10) !== 0,
      isControl: (attributes & 0x20) !== 0,
    });
    p += size;
  }
  return out;
}

/** Writes the offset the broker assigned as a batch's first 8 bytes into `out` (8 bytes). */
export function writeBaseOffset(out: Uint8Array, baseOffset: number): void {
  const hi = Math.floor(baseOffset / TWO_32);
  const lo = baseOffset - hi * TWO_32;
  // Big-endian; a typed array keeps the low 8 bits of each value.
  out[0] = hi >>> 24;
  out[1] = hi >>> 16;
  out[2] = hi >>> 8;
  out[3] = hi;
  out[4] = lo >>> 24;
  out[5] = lo >>> 16;
  out[6] = lo >>> 8;
  out[7] = lo;
}

/** Reads the base offset of a stored batch. */
export function batchBaseOffset(batch: Uint8Array): number {
  return int64At(new DataView(batch.buffer, batch.byteOffset, batch.byteLength), 0);
}

/** One record, decoded (tests and tools only: the broker never decodes records). */
export interface SimpleRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: [string, Uint8Array | null][];
  timestampDelta?: number;
  offsetDelta?: number;
}

/** Options for {@link buildBatch}. */
export interface BuildBatchOptions {
  baseOffset?: number;
  baseTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  attributes?: number;
}

/** Builds an uncompressed v2 batch (tests and tools; real clients build their own). */
export function buildBatch(records: SimpleRecord[], opts: BuildBatchOptions = {}): Uint8Array {
  const body = new Writer(256);
  records.forEach((rec, i) => {
    const r = new Writer(64);
    r.int8(0);
    r.varlong(rec.timestampDelta ?? 0);
    r.varint(rec.offsetDelta ?? i);
    if (rec.key === null) r.varint(-1);
    else {
      r.varint(rec.key.length);
      r.raw(rec.key);
    }
    if (rec.value === null) r.varint(-1);
    else {
      r.varint(rec.value.length);
      r.raw(rec.value);
    }
    r.varint(rec.headers.length);
    for (const [k, v] of rec.headers) {
      const kb = new TextEncoder().encode(k);
      r.varint(kb.length);
      r.raw(kb);
      if (v === null) r.varint(-1);
      else {
        r.varint(v.length);
        r.raw(v);
      }
    }
    body.varint(r.pos);
    body.raw(r.bytes());
  });
  const ts = opts.baseTimestamp ?? Date.now();
  const w = new Writer(BATCH_HEADER_SIZE + body.pos);
  w.int64(opts.baseOffset ?? 0);
  w.int32(BATCH_HEADER_SIZE - 12 + body.pos);
  w.int32(-1);
  w.int8(2);
  const crcAt = w.reserveInt32();
  w.int16(opts.attributes ?? 0);
  w.int32(records.length - 1);
  w.int64(ts);
  w.int64(ts + Math.max(0, ...records.map((r) => r.timestampDelta ?? 0)));
  w.int64(opts.producerId ?? -1);
  w.int16(opts.producerEpoch ?? -1);
  w.int32(opts.baseSequence ?? -1);
  w.int32(records.length);
  w.raw(body.bytes());
  const out = w.bytes().slice();
  new DataView(out.buffer).setUint32(crcAt, crc32c(out.subarray(CRC_START)));
  return out;
}

/** Decodes the records of uncompressed batches (tests and tools only). */
export function decodeRecords(recordSet: Uint8Array): (SimpleRecord & { offset: number })[] {
  const out: (SimpleRecord & { offset: number })[] = [];
  let p = 0;
  const view = new DataView(recordSet.buffer, recordSet.byteOffset, recordSet.byteLength);
  while (p + BATCH_HEADER_SIZE <= recordSet.length) {
    const size = view.getInt32(p + 8) + 12;
    if (p + size > recordSet.length) break; // a partial batch at the end of a fetch
    const base = int64At(view, p);
    if ((view.getInt16(p + 21) & 0x07) !== 0) {
      throw new Error("Compressed batches are not decoded here");
    }
    const r = new Reader(recordSet, p + BATCH_HEADER_SIZE, p + size);
    const count = view.getInt32(p + 57);
    for (let i = 0; i < count; i++) {
      r.varint();
      r.int8();
      const timestampDelta = r.varlong();
      const offsetDelta = r.varint();
      const kl = r.varint();
      const key = kl < 0 ? null : r.raw(kl);
      const vl = r.varint();
      const value = vl < 0 ? null : r.raw(vl);
      const hc = r.varint();
      const headers: [string, Uint8Array | null][] = [];
      for (let h = 0; h < hc; h++) {
        const hk = new TextDecoder().decode(r.raw(r.varint()));
        const hl = r.varint();
        headers.push([hk, hl < 0 ? null : r.raw(hl)]);
      }
      out.push({ offset: base + offsetDelta, key, value, headers, timestampDelta, offsetDelta });
    }
    p += size;
  }
  return out;
}
