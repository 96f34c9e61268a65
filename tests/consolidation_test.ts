/**
 * Object consolidation on S3 (broker/consolidator.ts), against the S3 server
 * the tests use (moto by default): many small flushes of a partition become a
 * few objects, every record reads back byte for byte at its offset, old
 * objects stay readable until the sweep's grace passes, a produce or a
 * DeleteRecords racing the swap loses or duplicates nothing, and two brokers
 * never consolidate one partition at once.
 */

import assert from "node:assert/strict";
import { FETCH_API, PRODUCE_API } from "../protocol/generated/mod.ts";
import { decodeBatches } from "../protocol/batch_codec.ts";
import { ObjectConsolidator } from "../broker/consolidator.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { S3LogStore } from "../stores/log/s3.ts";
import type { LogStore, MetaStore } from "../stores/types.ts";
import { testBroker } from "./broker_util.ts";
import { batchOf, createTopic } from "./helpers.ts";
import { startS3Server } from "./servers/s3_server.ts";
import { WireClient } from "./wire_client.ts";
import { fetchRequest, flattenRecords, produceRequest } from "./wire_requests.ts";

/** A log store that runs `onWrite` (once armed) before a write goes through. */
class HookedLog implements LogStore {
  readonly objectPerWrite = true;
  onWrite: (() => Promise<void>) | null = null;
  constructor(private readonly inner: LogStore) {}
  ping() {
    return this.inner.ping();
  }
  close() {
    return Promise.resolve();
  }
  async write(chunks: Uint8Array[]) {
    const hook = this.onWrite;
    this.onWrite = null;
    if (hook) await hook();
    return this.inner.write(chunks);
  }
  read(blob: string, position: number, length: number) {
    return this.inner.read(blob, position, length);
  }
  sweep(referenced: Set<string>, graceMs: number) {
    return this.inner.sweep(referenced, graceMs);
  }
}

const OPTS = { leaseMs: 30_000, minAgeMs: 0, targetBytes: 2048, minPieces: 4 };

/** A broker on a fresh S3 bucket and a memory meta store, one flush per produce. */
async function s3Broker(meta: MetaStore = new MemoryMetaStore()) {
  const s3 = await startS3Server();
  await s3.createBucket("skb-consolidation");
  const url = s3.url("skb-consolidation", "log");
  /** `cache: false` opens a store that keeps no blocks: every read is a GET. */
  const open = ({ cache = true } = {}) =>
    new S3LogStore(url, { credentials: s3.credentials, readCacheBytes: cache ? undefined : 0 });
  const broker = await testBroker({
    meta,
    log: open(),
    lingerMs: 0,
    cleanerIntervalMs: 0,
    consolidateIntervalMs: 0,
  });
  const c = await WireClient.connect(broker.port);
  return {
    s3,
    broker,
    c,
    open,
    async [Symbol.asyncDispose]() {
      await c[Symbol.asyncDispose]();
      await broker.close(5000);
      await s3[Symbol.asyncDispose]();
    },
  };
}

async function produce(c: WireClient, topic: string, from: number, n: number, partitions = 1) {
  const res = await c.call(PRODUCE_API, 12, produceRequest(topic, batchOf(from, n), partitions));
  for (const p of res.responses[0].partitionResponses) assert.equal(p.errorCode, 0);
}

/** Every batch of a partition through Fetch, as [baseOffset, bytes as fetched]. */
async function readAll(
  c: WireClient,
  topic: { name: string; id: string },
  partition = 0,
  from = 0,
) {
  const out: [number, string][] = [];
  for (let round = 0; round < 1000; round++) {
    const p = (await c.call(FETCH_API, 17, fetchRequest(topic, partition, from))).responses[0]
      .partitions[0];
    assert.equal(p.errorCode, 0);
    const bytes = flattenRecords(p.records);
    const batches = decodeBatches(bytes);
    if (batches.length === 0) break;
    let at = 0;
    for (const b of batches) {
      const len = 12 + new DataView(bytes.buffer, bytes.byteOffset + at + 8, 4).getInt32(0);
      out.push([b.header.baseOffset, [...bytes.subarray(at, at + len)].join(",")]);
      at += len;
      from = b.header.baseOffset + b.header.lastOffsetDelta + 1;
    }
    if (from >= Number(p.highWatermark)) break;
  }
  return out;
}

async function blobsOf(meta: MetaStore, topicId: string, partition = 0) {
  const entries = await meta.readIndex(topicId, partition, 0, Number.MAX_SAFE_INTEGER);
  return { entries, blobs: new Set(entries.map((e) => e.blob)) };
}

