/**
 * Compacted topics over TCP, on every meta store: the cleaner keeps the latest
 * record per key with offsets unchanged (gaps where older values were),
 * drops tombstones after delete.retention.ms, never touches the active part
 * of the log; compressed batches are rewritten in the topic's codec; keyless
 * records are refused; LogAppendTime topics get the broker's time.
 */

import assert from "node:assert/strict";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  FETCH_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { buildBatch, type SimpleRecord } from "../protocol/record_batch.ts";
import { decodeBatch, decodeBatches, encodeBatch } from "../protocol/batch_codec.ts";
import { Compression } from "../protocol/compression.ts";
import { testBroker } from "./broker_util.ts";
import { createTopicWithConfigs, metaStoreTest } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";
import { fetchRequest, flattenRecords, produceRequest } from "./wire_requests.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function rec(key: string | null, value: string | null): SimpleRecord {
  return {
    key: key === null ? null : enc.encode(key),
    value: value === null ? null : enc.encode(value),
    headers: [],
  };
}

async function createCompacted(
  c: WireClient,
  name: string,
  configs: Record<string, string>,
): Promise<string> {
  return (await createTopicWithConfigs(c, name, configs)).id;
}

async function produce(c: WireClient, topic: string, batch: Uint8Array) {
  const res = await c.call(PRODUCE_API, 12, produceRequest(topic, batch));
  return res.responses[0].partitionResponses[0];
}

/** Every record of the partition from offset 0 as [offset, key, value]. */
async function readAll(c: WireClient, topic: { name: string; id: string }) {
  const out: [number, string, string | null][] = [];
  let from = 0;
  for (let round = 0; round < 100; round++) {
    const p = (await c.call(FETCH_API, 17, fetchRequest(topic, 0, from))).responses[0]
      .partitions[0];
    assert.equal(p.errorCode, 0);
    const batches = decodeBatches(flattenRecords(p.records));
    if (batches.length === 0) break;
    for (const b of batches) {
      for (const r of b.records) {
        out.push([
          b.header.baseOffset + r.offsetDelta,
          dec.decode(r.key!),
          r.value === null ? null : dec.decode(r.value),
        ]);
      }
      from = b.header.baseOffset + b.header.lastOffsetDelta + 1;
    }
    if (from >= Number(p.highWatermark)) break;
  }
  return out;
}

/** Configs that make everything but the newest batch cleanable at once. */
const EAGER = {
  "cleanup.policy": "compact",
  "min.cleanable.dirty.ratio": "0.01",
  "segment.ms": "1",
  "delete.retention.ms": "0",
};

metaStoreTest("the cleaner keeps the latest value of each key, with its offset", async (meta) => {
  await using broker = await testBroker({ meta, cleanerIntervalMs: 0 });
  await using c = await WireClient.connect(broker.port);
  const id = await createCompacted(c, "table", EAGER);
  const topic = { name: "table", id };
  // Three rounds over keys a, b, c; b is deleted in the last round.
  await produce(c, "table", buildBatch([rec("a", "a0"), rec("b", "b0"), rec("c", "c0")]));
  await produce(c, "table", buildBatch([rec("a", "a1"), rec("b", "b1")]));
  await produce(c, "table", buildBatch([rec("b", null), rec("c", "c2")]));
  await new Promise((r) => setTimeout(r, 5));
  const before = await readAll(c, topic);
  assert.equal(before.length, 7);

  const first = await broker.clean();
  assert.equal(first.length, 1, "one partition cleaned");
  assert.ok(first[0].completed);
  const after = await readAll(c, topic);
  // a1 at 3, the tombstone of b at 5 (kept: not yet through a cleaning), c2 at 6.
  assert.deepEqual(after, [[3, "a", "a1"], [5, "b", null], [6, "c", "c2"]]);

  // A second pass, past delete.retention.ms: the tombstone goes, the offsets stay.
  await produce(c, "table", buildBatch([rec("d", "d3")]));
  await new Promise((r) => setTimeout(r, 5));
  await broker.clean();
  assert.deepEqual(await readAll(c, topic), [[3, "a", "a1"], [6, "c", "c2"], [7, "d", "d3"]]);
  const state = await broker.context.meta.partitionState(id, 0);
  assert.equal(state!.highWatermark, 8, "the high watermark never moves back");
  assert.equal(state!.logStartOffset, 0);
});

