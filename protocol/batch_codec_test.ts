/**
 * Unit tests of protocol/batch_codec.ts. The golden Produce requests
 * (tests/golden/fixtures: kafkajs 2.2.4, @platformatic/kafka 2.12.1, librdkafka 2.16.0,
 * kafka-clients 4.4.0, each codec each client sends) are decoded to the records the
 * workloads sent, and re-encoded with every codec; our own round trips check that
 * encodeBatch keeps the header as given. A last test prints decode+encode throughput
 * per codec.
 */

import assert from "node:assert/strict";
import type { ProduceRequest } from "./generated/mod.ts";
import { decodeRequestFrame } from "../tools/golden_frames.ts";
import {
  BatchAttributes,
  batchCrcValid,
  batchKeysPresent,
  batchPayload,
  decodeBatch,
  decodeBatches,
  decodeBatchHeader,
  encodeBatch,
  encodeRecordsSection,
  firstKeylessRecord,
  recompressBatch,
} from "./batch_codec.ts";
import type { BatchRecord, DecodedBatch } from "./batch_codec.ts";
import { Compression, COMPRESSION_NAMES, CompressionError } from "./compression.ts";
import { buildBatch, parseBatches } from "./record_batch.ts";
import { DecodeError } from "./reader.ts";

const enc = new TextEncoder();
const text = new TextDecoder();
const CODECS = [0, 1, 2, 3, 4];
const DIR = new URL("../tests/golden/fixtures/", import.meta.url);

/** The part of tests/golden/fixtures/index.json read here. */
interface GoldenIndex {
  fixtures: { client: string; api: string; request: string }[];
}

/** Every batch of every golden Produce request, with the client and codec it came from. */
function goldenBatches(): { client: string; name: string; bytes: Uint8Array }[] {
  const index: GoldenIndex = JSON.parse(Deno.readTextFileSync(new URL("index.json", DIR)));
  const out: { client: string; name: string; bytes: Uint8Array }[] = [];
  for (const f of index.fixtures) {
    if (f.api !== "Produce") continue;
    const frame = Deno.readFileSync(new URL(f.request, DIR));
    const m = decodeRequestFrame(frame).body as ProduceRequest;
    for (const t of m.topicData) {
      for (const p of t.partitionData) {
        const batches = parseBatches(p.records as Uint8Array, Number.MAX_SAFE_INTEGER);
        if (!Array.isArray(batches)) throw new Error(batches.message);
        for (const b of batches) out.push({ client: f.client, name: f.request, bytes: b.bytes });
      }
    }
  }
  return out;
}

/** The golden workloads' record i (tests/golden/workloads): null key at 3, null value at 7. */
function checkWorkloadRecord(r: BatchRecord, where: string) {
  const headers = r.headers.map(([k, v]) => [k, v === null ? null : text.decode(v)]);
  const idx = headers.find(([k]) => k === "idx")?.[1];
  const i = Number(idx ?? (r.key && text.decode(r.key).replace(/^key-/, "")));
  assert.ok(Number.isInteger(i), `${where}: record index from ${idx} / ${r.key}`);
  assert.equal(r.key === null ? null : text.decode(r.key), i % 10 === 3 ? null : `key-${i}`);
  assert.equal(r.value === null ? null : text.decode(r.value), i % 10 === 7 ? null : `value-${i}`);
  assert.deepEqual(headers, i % 5 === 0 ? [] : [["trace", `t-${i}`], ["idx", String(i)]]);
}

function sameRecords(a: BatchRecord[], b: BatchRecord[], where: string) {
  assert.equal(a.length, b.length, where);
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i].offsetDelta, b[i].offsetDelta, where);
    assert.equal(a[i].timestampDelta, b[i].timestampDelta, where);
    assert.deepEqual(a[i].key, b[i].key, where);
    assert.deepEqual(a[i].value, b[i].value, where);
    assert.deepEqual(a[i].headers, b[i].headers, where);
  }
}

