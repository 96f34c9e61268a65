import assert from "node:assert/strict";
import { metaStoreConformance } from "../meta_conformance.ts";
import { type RedisServer, startRedisServer } from "../../tests/servers/redis_server.ts";
import { RedisMetaStore } from "./redis.ts";
import { openMetaStore } from "../registry.ts";
import type { BatchToCommit } from "../types.ts";

// Each test gets its own redis-server (it starts in a few milliseconds), so
// nothing is left running when a test fails or is filtered out.
let server: RedisServer | null = null;
metaStoreConformance("redis", {
  open: async () => {
    server = await startRedisServer();
    return openMetaStore(server.url(3, "conf:"));
  },
  reopen: () => Promise.resolve(openMetaStore(server!.url(3, "conf:"))),
  second: () => Promise.resolve(openMetaStore(server!.url(3, "conf:"))),
  cleanup: async () => {
    await server?.[Symbol.asyncDispose]();
    server = null;
  },
});

function batch(topicId: string, over: Partial<BatchToCommit> = {}): BatchToCommit {
  return {
    topicId,
    partition: 0,
    position: 0,
    length: 10,
    recordCount: 1,
    baseTimestamp: 0,
    maxTimestamp: 0,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    isTransactional: false,
    ...over,
  };
}

Deno.test("redis meta store: two connections committing concurrently never assign the same offset", async () => {
  await using redis = await startRedisServer();
  const a = new RedisMetaStore(redis.url());
  const b = new RedisMetaStore(redis.url());
  try {
    const t = (await a.createTopic({ name: "t", partitions: 2, configs: {} }))!;
    const idA = await a.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 1,
      producerId: -1,
      producerEpoch: -1,
    });
    const idB = await b.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 1,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.notEqual(idA.producerId, idB.producerId);
    // 2 stores x 100 flushes x 3 batches, all in flight at once.
    const flushes = (s: RedisMetaStore, name: string) =>
      Array.from({ length: 100 }, (_, i) =>
        s.commitBatches(`${name}-${i}`, [
          batch(t.id, { recordCount: 2 }),
          batch(t.id, { partition: 1, recordCount: 3 }),
          batch(t.id, { recordCount: 1 }),
        ]));
    const results = (await Promise.all([...flushes(a, "a"), ...flushes(b, "b")])).flat();
    for (const partition of [0, 1]) {
      const sizes = partition === 0 ? [2, 1] : [3];
      const got = results.filter((_, i) => (i % 3 === 1) === (partition === 1));
      assert.ok(got.every((r) => r.errorCode === 0));
      const starts = got.map((r) => r.baseOffset).sort((x, y) => x - y);
      assert.equal(new Set(starts).size, starts.length, "an offset was assigned twice");
      const total = 200 * sizes.reduce((x, y) => x + y, 0);
      assert.equal((await a.partitionState(t.id, partition))!.highWatermark, total);
      // The index covers 0..total-1 with no gap and no overlap.
      const idx = await b.readIndex(t.id, partition, 0, 1 << 30);
      let next = 0;
      for (const e of idx) {
        assert.equal(e.baseOffset, next);
        next = e.lastOffset + 1;
      }
      assert.equal(next, total);
    }
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("redis meta store: idempotence across connections: a retry through another broker is a duplicate", async () => {
  await using redis = await startRedisServer();
  const a = new RedisMetaStore(redis.url());
  const b = new RedisMetaStore(redis.url());
  try {
    const t = (await a.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const id = await a.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 1,
      producerId: -1,
      producerEpoch: -1,
    });
    const p = { producerId: id.producerId, producerEpoch: id.producerEpoch };
    // Six batches: the first falls out of the last-five window.
    for (let i = 0; i < 6; i++) {
      const [r] = await a.commitBatches(`a${i}`, [
        batch(t.id, { ...p, baseSequence: i * 2, recordCount: 2 }),
      ]);
      assert.deepEqual([r.errorCode, r.baseOffset, r.duplicate], [0, i * 2, false]);
    }
    const [retry] = await b.commitBatches("b", [
      batch(t.id, { ...p, baseSequence: 2, recordCount: 2 }),
    ]);
    assert.deepEqual([retry.errorCode, retry.baseOffset, retry.duplicate], [0, 2, true]);
    const [tooOld] = await b.commitBatches("c", [
      batch(t.id, { ...p, baseSequence: 0, recordCount: 2 }),
    ]);
    assert.equal(tooOld.errorCode, 45, "OUT_OF_ORDER_SEQUENCE_NUMBER past the last five");
    // A bumped epoch must restart at sequence 0 (KIP-360).
    const bumped = { ...p, producerEpoch: p.producerEpoch + 1 };
    const [bad] = await b.commitBatches("d", [batch(t.id, { ...bumped, baseSequence: 12 })]);
    assert.equal(bad.errorCode, 45);
    const [good] = await b.commitBatches("e", [batch(t.id, { ...bumped, baseSequence: 0 })]);
    assert.deepEqual([good.errorCode, good.baseOffset], [0, 12]);
    const [fenced] = await a.commitBatches("f", [batch(t.id, { ...p, baseSequence: 12 })]);
    assert.equal(fenced.errorCode, 47, "INVALID_PRODUCER_EPOCH for the old epoch");
    // In one flush: a batch and its retry; the retry is a duplicate of the first.
    const [x, y] = await a.commitBatches("g", [
      batch(t.id, { ...bumped, baseSequence: 1, recordCount: 3 }),
      batch(t.id, { ...bumped, baseSequence: 1, recordCount: 3 }),
    ]);
    assert.deepEqual([x.baseOffset, x.duplicate, y.baseOffset, y.duplicate], [13, false, 13, true]);
    assert.deepEqual(
      await a.referencedBlobs(),
      new Set(["a0", "a1", "a2", "a3", "a4", "a5", "e", "g"]),
    );
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("redis meta store: readIndex, timestamps and log start stay right over many entries", async () => {
  await using redis = await startRedisServer();
  const s = new RedisMetaStore(redis.url());
  try {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    // 300 batches of 2 records; max timestamps go up and down.
    const ts = (i: number) => 1000 + ((i * 37) % 101) * 10;
    const batches = Array.from(
      { length: 300 },
      (_, i) =>
        batch(t.id, { recordCount: 2, length: 100, position: i * 100, maxTimestamp: ts(i) }),
    );
    await s.commitBatches("big", batches.slice(0, 150));
    await s.commitBatches("big2", batches.slice(150));
    const idx = await s.readIndex(t.id, 0, 401, 1000);
    assert.deepEqual(idx.map((e) => e.baseOffset), [
      400,
      402,
      404,
      406,
      408,
      410,
      412,
      414,
      416,
      418,
    ]);
    assert.equal(idx[0].blob, "big2");
    assert.equal(idx[0].position, 200 * 100);
    const firstAtLeast = (target: number, from: number) => {
      for (let i = from; i < 300; i++) if (ts(i) >= target) return i * 2;
      return null;
    };
    for (const target of [0, 1000, 1500, 1990, 2000, 2001]) {
      assert.equal(
        (await s.findByTimestamp(t.id, 0, target))?.baseOffset ?? null,
        firstAtLeast(target, 0),
      );
    }
    assert.equal((await s.maxTimestampEntry(t.id, 0))?.maxTimestamp, 2000);
    // Truncate into the middle: the timestamp index must forget what is gone.
    assert.equal(await s.advanceLogStart(t.id, 0, 301), 301);
    for (const target of [0, 1000, 1500, 1990, 2000]) {
      assert.equal(
        (await s.findByTimestamp(t.id, 0, target))?.baseOffset ?? null,
        firstAtLeast(target, 150),
        `ts ${target}`,
      );
    }
    const maxAfter = Math.max(...Array.from({ length: 150 }, (_, i) => ts(150 + i)));
    const e = await s.maxTimestampEntry(t.id, 0);
    assert.equal(e?.maxTimestamp, maxAfter);
    assert.equal((await s.readIndex(t.id, 0, 0, 1))[0].baseOffset, 300);
    assert.deepEqual(await s.referencedBlobs(), new Set(["big2"]));
    assert.equal(await s.deleteTopic("t"), true);
    assert.deepEqual(await s.referencedBlobs(), new Set());
  } finally {
    await s.close();
  }
});

Deno.test("redis meta store: fails while the server is down and works again once it is back", async () => {
  await using redis = await startRedisServer();
  const s = new RedisMetaStore(redis.url(), { commandTimeoutMs: 2000, connectTimeoutMs: 1000 });
  try {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    await s.commitBatches("x", [batch(t.id, { recordCount: 5 })]);
    await redis.stop();
    const started = Date.now();
    await assert.rejects(() => s.commitBatches("y", [batch(t.id)]));
    await assert.rejects(() => s.ping());
    assert.ok(Date.now() - started < 10000, "a failure must come quickly");
    await redis.start();
    // The reconnect happens in the background; the script cache is empty now (EVAL fallback).
    const deadline = Date.now() + 10000;
    for (;;) {
      try {
        await s.ping();
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const [r] = await s.commitBatches("z", [batch(t.id)]);
    assert.deepEqual([r.errorCode, r.baseOffset], [0, 5]);
  } finally {
    await s.close();
  }
});

Deno.test("redis meta store: keys carry the prefix, so two clusters can share a database", async () => {
  await using redis = await startRedisServer();
  const a = openMetaStore(redis.url(0, "one:"));
  const b = openMetaStore(redis.url(0, "two:"));
  try {
    await a.createTopic({ name: "t", partitions: 1, configs: {} });
    assert.equal(await b.getTopic("t"), null);
    assert.equal(await a.clusterId("A"), "A");
    assert.equal(await b.clusterId("B"), "B");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("redis meta store: producer states written before transactions still deduplicate and can open one", async () => {
  await using redis = await startRedisServer();
  const s = openMetaStore(redis.url(0, "old:"));
  const { Redis } = await import("ioredis");
  const raw = new Redis(redis.url(0, "old:").replace(/\?.*$/, ""));
  try {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const p = { producerId: 1000, producerEpoch: 0 };
    await s.commitBatches("a", [batch(t.id, { ...p, baseSequence: 0, recordCount: 10 })]);
    // The state as the scripts wrote it before transactions: no ";txnStart,lastTimestamp".
    await raw.hset(`old:pp:${t.id}:0`, "1000", "0,9,0,9,0");
    assert.deepEqual(await s.producerStates(t.id, 0), [{
      producerId: 1000,
      producerEpoch: 0,
      lastSequence: 9,
      lastTimestamp: -1,
      currentTxnStartOffset: -1,
    }]);
    const retry = await s.commitBatches("b", [
      batch(t.id, { ...p, baseSequence: 0, recordCount: 10 }),
    ]);
    assert.deepEqual([retry[0].duplicate, retry[0].baseOffset], [true, 0]);
    await s.commitBatches("c", [
      batch(t.id, { ...p, baseSequence: 10, recordCount: 5, isTransactional: true }),
    ]);
    assert.deepEqual(await s.partitionState(t.id, 0), {
      logStartOffset: 0,
      highWatermark: 15,
      lastStableOffset: 10,
    });
    assert.equal(await raw.hget(`old:pp:${t.id}:0`, "1000"), "0,14,0,9,0,10,14,10;10,0");
  } finally {
    raw.disconnect();
    await s.close();
  }
});