Deno.test("consolidation gathers a partition's small objects into few, records unchanged", async () => {
  await using s = await s3Broker();
  const id = await createTopic(s.c, "events", 1);
  const topic = { name: "events", id };
  for (let i = 0; i < 40; i++) await produce(s.c, "events", i * 5, 5);
  const meta = s.broker.context.meta;
  const before = await readAll(s.c, topic);
  assert.equal(before.length, 40);
  assert.equal((await blobsOf(meta, id)).blobs.size, 40, "one object per flush");

  const r = await s.broker.consolidate();
  assert.deepEqual(r, [], "the broker's own pass waits for the closed part (a minute)");

  const consolidator = new ObjectConsolidator(
    { meta, log: s.broker.context.log, owner: "test" },
    OPTS,
  );
  const done = await consolidator.runOnce();
  assert.equal(done.length, 1);
  assert.ok(done[0].completed);
  const after = await blobsOf(meta, id);
  assert.ok(after.blobs.size <= 10, `${after.blobs.size} objects after`);
  assert.equal(done[0].piecesMerged, 40 - (after.blobs.size - done[0].runs));
  assert.deepEqual(await readAll(s.c, topic), before, "same batches, same offsets, same bytes");
  const state = await meta.partitionState(id, 0);
  assert.equal(state!.highWatermark, 200);
  assert.equal(state!.logStartOffset, 0);
  const cs = await meta.cleanerState(id, 0);
  assert.equal(cs!.cleanedThrough, 0, "cleanedThrough is left as it was");

  // A second pass finds nothing worth doing.
  const again = await consolidator.runOnce();
  assert.ok(again.every((x) => x.runs === 0), JSON.stringify(again));
});

Deno.test("consolidation does nothing on stores that append to segments", async () => {
  await using broker = await testBroker({ consolidateIntervalMs: 0 });
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "mem", 1);
  for (let i = 0; i < 10; i++) await produce(c, "mem", i, 1);
  const consolidator = new ObjectConsolidator(
    { meta: broker.context.meta, log: broker.context.log, owner: "test" },
    OPTS,
  );
  assert.equal(consolidator.applies, false);
  assert.deepEqual(await consolidator.runOnce(), []);
});

Deno.test("a fetch in flight on old objects still reads them until the sweep's grace passes", async () => {
  await using s = await s3Broker();
  const id = await createTopic(s.c, "inflight", 1);
  const topic = { name: "inflight", id };
  for (let i = 0; i < 12; i++) await produce(s.c, "inflight", i * 5, 5);
  const meta = s.broker.context.meta;
  const before = await readAll(s.c, topic);
  // A fetch that has read the index but not yet the bytes.
  const old = (await blobsOf(meta, id)).entries;
  const consolidator = new ObjectConsolidator(
    { meta, log: s.broker.context.log, owner: "test" },
    OPTS,
  );
  assert.ok((await consolidator.runOnce())[0].completed);
  assert.ok((await blobsOf(meta, id)).blobs.size < 12);
  // The fetch's reads reach S3 every time, so "still reads them" is S3's doing.
  const store = s.open({ cache: false });
  try {
    const oldBytes = await Promise.all(old.map((e) => store.read(e.blob, e.position, e.length)));
    assert.equal(await s.broker.sweep(60_000), 0, "within the grace nothing goes");
    for (let i = 0; i < old.length; i++) {
      const again = await store.read(old[i].blob, old[i].position, old[i].length);
      assert.deepEqual(again, oldBytes[i]);
    }
    assert.equal(await s.broker.sweep(0), 12, "past the grace the old objects go");
    for (const e of old) await assert.rejects(() => store.read(e.blob, e.position, e.length));
    assert.deepEqual(await readAll(s.c, topic), before);
  } finally {
    await store.close();
  }
});