function headerFields(d: DecodedBatch) {
  const { batchLength: _l, crc: _c, compression: _z, ...rest } = d.header;
  return rest;
}

Deno.test("batches from real clients decode to the records they sent, in every codec", () => {
  const seen = new Map<string, Set<string>>();
  for (const { client, name, bytes } of goldenBatches()) {
    const d = decodeBatch(bytes);
    const info = parseBatches(bytes, Number.MAX_SAFE_INTEGER) as ReturnType<typeof parseBatches>;
    assert.ok(Array.isArray(info));
    const b = info[0];
    assert.equal(d.header.magic, 2);
    assert.equal(d.header.batchLength + 12, bytes.length);
    assert.equal(d.header.attributes, b.attributes);
    assert.equal(d.header.lastOffsetDelta, b.lastOffsetDelta);
    assert.equal(d.header.recordCount, b.recordCount);
    assert.equal(d.header.baseTimestamp, b.baseTimestamp);
    assert.equal(d.header.maxTimestamp, b.maxTimestamp);
    assert.equal(d.header.producerId, b.producerId);
    assert.equal(d.header.producerEpoch, b.producerEpoch);
    assert.equal(d.header.baseSequence, b.baseSequence);
    assert.equal(d.header.isTransactional, b.isTransactional);
    assert.equal(d.header.isControl, false);
    assert.equal(d.header.timestampType, 0);
    assert.equal(d.records.length, b.recordCount, name);
    d.records.forEach((r, i) => {
      assert.equal(r.offsetDelta, i, name);
      assert.ok(d.header.baseTimestamp + r.timestampDelta <= d.header.maxTimestamp, name);
      checkWorkloadRecord(r, name);
    });
    const keyless = d.records.findIndex((r) => r.key === null);
    assert.equal(firstKeylessRecord(bytes), keyless, name);
    assert.equal(batchKeysPresent(bytes), keyless < 0, name);
    const codecs = seen.get(client) ?? new Set();
    codecs.add(COMPRESSION_NAMES[d.header.compression]);
    seen.set(client, codecs);
  }
  // Every client sent every codec (librdkafka's zstd needs Produce v7+, which it used).
  for (const client of ["kafkajs", "platformatic", "librdkafka", "java"]) {
    assert.deepEqual([...(seen.get(client) ?? [])].sort(), [...COMPRESSION_NAMES].sort(), client);
  }
});

Deno.test("re-encoding real clients' batches keeps their bytes and records", async (t) => {
  const batches = goldenBatches();
  await t.step("uncompressed batches re-encode to exactly the bytes the client sent", () => {
    let n = 0;
    for (const { name, bytes } of batches) {
      const d = decodeBatch(bytes);
      if (d.header.compression !== Compression.NONE) continue;
      assert.deepEqual(encodeBatch(d.header, d.records), bytes, name);
      n++;
    }
    assert.ok(n > 0);
  });
  await t.step("the records section of compressed batches re-encodes to the same bytes", () => {
    for (const { name, bytes } of batches) {
      const d = decodeBatch(bytes);
      assert.deepEqual(encodeRecordsSection(d.records), batchPayload(bytes), name);
    }
  });
  await t.step("every batch re-encodes in every codec to a valid batch of the same records", () => {
    for (const { name, bytes } of batches) {
      const d = decodeBatch(bytes);
      for (const codec of CODECS) {
        const again = encodeBatch(d.header, d.records, codec);
        const where = `${name} as ${COMPRESSION_NAMES[codec]}`;
        assert.ok(batchCrcValid(again), where);
        const parsed = parseBatches(again, Number.MAX_SAFE_INTEGER);
        assert.ok(Array.isArray(parsed), where);
        assert.equal(parsed[0].attributes & 7, codec);
        const d2 = decodeBatch(again);
        assert.equal(d2.header.compression, codec);
        assert.equal(d2.header.attributes & ~7, d.header.attributes & ~7, where);
        assert.deepEqual(headerFields({ ...d2, header: { ...d2.header, attributes: 0 } }), {
          ...headerFields({ ...d, header: { ...d.header, attributes: 0 } }),
        }, where);
        sameRecords(d2.records, d.records, where);
        assert.deepEqual(recompressBatch(bytes, codec), again, where);
      }
    }
  });
});

