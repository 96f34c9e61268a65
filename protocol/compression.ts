/**
 * Compression of v2 record-batch payloads (the bytes after the 61-byte header),
 * for every codec Kafka knows (attributes bits 0-2, KIP-98; zstd since KIP-110):
 *
 * - gzip and zstd: node:zlib, built into Deno (no dependency, `deno compile` clean).
 * - snappy: snappyjs (pure JavaScript) for the raw snappy blocks. Kafka's Java
 *   producer wraps them in xerial's snappy-java framing (magic `\x82SNAPPY\0`,
 *   version 1, compatible version 1, then blocks of int32 length + raw snappy of at
 *   most 32 KiB input), and that is what {@link compress} writes; librdkafka and
 *   other clients may send one raw snappy block, so {@link decompress} reads both.
 * - lz4: the LZ4 frame format (KIP-57: the frame with a correct header checksum),
 *   blocks through lz4js's block codec. Written as Kafka's Java producer writes it:
 *   independent 64 KiB blocks, no block or content checksums, no content size.
 *   Read with any block size, with or without block checksums, content size,
 *   content checksum or dictionary id, and skippable frames; checksums are skipped,
 *   not verified (the batch's CRC-32C already covers these bytes).
 *
 * Pure functions over bytes: no I/O.
 */

import zlib from "node:zlib";
import lz4 from "lz4js";
import snappy from "snappyjs";
import { concatChunks } from "./writer.ts";

/** The compression codecs of attributes bits 0-2. */
export const Compression = {
  NONE: 0,
  GZIP: 1,
  SNAPPY: 2,
  LZ4: 3,
  ZSTD: 4,
} as const;

/** A codec id, 0-4. */
export type CompressionCodec = typeof Compression[keyof typeof Compression];

/** Kafka's name of each codec (`compression.type`), by id. */
export const COMPRESSION_NAMES: readonly string[] = ["none", "gzip", "snappy", "lz4", "zstd"];

/** Largest decompressed payload accepted unless the caller says otherwise (a bomb guard). */
export const DEFAULT_MAX_DECOMPRESSED = 256 * 1024 * 1024;

/** A payload that does not decode with its codec (Kafka answers CORRUPT_MESSAGE). */
export class CompressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CompressionError";
  }
}

/** The codec of a batch's attributes (bits 0-2). */
export function compressionOf(attributes: number): number {
  return attributes & 0x07;
}

/** The codec id for a Kafka `compression.type` name ("none", "gzip", "snappy", "lz4", "zstd"). */
export function compressionByName(name: string): CompressionCodec {
  const i = COMPRESSION_NAMES.indexOf(name.toLowerCase());
  if (i < 0) {
    throw new CompressionError(
      `Compression type "${name}" is unknown; use one of ${COMPRESSION_NAMES.join(", ")}`,
    );
  }
  return i as CompressionCodec;
}

interface ZstdZlib {
  zstdCompressSync(data: Uint8Array, opts?: object): Uint8Array;
  zstdDecompressSync(data: Uint8Array, opts?: object): Uint8Array;
}
const zstd = zlib as unknown as ZstdZlib;

/** Options for {@link compress}. */
export interface CompressOptions {
  /** Codec level (gzip 1-9, zstd 1-22); the codec's default when absent. lz4/snappy have none. */
  level?: number;
}

/** Compresses a batch payload (the records section) with a codec; codec 0 returns `data`. */
export function compress(
  codec: number,
  data: Uint8Array,
  opts: CompressOptions = {},
): Uint8Array {
  switch (codec) {
    case Compression.NONE:
      return data;
    case Compression.GZIP:
      return plain(zlib.gzipSync(data, opts.level === undefined ? {} : { level: opts.level }));
    case Compression.SNAPPY:
      return snappyXerialCompress(data);
    case Compression.LZ4:
      return lz4FrameCompress(data);
    case Compression.ZSTD:
      return plain(
        zstd.zstdCompressSync(
          data,
          opts.level === undefined
            ? {}
            : { params: { [zlib.constants.ZSTD_c_compressionLevel]: opts.level } },
        ),
      );
    default:
      throw new CompressionError(`Compression codec ${codec} is unknown; Kafka's are 0-4`);
  }
}

/**
 * Decompresses a batch payload; codec 0 returns `data`. Throws {@link CompressionError}
 * when the bytes do not decode or would grow past `maxBytes`.
 */
