/**
 * The contract every MetaStore backend must keep, as one suite each backend's
 * test file runs (`metaStoreConformance("sqlite", open)`).
 */

import assert from "node:assert/strict";
import { ErrorCode } from "../protocol/errors.ts";
import type { BatchToCommit, MetaStore } from "./types.ts";

/** Opens a fresh, empty store; `reopen` (when the backend is durable) opens the same data again. */
export interface MetaStoreFactory {
  open(): Promise<MetaStore>;
  reopen?: (previous: MetaStore) => Promise<MetaStore>;
  cleanup?: () => Promise<void>;
}

/** A batch of 10 records for a commit, with `over` changing any field (also for backend tests). */
export function batch(
  topicId: string,
  partition: number,
  over: Partial<BatchToCommit> = {},
): BatchToCommit {
  return {
    topicId,
    partition,
    position: 0,
    length: 100,
    recordCount: 10,
    baseTimestamp: 1000,
    maxTimestamp: 1009,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    isTransactional: false,
    ...over,
  };
}

/** Runs the meta store contract against one backend. */
export function metaStoreConformance(name: string, factory: MetaStoreFactory): void {
  groupConformance(name, factory);
  const test = (what: string, fn: (s: MetaStore) => Promise<void>) =>
    Deno.test(`${name} meta store: ${what}`, async () => {
      const s = await factory.open();
      try {
        await fn(s);
      } finally {
        await s.close();
        await factory.cleanup?.();
      }
    });

  test("creates, lists, finds and deletes topics", async (s) => {
    const t = await s.createTopic({
      name: "orders",
      partitions: 3,
      configs: { "retention.ms": "1000" },
    });
    assert.ok(t);
    assert.equal(t.partitions, 3);
    assert.equal(await s.createTopic({ name: "orders", partitions: 1, configs: {} }), null);
    assert.deepEqual((await s.getTopic("orders"))?.configs, { "retention.ms": "1000" });
    assert.equal((await s.getTopicById(t.id))?.name, "orders");
    assert.deepEqual((await s.listTopics()).map((x) => x.name), ["orders"]);
    assert.equal(await s.deleteTopic("orders"), true);
    assert.equal(await s.deleteTopic("orders"), false);
    assert.equal(await s.getTopic("orders"), null);
    assert.equal(await s.partitionState(t.id, 0), null);
  });

  test("keeps the first cluster id", async (s) => {
    assert.equal(await s.clusterId("first"), "first");
    assert.equal(await s.clusterId("second"), "first");
  });

  test("assigns contiguous offsets per partition in commit order", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 2, configs: {} }))!;
    const r1 = await s.commitBatches("blob-1", [
      batch(t.id, 0, { position: 0 }),
      batch(t.id, 1, { position: 100, recordCount: 5 }),
      batch(t.id, 0, { position: 200, recordCount: 3 }),
    ]);
    assert.deepEqual(r1.map((r) => [r.errorCode, r.baseOffset]), [[0, 0], [0, 0], [0, 10]]);
    const r2 = await s.commitBatches("blob-2", [batch(t.id, 0)]);
    assert.equal(r2[0].baseOffset, 13);
    assert.deepEqual(await s.partitionState(t.id, 0), {
      logStartOffset: 0,
      highWatermark: 23,
      lastStableOffset: 23,
    });
    const idx = await s.readIndex(t.id, 0, 11, 1 << 20);
    assert.deepEqual(idx.map((e) => [e.baseOffset, e.lastOffset, e.blob, e.position]), [
      [10, 12, "blob-1", 200],
      [13, 22, "blob-2", 0],
    ]);
    // At least one entry even when it is larger than maxBytes (KIP-74).
    assert.equal((await s.readIndex(t.id, 0, 0, 1)).length, 1);
    assert.deepEqual(await s.referencedBlobs(), new Set(["blob-1", "blob-2"]));
  });

  test("refuses batches for unknown partitions without touching others", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const r = await s.commitBatches("b", [
      batch(t.id, 5),
      batch("AAAAAAAAAAAAAAAAAAAAAg", 0),
      batch(t.id, 0),
    ]);
    assert.deepEqual(r.map((x) => x.errorCode), [
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.NONE,
    ]);
  });

  test("acknowledges a retried idempotent batch with its original offset, stored once", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const id = await s.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 60000,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.equal(id.errorCode, 0);
    const p = { producerId: id.producerId, producerEpoch: id.producerEpoch };
    const first = await s.commitBatches("a", [
      batch(t.id, 0, { ...p, baseSequence: 0, recordCount: 10 }),
    ]);
    const second = await s.commitBatches("b", [
      batch(t.id, 0, { ...p, baseSequence: 10, recordCount: 10 }),
    ]);
    const retry = await s.commitBatches("c", [
      batch(t.id, 0, { ...p, baseSequence: 0, recordCount: 10 }),
    ]);
    assert.equal(first[0].baseOffset, 0);
    assert.equal(second[0].baseOffset, 10);
    assert.equal(retry[0].errorCode, 0);
    assert.equal(retry[0].duplicate, true);
    assert.equal(retry[0].baseOffset, 0);
    assert.equal((await s.partitionState(t.id, 0))!.highWatermark, 20);
    assert.ok(!(await s.referencedBlobs()).has("c"));

    const gap = await s.commitBatches("d", [
      batch(t.id, 0, { ...p, baseSequence: 25, recordCount: 1 }),
    ]);
    assert.equal(gap[0].errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);

    const stale = await s.commitBatches("e", [
      batch(t.id, 0, { ...p, producerEpoch: p.producerEpoch - 1, baseSequence: 20 }),
    ]);
    assert.equal(stale[0].errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal((await s.partitionState(t.id, 0))!.highWatermark, 20);
  });

  test("hands out distinct producer ids and bumps epochs (KIP-360)", async (s) => {
    const a = await s.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 1,
      producerId: -1,
      producerEpoch: -1,
    });
    const b = await s.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 1,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.notEqual(a.producerId, b.producerId);
    const bumped = await s.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 1,
      producerId: a.producerId,
      producerEpoch: a.producerEpoch,
    });
    assert.deepEqual([bumped.producerId, bumped.producerEpoch], [
      a.producerId,
      a.producerEpoch + 1,
    ]);
    const wrong = await s.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 1,
      producerId: a.producerId,
      producerEpoch: 0,
    });
    assert.equal(wrong.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    const tx1 = await s.initProducerId({
      transactionalId: "tx",
      transactionTimeoutMs: 1,
      producerId: -1,
      producerEpoch: -1,
    });
    const tx2 = await s.initProducerId({
      transactionalId: "tx",
      transactionTimeoutMs: 1,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.equal(tx2.producerId, tx1.producerId);
    assert.equal(tx2.producerEpoch, tx1.producerEpoch + 1);
  });

  test("finds offsets by timestamp and the max timestamp", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    await s.commitBatches("b", [
      batch(t.id, 0, { maxTimestamp: 100 }),
      batch(t.id, 0, { maxTimestamp: 300 }),
      batch(t.id, 0, { maxTimestamp: 200 }),
    ]);
    assert.equal((await s.findByTimestamp(t.id, 0, 150))?.baseOffset, 10);
    assert.equal(await s.findByTimestamp(t.id, 0, 301), null);
    assert.equal((await s.maxTimestampEntry(t.id, 0))?.baseOffset, 10);
  });

  test("moves the log start forward and drops what lies wholly before it", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    await s.commitBatches("x", [batch(t.id, 0)]);
    await s.commitBatches("y", [batch(t.id, 0)]);
    assert.equal(await s.advanceLogStart(t.id, 0, 15), 15);
    assert.equal(await s.advanceLogStart(t.id, 0, 5), 15);
    assert.equal(await s.advanceLogStart(t.id, 0, 99), 20);
    assert.deepEqual(await s.referencedBlobs(), new Set());
  });

  test("counts each partition's batch bytes from the log start to the high watermark", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 3, configs: {} }))!;
    assert.deepEqual(await s.partitionSizes(t.id, 3), [0, 0, 0]);
    await s.commitBatches("x", [
      batch(t.id, 0, { length: 100 }),
      batch(t.id, 1, { position: 100, length: 40 }),
      batch(t.id, 0, { position: 140, length: 250 }),
    ]);
    await s.commitBatches("y", [batch(t.id, 0, { length: 7 })]);
    assert.deepEqual(await s.partitionSizes(t.id, 3), [357, 40, 0]);
    // A retried idempotent batch is stored once, so it is counted once.
    const id = await s.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 60000,
      producerId: -1,
      producerEpoch: -1,
    });
    const idem = batch(t.id, 2, {
      length: 33,
      producerId: id.producerId,
      producerEpoch: id.producerEpoch,
      baseSequence: 0,
    });
    await s.commitBatches("z", [idem]);
    await s.commitBatches("z2", [idem]);
    assert.deepEqual(await s.partitionSizes(t.id, 3), [357, 40, 33]);
    // Past the first batch (offsets 0-9): it goes, the one holding offset 15 stays whole.
    assert.equal(await s.advanceLogStart(t.id, 0, 15), 15);
    assert.deepEqual(await s.partitionSizes(t.id, 3), [257, 40, 33]);
    assert.equal(await s.advanceLogStart(t.id, 0, 30), 30);
    assert.deepEqual(await s.partitionSizes(t.id, 3), [0, 40, 33]);
    // Partitions past the topic's count, and unknown or deleted topics, hold nothing.
    assert.deepEqual(await s.partitionSizes(t.id, 4), [0, 40, 33, 0]);
    assert.deepEqual(await s.partitionSizes("AAAAAAAAAAAAAAAAAAAAAg", 2), [0, 0]);
    const grown = await s.createPartitions("t", 4);
    await s.commitBatches("w", [batch(grown!.id, 3, { length: 5 })]);
    assert.deepEqual(await s.partitionSizes(t.id, 4), [0, 40, 33, 5]);
    assert.equal(await s.deleteTopic("t"), true);
    assert.deepEqual(await s.partitionSizes(t.id, 4), [0, 0, 0, 0]);
  });

  test("grows partitions and replaces configs", async (s) => {
    await s.createTopic({ name: "t", partitions: 1, configs: {} });
    const grown = await s.createPartitions("t", 4);
    assert.equal(grown?.partitions, 4);
    const state = await s.partitionState(grown!.id, 3);
    assert.equal(state?.highWatermark, 0);
    assert.equal(await s.setTopicConfigs("t", { "retention.ms": "5" }), true);
    assert.deepEqual((await s.getTopic("t"))?.configs, { "retention.ms": "5" });
    assert.equal(await s.createPartitions("nope", 4), null);
  });

  test("concurrent commits never assign the same offset", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => s.commitBatches(`b${i}`, [batch(t.id, 0, { recordCount: 1 })]),
      ),
    );
    const offsets = results.map((r) => r[0].baseOffset).sort((a, b) => a - b);
    assert.deepEqual(offsets, Array.from({ length: 20 }, (_, i) => i));
  });

  test("entity configs: set, removed, listed by type and name, swapped by version", async (s) => {
    assert.deepEqual(await s.entityConfigs("brokers", null), []);
    assert.deepEqual(await s.entityConfigs("brokers", [""]), []);
    const d = await s.alterEntityConfigs("brokers", "", { "log.retention.ms": "1000" });
    assert.deepEqual(d, { name: "", version: 1, configs: { "log.retention.ms": "1000" } });
    const b = await s.alterEntityConfigs("brokers", "1", {
      "message.max.bytes": "2048",
      "num.partitions": "3",
      "never.set": null,
    });
    assert.deepEqual(b?.configs, { "message.max.bytes": "2048", "num.partitions": "3" });
    const quoted = 'odd "name"/\\ é';
    await s.alterEntityConfigs("groups", quoted, { "consumer.session.timeout.ms": "50000" });
    // Types are apart; null lists every configured entity of a type, by name.
    assert.deepEqual((await s.entityConfigs("brokers", null)).map((e) => e.name), ["", "1"]);
    assert.deepEqual(await s.entityConfigs("groups", [quoted, "nope"]), [
      { name: quoted, version: 1, configs: { "consumer.session.timeout.ms": "50000" } },
    ]);
    assert.deepEqual(await s.entityConfigs("quotas", null), []);
    // One change sets and removes at once; the version rises by one.
    const b2 = await s.alterEntityConfigs("brokers", "1", {
      "message.max.bytes": null,
      "num.partitions": "4",
    });
    assert.deepEqual(b2, { name: "1", version: 2, configs: { "num.partitions": "4" } });
    // Compare-and-set: a stale version changes nothing.
    assert.equal(await s.alterEntityConfigs("brokers", "1", { "num.partitions": "9" }, 1), null);
    assert.equal(await s.alterEntityConfigs("brokers", "2", { "num.partitions": "9" }, 1), null);
    const b3 = await s.alterEntityConfigs("brokers", "1", { "num.partitions": "5" }, 2);
    assert.equal(b3?.version, 3);
    assert.deepEqual((await s.entityConfigs("brokers", ["1"]))[0].configs, {
      "num.partitions": "5",
    });
    // Removing the last config forgets the entity (version back to 0).
    assert.deepEqual(await s.alterEntityConfigs("brokers", "1", { "num.partitions": null }), {
      name: "1",
      version: 0,
      configs: {},
    });
    assert.deepEqual((await s.entityConfigs("brokers", null)).map((e) => e.name), [""]);
    assert.equal(
      (await s.alterEntityConfigs("brokers", "1", { "num.partitions": "6" }, 0))?.version,
      1,
    );
  });

  test("entity config changes made at once are all kept", async (s) => {
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => s.alterEntityConfigs("quotas", "e", { [`k${i}`]: `${i}` }),
      ),
    );
    const [e] = await s.entityConfigs("quotas", ["e"]);
    assert.equal(e.version, 20);
    assert.equal(Object.keys(e.configs).length, 20);
  });

  if (factory.reopen) {
    const reopen = factory.reopen;
    Deno.test(`${name} meta store: keeps everything across a reopen`, async () => {
      const s = await factory.open();
      const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
      await s.commitBatches("b", [batch(t.id, 0)]);
      await s.alterEntityConfigs("brokers", "", { "log.retention.ms": "5" });
      await s.alterEntityConfigs("brokers", "", { "num.partitions": "2" }, 1);
      await s.close();
      const again = await reopen(s);
      try {
        assert.equal((await again.getTopic("t"))?.id, t.id);
        assert.equal((await again.partitionState(t.id, 0))?.highWatermark, 10);
        assert.deepEqual(await again.partitionSizes(t.id, 1), [100]);
        assert.deepEqual(await again.entityConfigs("brokers", [""]), [
          { name: "", version: 2, configs: { "log.retention.ms": "5", "num.partitions": "2" } },
        ]);
      } finally {
        await again.close();
        await factory.cleanup?.();
      }
    });
  }
}