Deno.test("a produce or a DeleteRecords racing the swap loses and duplicates nothing", async (t) => {
  await using s = await s3Broker();
  const meta = s.broker.context.meta;
  const hooked = new HookedLog(s.broker.context.log);
  const consolidator = new ObjectConsolidator({ meta, log: hooked, owner: "test" }, {
    ...OPTS,
    targetBytes: 1 << 20,
  });

  await t.step("produce", async () => {
    const id = await createTopic(s.c, "racing-produce", 1);
    const topic = { name: "racing-produce", id };
    for (let i = 0; i < 10; i++) await produce(s.c, topic.name, i * 5, 5);
    const before = await readAll(s.c, topic);
    let added: [number, string][] = [];
    hooked.onWrite = async () => {
      for (let i = 10; i < 14; i++) await produce(s.c, topic.name, i * 5, 5);
      added = (await readAll(s.c, topic)).slice(10);
    };
    const done = await consolidator.consolidatePartition(
      (await meta.getTopic(topic.name))!,
      0,
    );
    assert.ok(done?.completed, "new batches at the head do not touch the run");
    const after = await readAll(s.c, topic);
    assert.equal(added.length, 4);
    assert.deepEqual(after, [...before, ...added], "every batch once, at its offset");
    const { blobs } = await blobsOf(meta, id);
    assert.equal(blobs.size, 1 + 4, "the run in one object, the new flushes in theirs");
  });

  await t.step("DeleteRecords", async () => {
    const id = await createTopic(s.c, "racing-delete", 1);
    const topic = { name: "racing-delete", id };
    for (let i = 0; i < 10; i++) await produce(s.c, topic.name, i * 5, 5);
    const before = await readAll(s.c, topic);
    hooked.onWrite = async () => {
      assert.equal(await meta.advanceLogStart(id, 0, 12), 12);
    };
    const info = (await meta.getTopic(topic.name))!;
    const done = await consolidator.consolidatePartition(info, 0);
    assert.equal(done?.completed, false, "the run's first entries went: the swap is refused");
    assert.equal(done?.runs, 0);
    const kept = before.filter(([base]) => base + 4 >= 12);
    assert.deepEqual(await readAll(s.c, topic, 0, 12), kept, "the log as DeleteRecords left it");
    assert.equal((await blobsOf(meta, id)).blobs.size, kept.length);
    // The next pass consolidates what is left.
    const next = await consolidator.consolidatePartition(info, 0);
    assert.ok(next?.completed);
    assert.equal((await blobsOf(meta, id)).blobs.size, 1);
    assert.deepEqual(await readAll(s.c, topic, 0, 12), kept);
    assert.equal((await meta.partitionState(id, 0))!.logStartOffset, 12);
  });
});

Deno.test("two brokers sharing the stores never consolidate one partition at once", async () => {
  const meta = new MemoryMetaStore();
  await using s = await s3Broker(meta);
  await using other = await testBroker({
    meta,
    log: s.open(),
    cleanerIntervalMs: 0,
    consolidateIntervalMs: 0,
  });
  const id = await createTopic(s.c, "shared", 3);
  const topic = { name: "shared", id };
  for (let i = 0; i < 8; i++) await produce(s.c, "shared", i * 5, 5, 3);
  const before = await Promise.all([0, 1, 2].map((p) => readAll(s.c, topic, p)));
  const logA = new HookedLog(s.broker.context.log);
  const logB = new HookedLog(other.context.log);
  const big = { ...OPTS, targetBytes: 1 << 20 };
  const a = new ObjectConsolidator({ meta: s.broker.context.meta, log: logA, owner: "a" }, big);
  const b = new ObjectConsolidator({ meta: other.context.meta, log: logB, owner: "b" }, big);
  const info = (await meta.getTopic("shared"))!;

  // While A copies partition 0, B's pass leaves it alone and takes the others.
  let duringA: Awaited<ReturnType<typeof b.runOnce>> = [];
  logA.onWrite = async () => {
    duringA = await b.runOnce();
  };
  const byA = await a.consolidatePartition(info, 0);
  assert.ok(byA?.completed);
  assert.deepEqual(duringA.map((r) => r.partition).sort(), [1, 2]);
  assert.ok(duringA.every((r) => r.completed));

  // And the other way round: the cleaner's lease is the same one.
  for (let i = 8; i < 16; i++) await produce(s.c, "shared", i * 5, 5, 3);
  const claimed = await meta.claimCleaning(id, 1, "a-cleaner", Date.now(), 30_000);
  assert.ok(claimed);
  const passes = await Promise.all([a.runOnce(), b.runOnce()]);
  // A pass that lost the race for a partition may find its run changed (a refused
  // swap, nothing done); only one pass ever swaps a partition.
  const touched = passes.flat().filter((r) => r.runs > 0).map((r) => r.partition).sort();
  assert.deepEqual(touched, [0, 2], "each free partition once, the claimed one by nobody");
  await meta.releaseCleaning(id, 1, "a-cleaner");

  for (let p = 0; p < 3; p++) {
    const all = await readAll(s.c, topic, p);
    assert.deepEqual(all.slice(0, 8), before[p]);
    assert.equal(all.length, 16);
    assert.deepEqual(all.map(([o]) => o), Array.from({ length: 16 }, (_, i) => i * 5));
  }
});