Deno.test("encodeBatch keeps the header as given when records are dropped", () => {
  const records: BatchRecord[] = Array.from({ length: 10 }, (_, i) => ({
    key: enc.encode(`k${i % 3}`),
    value: i === 4 ? null : enc.encode(`v${i}`),
    headers: i % 2 ? [["h", enc.encode(String(i))], ["n", null]] : [],
    timestampDelta: i * 1000,
    offsetDelta: i,
  }));
  const header = {
    baseOffset: 2 ** 40 + 5,
    partitionLeaderEpoch: 7,
    attributes: BatchAttributes.TRANSACTIONAL | Compression.GZIP,
    lastOffsetDelta: 9,
    baseTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_009_000,
    producerId: 123456789012,
    producerEpoch: 3,
    baseSequence: 41,
  };
  for (const codec of CODECS) {
    // The cleaner keeps the latest record per key: offsets 7, 8 and 9.
    const kept = records.slice(7);
    const bytes = encodeBatch(header, kept, codec);
    const d = decodeBatch(bytes);
    assert.equal(d.header.baseOffset, header.baseOffset);
    assert.equal(d.header.partitionLeaderEpoch, 7);
    assert.equal(d.header.lastOffsetDelta, 9);
    assert.equal(d.header.recordCount, 3);
    assert.equal(d.header.baseTimestamp, header.baseTimestamp);
    assert.equal(d.header.maxTimestamp, header.maxTimestamp);
    assert.equal(d.header.producerId, header.producerId);
    assert.equal(d.header.producerEpoch, 3);
    assert.equal(d.header.baseSequence, 41);
    assert.equal(d.header.isTransactional, true);
    assert.equal(d.header.compression, codec);
    assert.equal(d.header.batchLength + 12, bytes.length);
    assert.ok(batchCrcValid(bytes));
    sameRecords(d.records, kept, `codec ${codec}`);
    assert.deepEqual(d.records.map((r) => r.offsetDelta), [7, 8, 9]);
  }
  // Without a codec argument the header's codec (gzip here) is used.
  assert.equal(decodeBatchHeader(encodeBatch(header, records)).compression, Compression.GZIP);
  // An empty batch, as Kafka keeps to preserve a producer's last sequence.
  const empty = decodeBatch(encodeBatch(header, [], Compression.ZSTD));
  assert.equal(empty.records.length, 0);
  assert.equal(empty.header.lastOffsetDelta, 9);
  // Control and delete-horizon bits (KIP-534) survive and are reported.
  const marker = decodeBatchHeader(
    encodeBatch({
      ...header,
      attributes: BatchAttributes.CONTROL | BatchAttributes.DELETE_HORIZON |
        BatchAttributes.LOG_APPEND_TIME,
    }, records),
  );
  assert.equal(marker.isControl, true);
  assert.equal(marker.hasDeleteHorizon, true);
  assert.equal(marker.timestampType, 1);
});

Deno.test("encodeBatch writes the same bytes as buildBatch for uncompressed batches", () => {
  const recs = [
    { key: enc.encode("a"), value: enc.encode("1"), headers: [], timestampDelta: 0 },
    { key: null, value: null, headers: [["x", enc.encode("y")]] as [string, Uint8Array][] },
  ];
  const built = buildBatch(recs, { baseOffset: 3, baseTimestamp: 1000, producerId: 5 });
  const d = decodeBatch(built);
  assert.deepEqual(encodeBatch(d.header, d.records), built);
  assert.equal(firstKeylessRecord(built), 1);
  assert.equal(batchKeysPresent(built), false);
});