/** The group and offset part of the contract (run by metaStoreConformance). */
export function groupConformance(name: string, factory: MetaStoreFactory): void {
  const test = (what: string, fn: (s: MetaStore) => Promise<void>) =>
    Deno.test(`${name} meta store: ${what}`, async () => {
      const s = await factory.open();
      try {
        await fn(s);
      } finally {
        await s.close();
        await factory.cleanup?.();
      }
    });

  test("group records change only by compare-and-set", async (s) => {
    assert.equal(await s.getGroup("g"), null);
    const v1 = await s.putGroup("g", 0, '{"a":1}');
    assert.equal(v1, 1);
    assert.equal(await s.putGroup("g", 0, '{"a":2}'), null, "creating twice must lose");
    const v2 = await s.putGroup("g", 1, '{"a":3}');
    assert.equal(v2, 2);
    assert.equal(await s.putGroup("g", 1, '{"a":4}'), null, "a stale version must lose");
    assert.deepEqual(await s.getGroup("g"), { version: 2, state: '{"a":3}' });
    assert.deepEqual((await s.listGroups()).map((g) => g.groupId), ["g"]);
  });

  test("two racing writers: exactly one wins each version", async (s) => {
    await s.putGroup("g", 0, "0");
    const results = await Promise.all([s.putGroup("g", 1, "a"), s.putGroup("g", 1, "b")]);
    assert.equal(results.filter((r) => r === 2).length, 1);
    assert.equal(results.filter((r) => r === null).length, 1);
  });

  test("broker leases: renewed, expired and ended", async (s) => {
    await s.registerBroker({ nodeId: 2, host: "b", port: 2, rack: null, expiresAtMs: 1000 });
    await s.registerBroker({ nodeId: 1, host: "a", port: 1, rack: "r1", expiresAtMs: 500 });
    assert.deepEqual((await s.liveBrokers(100)).map((b) => [b.nodeId, b.host, b.rack]), [[
      1,
      "a",
      "r1",
    ], [2, "b", null]]);
    assert.deepEqual((await s.liveBrokers(600)).map((b) => b.nodeId), [2]);
    await s.registerBroker({ nodeId: 1, host: "a2", port: 1, rack: null, expiresAtMs: 2000 });
    assert.deepEqual((await s.liveBrokers(1500)).map((b) => [b.nodeId, b.host]), [[1, "a2"]]);
    await s.unregisterBroker(1);
    assert.deepEqual(await s.liveBrokers(0), [{
      nodeId: 2,
      host: "b",
      port: 2,
      rack: null,
      expiresAtMs: 1000,
    }]);
  });

  test("heartbeat rows of members that are gone are forgotten, in that group only", async (s) => {
    await s.putGroup("g", 0, "{}");
    await s.touchMember("g", "m1", 10);
    await s.touchMember("g", "m2", 20);
    await s.touchMember("g", "m3", 30);
    await s.touchMember("other", "m1", 5);
    await s.forgetMembers("g", ["m1", "never-seen"]);
    assert.deepEqual(await s.memberHeartbeats("g"), new Map([["m2", 20], ["m3", 30]]));
    assert.deepEqual(await s.memberHeartbeats("other"), new Map([["m1", 5]]));
    await s.forgetMembers("g", []);
    await s.forgetMembers("no-such-group", ["m2"]);
    await s.forgetMembers("g", ["m2", "m3"]);
    assert.equal((await s.memberHeartbeats("g")).size, 0);
    // A member heard from again (a KIP-848 member rejoins under its id) has a row again.
    await s.touchMember("g", "m2", 40);
    assert.deepEqual(await s.memberHeartbeats("g"), new Map([["m2", 40]]));
  });

  test("committed offsets are kept with metadata and removed with the group", async (s) => {
    await s.putGroup("g", 0, "{}");
    const now = Date.now();
    await s.commitOffsets("g", [
      { topic: "t", partition: 0, offset: 5, leaderEpoch: -1, metadata: "m", commitTimestamp: now },
      { topic: "t", partition: 1, offset: 7, leaderEpoch: 3, metadata: null, commitTimestamp: now },
    ]);
    await s.commitOffsets("g", [
      { topic: "t", partition: 0, offset: 6, leaderEpoch: -1, metadata: "n", commitTimestamp: now },
    ]);
    const got = await s.fetchOffsets("g", [{ topic: "t", partition: 0 }, {
      topic: "t",
      partition: 9,
    }]);
    assert.deepEqual(got.map((o) => [o.partition, o.offset, o.metadata]), [[0, 6, "n"]]);
    assert.equal((await s.fetchOffsets("g", null)).length, 2);
    await s.deleteOffsets("g", [{ topic: "t", partition: 1 }]);
    assert.equal((await s.fetchOffsets("g", null)).length, 1);
    await s.touchMember("g", "m1", 42);
    assert.deepEqual(await s.memberHeartbeats("g"), new Map([["m1", 42]]));
    const v = (await s.getGroup("g"))!.version;
    assert.notEqual(await s.putGroup("g", v, null), null);
    assert.equal(await s.getGroup("g"), null);
    assert.equal((await s.fetchOffsets("g", null)).length, 0);
    assert.equal((await s.memberHeartbeats("g")).size, 0);
  });
}
