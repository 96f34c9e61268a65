import assert from "node:assert/strict";
import { Reader, uuidFromString, uuidToString, ZERO_UUID } from "./reader.ts";
import { Writer } from "./writer.ts";
import { crc32c, crc32cTable } from "./crc32c.ts";
import { buildBatch, decodeRecords, parseBatches } from "./record_batch.ts";
import { ErrorCode } from "./errors.ts";

Deno.test("crc32c matches the standard check value and continues across chunks", () => {
  const data = new TextEncoder().encode("123456789");
  assert.equal(crc32c(data), 0xe3069283);
  assert.equal(crc32c(data.subarray(4), crc32c(data.subarray(0, 4))), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // 32 zero bytes, a published CRC-32C test vector (RFC 3720 appendix B.4).
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32cTable(new Uint8Array(32)), 0x8a9136aa);
  // The WebAssembly and table versions agree on every length around the 8-byte stride.
  const random = crypto.getRandomValues(new Uint8Array(1000));
  for (let n = 0; n < 40; n++) {
    assert.equal(crc32c(random.subarray(0, n)), crc32cTable(random.subarray(0, n)), `length ${n}`);
  }
  assert.equal(crc32c(random), crc32cTable(random));
});

Deno.test("primitives round trip through writer and reader", () => {
  const w = new Writer(4);
  w.int8(-5);
  w.int16(-300);
  w.int32(-70000);
  w.int64(-1);
  w.int64(2 ** 53 - 1);
  w.int64(1_700_000_000_123);
  w.uvarint(300);
  w.varint(-64);
  w.varlong(-(2 ** 40));
  w.compactString("héllo");
  w.nullableString(null);
  w.compactNullableBytes(new Uint8Array([1, 2, 3]));
  w.uuid("AAAAAAAAAAAAAAAAAAAAAQ");
  w.bool(true);
  w.float64(0.25);
  const r = new Reader(w.bytes());
  assert.equal(r.int8(), -5);
  assert.equal(r.int16(), -300);
  assert.equal(r.int32(), -70000);
  assert.equal(r.int64(), -1);
  assert.equal(r.int64(), 2 ** 53 - 1);
  assert.equal(r.int64(), 1_700_000_000_123);
  assert.equal(r.uvarint(), 300);
  assert.equal(r.varint(), -64);
  assert.equal(r.varlong(), -(2 ** 40));
  assert.equal(r.compactString(), "héllo");
  assert.equal(r.nullableString(), null);
  assert.deepEqual([...r.compactNullableBytes()!], [1, 2, 3]);
  assert.equal(r.uuid(), "AAAAAAAAAAAAAAAAAAAAAQ");
  assert.equal(r.bool(), true);
  assert.equal(r.float64(), 0.25);
  assert.equal(r.remaining, 0);
});

Deno.test("reader refuses to run past the end of a frame", () => {
  const r = new Reader(new Uint8Array([0, 5, 104, 105]));
  assert.throws(() => r.string(), /Frame ends early/);
});

Deno.test("strings that are not UTF-8 decode with U+FFFD, as Kafka's decoder does", () => {
  // int16 length 3, then 0x61 0xff 0x62: "a", an invalid byte, "b".
  const r = new Reader(new Uint8Array([0, 3, 0x61, 0xff, 0x62]));
  assert.equal(r.string(), "a\uFFFDb");
  assert.equal(r.remaining, 0);
});

Deno.test("uuids keep Kafka's base64 form", () => {
  const b = new Uint8Array(16).map((_, i) => i * 17);
  assert.deepEqual(uuidFromString(uuidToString(b)), b);
  assert.equal(uuidToString(new Uint8Array(16)), ZERO_UUID);
});

Deno.test("record batches are validated without decompression", async (t) => {
  const enc = new TextEncoder();
  const batch = buildBatch([
    { key: enc.encode("k"), value: enc.encode("v"), headers: [["h", enc.encode("x")]] },
    { key: null, value: null, headers: [] },
  ], { producerId: 7, producerEpoch: 1, baseSequence: 10, baseTimestamp: 1000 });

  await t.step("a good batch parses with its header fields", () => {
    const parsed = parseBatches(batch, 1 << 20);
    assert.ok(Array.isArray(parsed));
    assert.equal(parsed.length, 1);
    assert.equal(parsed[0].recordCount, 2);
    assert.equal(parsed[0].producerId, 7);
    assert.equal(parsed[0].baseSequence, 10);
    assert.equal(parsed[0].baseTimestamp, 1000);
    const recs = decodeRecords(batch);
    assert.equal(recs.length, 2);
    assert.equal(new TextDecoder().decode(recs[0].key!), "k");
    assert.equal(recs[1].value, null);
  });

  await t.step("a flipped byte fails the CRC", () => {
    const bad = batch.slice();
    bad[bad.length - 1] ^= 0xff;
    const parsed = parseBatches(bad, 1 << 20);
    assert.ok(!Array.isArray(parsed));
    assert.equal(parsed.errorCode, ErrorCode.CORRUPT_MESSAGE);
  });

  await t.step("a batch over message.max.bytes is refused", () => {
    const parsed = parseBatches(batch, 20);
    assert.ok(!Array.isArray(parsed));
    assert.equal(parsed.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
  });

  await t.step("magic 1 is refused", () => {
    const old = batch.slice();
    old[16] = 1;
    const parsed = parseBatches(old, 1 << 20);
    assert.ok(!Array.isArray(parsed));
    assert.equal(parsed.errorCode, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
  });

  await t.step("a truncated batch is corrupt", () => {
    const parsed = parseBatches(batch.subarray(0, batch.length - 3), 1 << 20);
    assert.ok(!Array.isArray(parsed));
    assert.equal(parsed.errorCode, ErrorCode.CORRUPT_MESSAGE);
  });

  await t.step("two batches back to back both parse", () => {
    const two = new Uint8Array(batch.length * 2);
    two.set(batch);
    two.set(batch, batch.length);
    const parsed = parseBatches(two, 1 << 20);
    assert.ok(Array.isArray(parsed));
    assert.equal(parsed.length, 2);
  });
});