metaStoreTest(
  "the active part of the log and min.compaction.lag.ms are never cleaned",
  async (meta) => {
    await using broker = await testBroker({ meta, cleanerIntervalMs: 0 });
    await using c = await WireClient.connect(broker.port);
    const id = await createCompacted(c, "young", {
      "cleanup.policy": "compact",
      "min.cleanable.dirty.ratio": "0.01",
      "segment.ms": "1",
      "min.compaction.lag.ms": "3600000",
    });
    for (let i = 0; i < 3; i++) await produce(c, "young", buildBatch([rec("k", `v${i}`)]));
    assert.deepEqual(await broker.clean(), [], "everything is younger than the lag");
    assert.equal((await readAll(c, { name: "young", id })).length, 3);

    // Default segment.ms (7 days): only the active segment exists, nothing is cleanable.
    const id2 = await createCompacted(c, "head", { "cleanup.policy": "compact" });
    for (let i = 0; i < 3; i++) await produce(c, "head", buildBatch([rec("k", `v${i}`)]));
    assert.deepEqual(await broker.clean(), []);
    assert.equal((await readAll(c, { name: "head", id: id2 })).length, 3);
  },
);

metaStoreTest("compressed batches are rewritten in the topic's compression.type", async (meta) => {
  await using broker = await testBroker({ meta, cleanerIntervalMs: 0 });
  await using c = await WireClient.connect(broker.port);
  const id = await createCompacted(c, "zipped", { ...EAGER, "compression.type": "zstd" });
  const gzip = (records: SimpleRecord[]) => {
    const plain = decodeBatch(buildBatch(records));
    return encodeBatch(plain.header, plain.records, Compression.GZIP);
  };
  await produce(c, "zipped", gzip([rec("x", "x0"), rec("y", "y0")]));
  await produce(c, "zipped", gzip([rec("x", "x1")]));
  await new Promise((r) => setTimeout(r, 5));
  await broker.clean();
  const p = (await c.call(FETCH_API, 17, fetchRequest({ name: "zipped", id }, 0, 0))).responses[0]
    .partitions[0];
  const batches = decodeBatches(flattenRecords(p.records));
  assert.equal(batches.length, 2);
  assert.equal(batches[0].header.compression, Compression.ZSTD, "the rewritten batch");
  assert.deepEqual(batches[0].records.map((r) => dec.decode(r.key!)), ["y"]);
  assert.equal(batches[0].header.baseOffset, 0);
  assert.equal(batches[0].header.lastOffsetDelta, 1, "the batch keeps its offset range");
  assert.equal(batches[1].header.compression, Compression.GZIP, "the untouched batch");
});

metaStoreTest(
  "a compacted topic refuses keyless records; LogAppendTime stamps the broker's time",
  async (meta) => {
    await using broker = await testBroker({ meta, cleanerIntervalMs: 0 });
    await using c = await WireClient.connect(broker.port);
    await createCompacted(c, "keys", { "cleanup.policy": "compact" });
    const keyless = await produce(c, "keys", buildBatch([rec("a", "1"), rec(null, "2")]));
    assert.equal(keyless.errorCode, ErrorCode.INVALID_RECORD);
    assert.match(keyless.errorMessage ?? "", /without key/);
    const keyed = await produce(c, "keys", buildBatch([rec("a", "1")]));
    assert.equal(keyed.errorCode, ErrorCode.NONE);

    const id = await createCompacted(c, "stamped", { "message.timestamp.type": "LogAppendTime" });
    const before = Date.now();
    const r = await produce(c, "stamped", buildBatch([rec("a", "1")], { baseTimestamp: 1000 }));
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.ok(Number(r.logAppendTimeMs) >= before, `log_append_time_ms ${r.logAppendTimeMs}`);
    const p =
      (await c.call(FETCH_API, 17, fetchRequest({ name: "stamped", id }, 0, 0))).responses[0]
        .partitions[0];
    const [b] = decodeBatches(flattenRecords(p.records));
    assert.equal(b.header.timestampType, 1);
    assert.equal(b.header.maxTimestamp, Number(r.logAppendTimeMs));

    // Bad compaction configs are refused with the value named.
    const req = defaultCreateTopicsRequest();
    req.topics = [{
      ...defaultCreateTopicsRequestTopic(),
      name: "bad",
      numPartitions: 1,
      replicationFactor: -1,
      configs: [{ name: "cleanup.policy", value: "shred" }],
    }];
    const bad = (await c.call(CREATE_TOPICS_API, 7, req)).topics[0];
    assert.equal(bad.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(bad.errorMessage ?? "", /shred/);
  },
);