export function decompress(
  codec: number,
  data: Uint8Array,
  maxBytes = DEFAULT_MAX_DECOMPRESSED,
): Uint8Array {
  try {
    switch (codec) {
      case Compression.NONE:
        return data;
      case Compression.GZIP:
        return plain(zlib.gunzipSync(data, { maxOutputLength: maxBytes }));
      case Compression.SNAPPY:
        return snappyDecompress(data, maxBytes);
      case Compression.LZ4:
        return lz4FrameDecompress(data, maxBytes);
      case Compression.ZSTD:
        checkZstdFrames(data);
        return plain(zstd.zstdDecompressSync(data, { maxOutputLength: maxBytes }));
    }
  } catch (e) {
    if (e instanceof CompressionError) throw e;
    throw new CompressionError(
      `Record batch payload does not decompress with ${COMPRESSION_NAMES[codec]}: ${
        (e as Error).message
      }`,
    );
  }
  throw new CompressionError(`Compression codec ${codec} is unknown; Kafka's are 0-4`);
}

/** A node Buffer seen as a plain Uint8Array over the same bytes. */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// --- zstd ----------------------------------------------------------------------------------

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Walks the frames and block headers of a zstd payload (RFC 8878) and throws unless they
 * fill it exactly: Deno's zstdDecompressSync returns what it could decode of a truncated
 * frame instead of failing.
 */
function checkZstdFrames(data: Uint8Array): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const cut = () => new CompressionError("Zstd frame is cut short");
  let p = 0;
  if (data.length === 0) throw cut();
  while (p < data.length) {
    if (p + 4 > data.length) throw cut();
    const magic = view.getUint32(p, true);
    p += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) { // a skippable frame
      if (p + 4 > data.length) throw cut();
      p += 4 + view.getUint32(p, true);
      if (p > data.length) throw cut();
      continue;
    }
    if (magic !== ZSTD_MAGIC) {
      throw new CompressionError(`Zstd frame magic 0x${magic.toString(16)} is not 0xfd2fb528`);
    }
    if (p + 1 > data.length) throw cut();
    const fhd = data[p++];
    const singleSegment = (fhd >> 5) & 1;
    const fcsFlag = fhd >> 6;
    const fcsSize = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag];
    p += (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3] + fcsSize;
    for (let last = 0; !last;) {
      if (p + 3 > data.length) throw cut();
      const bh = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16);
      p += 3;
      last = bh & 1;
      const type = (bh >> 1) & 3;
      if (type === 3) throw new CompressionError("Zstd block type 3 is reserved");
      p += type === 1 ? 1 : bh >>> 3;
    }
    if (fhd & 0x04) p += 4; // content checksum
    if (p > data.length) throw cut();
  }
}

// --- snappy --------------------------------------------------------------------------------

/** snappy-java's stream header: magic `\x82SNAPPY\0`, then version 1 and compatible version 1. */
const XERIAL_MAGIC = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00);
const XERIAL_HEADER_SIZE = 16;
/** snappy-java's SnappyOutputStream default block size, which Kafka's producer uses. */
const XERIAL_BLOCK = 32 * 1024;

function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The uncompressed length a raw snappy block declares (its leading uvarint). */
function snappyLength(data: Uint8Array, at: number, end: number): number {
  let result = 0;
  for (let shift = 0, i = at; i < end && shift <= 28; shift += 7, i++) {
    const b = data[i];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
  }
  throw new CompressionError("Snappy block has no valid length");
}

function snappyBlock(block: Uint8Array, budget: number): Uint8Array {
  const declared = snappyLength(block, 0, block.length);
  if (declared > budget) {
    throw new CompressionError(
      `Snappy payload would decompress past the ${budget} bytes allowed`,
    );
  }
  return snappy.uncompress(block) as Uint8Array;
}

function snappyDecompress(data: Uint8Array, maxBytes: number): Uint8Array {
  if (!isXerial(data)) return snappyBlock(data, maxBytes);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const parts: Uint8Array[] = [];
  let total = 0;
  let p = XERIAL_HEADER_SIZE;
  while (p < data.length) {
    if (p + 4 > data.length) throw new CompressionError("Snappy (xerial) block length cut short");
    const len = view.getInt32(p);
    p += 4;
    if (len < 0 || p + len > data.length) {
      throw new CompressionError(`Snappy (xerial) block of ${len} bytes runs past the payload`);
    }
    const out = snappyBlock(data.subarray(p, p + len), maxBytes - total);
    parts.push(out);
    total += out.length;
    p += len;
  }
  return concatChunks(parts, total);
}