Deno.test("decodeBatches reads every whole batch of a record set", () => {
  const a = encodeBatch(
    {
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      attributes: 0,
      lastOffsetDelta: 0,
      baseTimestamp: 1,
      maxTimestamp: 1,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    },
    [{ key: enc.encode("k"), value: null, headers: [], timestampDelta: 0, offsetDelta: 0 }],
    Compression.LZ4,
  );
  const b = buildBatch([{ key: enc.encode("x"), value: enc.encode("y"), headers: [] }]);
  const set = new Uint8Array([...a, ...b, ...b.subarray(0, 30)]); // a partial batch at the end
  const ds = decodeBatches(set);
  assert.equal(ds.length, 2);
  assert.equal(ds[0].header.compression, Compression.LZ4);
  assert.equal(text.decode(ds[1].records[0].value!), "y");
});

Deno.test("corrupt batches are refused", () => {
  const good = encodeBatch(
    {
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      attributes: Compression.SNAPPY,
      lastOffsetDelta: 1,
      baseTimestamp: 1,
      maxTimestamp: 1,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    },
    [0, 1].map((i) => ({
      key: enc.encode(`k${i}`),
      value: enc.encode("v".repeat(100)),
      headers: [],
      timestampDelta: 0,
      offsetDelta: i,
    })),
  );
  const flipped = good.slice();
  flipped[flipped.length - 3] ^= 0xff;
  assert.throws(() => decodeBatch(flipped), /CRC/);
  assert.equal(batchCrcValid(flipped), false);
  assert.throws(() => decodeBatch(flipped, { verifyCrc: false }), CompressionError);
  assert.throws(() => decodeBatch(good.subarray(0, 40)), DecodeError);
  const magic1 = good.slice();
  magic1[16] = 1;
  assert.throws(() => decodeBatch(magic1), /magic 1/);
  // A record count that claims more records than the payload holds.
  const more = encodeBatch(decodeBatch(good).header, decodeBatch(good).records, 0);
  new DataView(more.buffer).setInt32(57, 3);
  assert.throws(() => decodeBatch(more, { verifyCrc: false }), DecodeError);
});

Deno.test("throughput: decode + encode of 1 MiB of 1 KiB records per codec", () => {
  const value = new Uint8Array(1024 - 16);
  for (let i = 0; i < value.length; i++) value[i] = 32 + ((i * 7 + (i >> 5)) % 90); // text-ish
  const records: BatchRecord[] = Array.from({ length: 1024 }, (_, i) => ({
    key: enc.encode(`key-${String(i).padStart(8, "0")}`),
    value,
    headers: [],
    timestampDelta: i,
    offsetDelta: i,
  }));
  const header = {
    baseOffset: 0,
    partitionLeaderEpoch: -1,
    attributes: 0,
    lastOffsetDelta: 1023,
    baseTimestamp: 0,
    maxTimestamp: 1023,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
  };
  const lines: string[] = [];
  for (const codec of CODECS) {
    const batch = encodeBatch(header, records, codec);
    for (let r = 0; r < 2; r++) encodeBatch(header, decodeBatch(batch).records, codec); // warm-up
    const rounds = 5;
    let decodeMs = 0;
    let encodeMs = 0;
    let keysMs = 0;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const d = decodeBatch(batch);
      const t1 = performance.now();
      encodeBatch(d.header, d.records, codec);
      const t2 = performance.now();
      assert.equal(batchKeysPresent(batch), true);
      const t3 = performance.now();
      decodeMs += t1 - t0;
      encodeMs += t2 - t1;
      keysMs += t3 - t2;
    }
    const mbps = (ms: number) => ((rounds * 1.048576) / (ms / 1000)).toFixed(0).padStart(5);
    lines.push(
      `${COMPRESSION_NAMES[codec].padEnd(6)} ${String(batch.length).padStart(8)} B  decode ${
        mbps(decodeMs)
      } MB/s  encode ${mbps(encodeMs)} MB/s  decode+encode ${
        mbps(decodeMs + encodeMs)
      } MB/s  keysPresent ${mbps(keysMs)} MB/s`,
    );
  }
  console.log(`\n1 MiB batch of 1024 x 1 KiB records:\n${lines.join("\n")}`);
});
