/**
 * Compression codecs for kafkajs, registered on import: gzip is built into
 * kafkajs; snappy comes from the kafkajs-snappy codec (pure JavaScript). kafkajs's
 * own LZ4 and ZStandard codec packages need native addons, so those two are
 * registered here from pure pieces instead: LZ4 frames built from lz4js's block
 * compressor, ZStandard through node:zlib (built into Deno). Used by the
 * interop driver (kafkajs_driver.ts beside it) and the golden-fixture workload
 * (tests/golden/workloads/kafkajs.ts).
 */

import { Buffer } from "node:buffer";
import zlib from "node:zlib";
import kafkajs from "kafkajs";
import SnappyCodec from "kafkajs-snappy";
import lz4 from "lz4js";

// deno-lint-ignore no-explicit-any
type Any = any;

const { CompressionTypes, CompressionCodecs } = kafkajs as Any;

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: (encoder: { buffer: Buffer }) => Promise.resolve(lz4Frame(encoder.buffer)),
  decompress: (buffer: Buffer) => Promise.resolve(Buffer.from(lz4.decompress(buffer))),
});

/**
 * An LZ4 frame as Kafka reads it: independent 64 KiB blocks, no checksums. lz4js's own
 * compress() marks its blocks dependent, which Kafka refuses ("Dependent block stream is
 * unsupported"), so the frame is put together here from lz4js's block compressor.
 */
function lz4Frame(src: Uint8Array): Buffer {
  const BLOCK = 64 * 1024;
  // Magic 0x184D2204 (little endian); FLG 0x60: version 1, independent blocks; BD 0x40: 64 KiB
  // blocks; 0x82: the header checksum, (xxh32(FLG BD) >> 8) & 0xff.
  const parts: Uint8Array[] = [Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82)];
  for (let at = 0; at < src.length; at += BLOCK) {
    const block = src.subarray(at, Math.min(at + BLOCK, src.length));
    const dst = new Uint8Array(lz4.compressBound(block.length));
    const size = lz4.compressBlock(block, dst, 0, block.length, new Uint32Array(1 << 16));
    const head = Buffer.alloc(4);
    if (size === 0 || size >= block.length) {
      head.writeUInt32LE((0x80000000 | block.length) >>> 0);
      parts.push(head, block);
    } else {
      head.writeUInt32LE(size);
      parts.push(head, dst.subarray(0, size));
    }
  }
  parts.push(new Uint8Array(4)); // end mark
  return Buffer.concat(parts);
}

const zstd = zlib as unknown as {
  zstdCompressSync(data: Buffer): Buffer;
  zstdDecompressSync(data: Buffer): Buffer;
};
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: (encoder: { buffer: Buffer }) => Promise.resolve(zstd.zstdCompressSync(encoder.buffer)),
  decompress: (buffer: Buffer) => Promise.resolve(zstd.zstdDecompressSync(buffer)),
});

/** kafkajs compression type by contract codec name. */
export const CODEC_TYPES: Record<string, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};