function snappyXerialCompress(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const head = new Uint8Array(XERIAL_HEADER_SIZE);
  head.set(XERIAL_MAGIC);
  const hv = new DataView(head.buffer);
  hv.setInt32(8, 1);
  hv.setInt32(12, 1);
  parts.push(head);
  let total = head.length;
  for (let at = 0; at < data.length; at += XERIAL_BLOCK) {
    const block = snappy.compress(data.subarray(at, Math.min(at + XERIAL_BLOCK, data.length)));
    const len = new Uint8Array(4);
    new DataView(len.buffer).setInt32(0, block.length);
    parts.push(len, block);
    total += 4 + block.length;
  }
  return concatChunks(parts, total);
}

// --- lz4 -----------------------------------------------------------------------------------

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
const LZ4_WRITE_BLOCK = 64 * 1024;
/** FLG 0x60 (version 01, independent blocks), BD 0x40 (64 KiB), HC (xxh32(FLG BD) >> 8) & 0xff. */
const LZ4_WRITE_HEADER = Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82);

function lz4FrameDecompress(data: Uint8Array, maxBytes: number): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let out = new Uint8Array(Math.min(maxBytes, Math.max(1024, data.length * 4)));
  let o = 0;
  let p = 0;
  const need = (n: number, what: string) => {
    if (p + n > data.length) throw new CompressionError(`LZ4 frame cut short in its ${what}`);
  };
  let frames = 0;
  while (p < data.length) {
    need(4, "magic");
    const magic = view.getUint32(p, true);
    p += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) { // a skippable frame
      need(4, "skippable frame size");
      p += 4 + view.getUint32(p, true);
      continue;
    }
    if (magic !== LZ4_MAGIC) {
      if (frames > 0 && magic === 0) break; // zero padding after a frame
      throw new CompressionError(`LZ4 frame magic 0x${magic.toString(16)} is not 0x184d2204`);
    }
    frames++;
    need(3, "descriptor");
    const flg = data[p++];
    const bd = data[p++];
    if ((flg >> 6) !== 1) throw new CompressionError(`LZ4 frame version ${flg >> 6} is not 1`);
    const blockMax = LZ4_BLOCK_MAX[(bd >> 4) & 7];
    if (!blockMax) throw new CompressionError(`LZ4 frame block size id ${(bd >> 4) & 7} is bad`);
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    if (contentSize) p += 8;
    if (dictId) p += 4;
    need(1, "header checksum");
    p++;
    for (;;) {
      need(4, "block size");
      const word = view.getUint32(p, true);
      p += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      need(size + (blockChecksum ? 4 : 0), "block");
      const required = o + (word >>> 31 ? size : blockMax);
      if (required > out.length) {
        const grown = new Uint8Array(
          Math.max(required, Math.min(out.length * 2, maxBytes + blockMax)),
        );
        grown.set(out.subarray(0, o));
        out = grown;
      }
      if (word >>> 31) { // stored uncompressed
        out.set(data.subarray(p, p + size), o);
        o += size;
      } else {
        const end = lz4.decompressBlock(data, out, p, size, o) as number;
        if (!(end - o <= blockMax) || end > out.length) {
          throw new CompressionError("LZ4 block is corrupt (it decodes past its block size)");
        }
        o = end;
      }
      if (o > maxBytes) {
        throw new CompressionError(`LZ4 payload would decompress past ${maxBytes} bytes`);
      }
      p += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) {
      need(4, "content checksum");
      p += 4;
    }
  }
  return out.subarray(0, o);
}

/** Reused by lz4FrameCompress; cleared for every block so that blocks stay independent. */
const lz4HashTable = new Uint32Array(1 << 16);

function lz4FrameCompress(data: Uint8Array): Uint8Array {
  const blocks = Math.ceil(data.length / LZ4_WRITE_BLOCK);
  const out = new Uint8Array(
    LZ4_WRITE_HEADER.length + 4 + blocks * (4 + lz4.compressBound(LZ4_WRITE_BLOCK)),
  );
  const view = new DataView(out.buffer);
  out.set(LZ4_WRITE_HEADER);
  let o = LZ4_WRITE_HEADER.length;
  for (let at = 0; at < data.length; at += LZ4_WRITE_BLOCK) {
    const len = Math.min(LZ4_WRITE_BLOCK, data.length - at);
    lz4HashTable.fill(0);
    const dst = out.subarray(o + 4);
    const size = lz4.compressBlock(data, dst, at, len, lz4HashTable) as number;
    if (size === 0 || size >= len) {
      view.setUint32(o, (0x80000000 | len) >>> 0, true);
      out.set(data.subarray(at, at + len), o + 4);
      o += 4 + len;
    } else {
      view.setUint32(o, size, true);
      o += 4 + size;
    }
  }
  view.setUint32(o, 0, true); // end mark
  return out.subarray(0, o + 4);
}
