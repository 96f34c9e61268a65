/**
 * The contract every MetaStore backend must keep, as one suite each backend's
 * test file runs (`metaStoreConformance("sqlite", open)`).
 */

import assert from "node:assert/strict";
import { ErrorCode } from "../protocol/errors.ts";
import type { BatchToCommit, CommitResult, IndexEntry, MetaStore } from "./types.ts";

/** Opens a fresh, empty store; `reopen` (when the backend is durable) opens the same data again. */
export interface MetaStoreFactory {
  open(): Promise<MetaStore>;
  reopen?: (previous: MetaStore) => Promise<MetaStore>;
  /** Another store on the same data, open beside `first` (several brokers on one backend). */
  second?: (first: MetaStore) => Promise<MetaStore>;
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
  cleanerConformance(name, factory);
  transactionConformance(name, factory);
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
      await s.commitBatches("b2", [batch(t.id, 0, { maxTimestamp: 5 })]);
      assert.equal(await s.claimCleaning(t.id, 0, "cleaner-1", 1000, 60_000), true);
      const [first, second] = await s.readIndex(t.id, 0, 0, 1 << 20);
      const cleaned = { ...second, baseOffset: 15, blob: "b3", position: 0, length: 30 };
      assert.equal(
        await s.replaceIndexEntries(t.id, 0, "cleaner-1", 2000, [first, second], [cleaned], 20),
        true,
      );
      await s.close();
      const again = await reopen(s);
      try {
        assert.equal((await again.getTopic("t"))?.id, t.id);
        assert.equal((await again.partitionState(t.id, 0))?.highWatermark, 20);
        assert.deepEqual(await again.partitionSizes(t.id, 1), [30]);
        assert.deepEqual(await again.entityConfigs("brokers", [""]), [
          { name: "", version: 2, configs: { "log.retention.ms": "5", "num.partitions": "2" } },
        ]);
        // The cleaner's swap, progress and claim are kept too.
        assert.deepEqual(await again.readIndex(t.id, 0, 0, 1 << 20), [
          { baseOffset: 15, lastOffset: 19, blob: "b3", position: 0, length: 30, maxTimestamp: 5 },
        ]);
        assert.deepEqual(await again.cleanerState(t.id, 0), {
          cleanedThrough: 20,
          cleanBytes: 30,
          dirtyBytes: 0,
        });
        assert.deepEqual(await again.referencedBlobs(), new Set(["b3"]));
        assert.equal(await again.claimCleaning(t.id, 0, "cleaner-2", 3000, 1000), false);
        assert.equal(await again.claimCleaning(t.id, 0, "cleaner-1", 3000, 1000), true);
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

  test("share-partition records change only by compare-and-set, per group and partition", async (s) => {
    assert.equal(await s.getShareState("sg", "T1", 0), null);
    assert.deepEqual(await s.listShareStates("sg"), []);
    assert.equal(
      await s.putShareState("sg", "T1", 0, 1, "x"),
      null,
      "a missing record has version 0",
    );
    assert.equal(await s.putShareState("sg", "T1", 0, 0, '{"start":0}'), 1);
    assert.equal(await s.putShareState("sg", "T1", 0, 0, "y"), null, "creating twice must lose");
    assert.equal(await s.putShareState("sg", "T1", 0, 1, 'a|b {"start":5}'), 2);
    assert.equal(await s.putShareState("sg", "T1", 0, 1, "z"), null, "a stale version must lose");
    assert.deepEqual(await s.getShareState("sg", "T1", 0), {
      version: 2,
      state: 'a|b {"start":5}',
    });
    // Other partitions, topics and groups are other records; groups are another namespace.
    assert.equal(await s.putShareState("sg", "T1", 1, 0, "p1"), 1);
    assert.equal(await s.putShareState("sg", "T0", 3, 0, "t0"), 1);
    assert.equal(await s.putShareState("other", "T1", 0, 0, "o"), 1);
    assert.equal(await s.getGroup("sg"), null);
    assert.deepEqual(await s.listShareStates("sg"), [
      { topicId: "T0", partition: 3, share: { version: 1, state: "t0" } },
      { topicId: "T1", partition: 0, share: { version: 2, state: 'a|b {"start":5}' } },
      { topicId: "T1", partition: 1, share: { version: 1, state: "p1" } },
    ]);
    // Deleting takes a version too.
    assert.equal(await s.putShareState("sg", "T1", 0, 1, null), null);
    assert.equal(await s.putShareState("sg", "T1", 0, 2, null), 3);
    assert.equal(await s.getShareState("sg", "T1", 0), null);
    assert.deepEqual((await s.listShareStates("other")).length, 1);
    assert.equal(await s.putShareState("sg", "T1", 0, 0, "again"), 1);
  });

  test("two brokers racing to acquire from a share-partition: one wins each version", async (s) => {
    const other = factory.second ? await factory.second(s) : s;
    try {
      for (let v = 0; v < 5; v++) {
        const results = await Promise.all([
          s.putShareState("sg", "T", 0, v, `a${v}`),
          other.putShareState("sg", "T", 0, v, `b${v}`),
        ]);
        assert.equal(results.filter((r) => r === v + 1).length, 1, `version ${v}: ${results}`);
        assert.equal(results.filter((r) => r === null).length, 1);
        const winner = results[0] === null ? `b${v}` : `a${v}`;
        assert.deepEqual(await other.getShareState("sg", "T", 0), {
          version: v + 1,
          state: winner,
        });
      }
    } finally {
      if (other !== s) await other.close();
    }
  });
}

/** An index entry as the cleaner writes one. */
function entry(
  baseOffset: number,
  lastOffset: number,
  blob: string,
  position: number,
  length: number,
  maxTimestamp: number,
): IndexEntry {
  return { baseOffset, lastOffset, blob, position, length, maxTimestamp };
}

/** The log cleaner's part of the contract (KIP-58): claims, progress and swaps. */
export function cleanerConformance(name: string, factory: MetaStoreFactory): void {
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

  /** A topic whose partition 0 holds 0-9 and 10-19 in blob x, 20-29 and 30-39 in y, 40-49 in z. */
  const fiveBatches = async (s: MetaStore) => {
    const t = (await s.createTopic({ name: "c", partitions: 2, configs: {} }))!;
    await s.commitBatches("x", [
      batch(t.id, 0, { position: 0, maxTimestamp: 900 }),
      batch(t.id, 0, { position: 100, maxTimestamp: 500 }),
    ]);
    await s.commitBatches("y", [
      batch(t.id, 0, { position: 0, maxTimestamp: 200 }),
      batch(t.id, 0, { position: 100, maxTimestamp: 300 }),
    ]);
    await s.commitBatches("z", [batch(t.id, 0, { position: 0, maxTimestamp: 600 })]);
    return t;
  };

  test("cleaning claims: one owner at a time, renewed, released, expired", async (s) => {
    const t = (await s.createTopic({ name: "c", partitions: 1, configs: {} }))!;
    assert.equal(await s.cleaningLease(t.id, 0), null, "nobody holds a new partition");
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1000, 500), true);
    assert.deepEqual(await s.cleaningLease(t.id, 0), { owner: "a", untilMs: 1500 });
    assert.equal(await s.claimCleaning(t.id, 0, "b", 1200, 500), false);
    // Renewed by its owner: until 1800 now.
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1300, 500), true);
    assert.deepEqual(await s.cleaningLease(t.id, 0), { owner: "a", untilMs: 1800 });
    assert.equal(await s.claimCleaning(t.id, 0, "b", 1799, 500), false);
    // Expired: the other owner takes over, and the first is refused.
    assert.equal(await s.claimCleaning(t.id, 0, "b", 1800, 500), true);
    assert.deepEqual(await s.cleaningLease(t.id, 0), { owner: "b", untilMs: 2300 });
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1900, 500), false);
    // Releasing another owner's claim does nothing; releasing one's own frees it.
    await s.releaseCleaning(t.id, 0, "a");
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1900, 500), false);
    await s.releaseCleaning(t.id, 0, "b");
    assert.equal(await s.cleaningLease(t.id, 0), null, "released");
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1900, 500), true);
    // Unknown partitions and topics cannot be claimed and have no state.
    assert.equal(await s.claimCleaning(t.id, 3, "a", 1900, 500), false);
    assert.equal(await s.claimCleaning("AAAAAAAAAAAAAAAAAAAAAg", 0, "a", 1900, 500), false);
    assert.equal(await s.cleanerState(t.id, 3), null);
    assert.equal(await s.cleanerState("AAAAAAAAAAAAAAAAAAAAAg", 0), null);
    assert.equal(await s.cleaningLease(t.id, 3), null);
    assert.equal(await s.cleaningLease("AAAAAAAAAAAAAAAAAAAAAg", 0), null);
    await s.releaseCleaning("AAAAAAAAAAAAAAAAAAAAAg", 0, "a");
  });

  test("a swap drops, shrinks and keeps entries; every read sees it at once", async (s) => {
    const t = await fiveBatches(s);
    assert.deepEqual(await s.cleanerState(t.id, 0), {
      cleanedThrough: 0,
      cleanBytes: 0,
      dirtyBytes: 500,
    });
    assert.deepEqual(await s.cleanerState(t.id, 1), {
      cleanedThrough: 0,
      cleanBytes: 0,
      dirtyBytes: 0,
    });
    const before = await s.partitionState(t.id, 0);
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1000, 10_000), true);
    const expected = (await s.readIndex(t.id, 0, 0, 1 << 20)).slice(0, 4);
    assert.deepEqual(expected.map((e) => e.baseOffset), [0, 10, 20, 30]);
    // 0-9 and 20-29 go, 10-19 shrinks to 15-19 in a new blob, 30-39 stays as it was.
    const shrunk = entry(15, 19, "c1", 0, 40, 450);
    assert.equal(
      await s.replaceIndexEntries(t.id, 0, "a", 2000, expected, [shrunk, expected[3]], 40),
      true,
    );
    assert.deepEqual(await s.partitionState(t.id, 0), before);
    const kept = entry(30, 39, "y", 100, 100, 300);
    const last = entry(40, 49, "z", 0, 100, 600);
    assert.deepEqual(await s.readIndex(t.id, 0, 0, 1 << 20), [shrunk, kept, last]);
    // From inside a gap: the next entry; from inside an entry: that entry.
    assert.deepEqual(await s.readIndex(t.id, 0, 22, 1 << 20), [kept, last]);
    assert.deepEqual(await s.readIndex(t.id, 0, 3, 1 << 20), [shrunk, kept, last]);
    assert.deepEqual(await s.readIndex(t.id, 0, 17, 1), [shrunk]);
    assert.deepEqual(await s.readIndex(t.id, 0, 45, 1 << 20), [last]);
    assert.deepEqual(await s.partitionSizes(t.id, 2), [240, 0]);
    // x is no longer referenced; y still is (by the entry kept); c1 now is.
    assert.deepEqual(await s.referencedBlobs(), new Set(["c1", "y", "z"]));
    // 0-9 held the greatest timestamp (900); now it is 40-49's.
    assert.deepEqual(await s.maxTimestampEntry(t.id, 0), last);
    assert.deepEqual(await s.findByTimestamp(t.id, 0, 100), shrunk);
    assert.deepEqual(await s.findByTimestamp(t.id, 0, 450), shrunk);
    assert.deepEqual(await s.findByTimestamp(t.id, 0, 451), last);
    assert.equal(await s.findByTimestamp(t.id, 0, 601), null);
    assert.deepEqual(await s.cleanerState(t.id, 0), {
      cleanedThrough: 40,
      cleanBytes: 140,
      dirtyBytes: 100,
    });
    // A second swap raises a timestamp past a later entry's, and never moves cleanedThrough back.
    const later = entry(15, 19, "c2", 0, 30, 700);
    assert.equal(await s.replaceIndexEntries(t.id, 0, "a", 2000, [shrunk], [later], 10), true);
    assert.deepEqual(await s.maxTimestampEntry(t.id, 0), later);
    assert.deepEqual(await s.findByTimestamp(t.id, 0, 650), later);
    assert.equal(await s.findByTimestamp(t.id, 0, 701), null);
    assert.deepEqual(await s.referencedBlobs(), new Set(["c2", "y", "z"]));
    assert.deepEqual(await s.cleanerState(t.id, 0), {
      cleanedThrough: 40,
      cleanBytes: 130,
      dirtyBytes: 100,
    });
    // Commits land in the dirty part; an empty swap moves cleanedThrough alone (at most to the
    // high watermark).
    await s.commitBatches("w", [batch(t.id, 0, { maxTimestamp: 50 })]);
    assert.deepEqual(await s.cleanerState(t.id, 0), {
      cleanedThrough: 40,
      cleanBytes: 130,
      dirtyBytes: 200,
    });
    assert.equal(await s.replaceIndexEntries(t.id, 0, "a", 2000, [], [], 50), true);
    assert.deepEqual(await s.cleanerState(t.id, 0), {
      cleanedThrough: 50,
      cleanBytes: 230,
      dirtyBytes: 100,
    });
    assert.equal(await s.replaceIndexEntries(t.id, 0, "a", 2000, [], [], 1000), true);
    assert.deepEqual(await s.cleanerState(t.id, 0), {
      cleanedThrough: 60,
      cleanBytes: 330,
      dirtyBytes: 0,
    });
    assert.equal((await s.partitionState(t.id, 0))?.highWatermark, 60);
    // The log start passes clean entries: they leave the clean count.
    assert.equal(await s.advanceLogStart(t.id, 0, 17), 17);
    assert.equal((await s.cleanerState(t.id, 0))?.cleanBytes, 330);
    assert.equal(await s.advanceLogStart(t.id, 0, 35), 35);
    assert.deepEqual(await s.cleanerState(t.id, 0), {
      cleanedThrough: 60,
      cleanBytes: 300,
      dirtyBytes: 0,
    });
    assert.deepEqual(await s.findByTimestamp(t.id, 0, 0), kept);
    assert.deepEqual(await s.maxTimestampEntry(t.id, 0), last);
    assert.deepEqual(await s.partitionSizes(t.id, 1), [300]);
  });

  test("a swap past the log start, and entries wholly below it are left out", async (s) => {
    const t = await fiveBatches(s);
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1000, 10_000), true);
    const expected = (await s.readIndex(t.id, 0, 0, 1 << 20)).slice(0, 2);
    // The log start moves into 0-9, which stays (it holds offset 5).
    assert.equal(await s.advanceLogStart(t.id, 0, 5), 5);
    const low = entry(0, 3, "c", 0, 10, 900);
    const high = entry(12, 19, "c", 10, 20, 500);
    assert.equal(
      await s.replaceIndexEntries(t.id, 0, "a", 2000, expected, [low, high], 20),
      true,
    );
    assert.deepEqual((await s.readIndex(t.id, 0, 0, 1 << 20))[0], high);
    assert.equal((await s.partitionState(t.id, 0))?.logStartOffset, 5);
    assert.deepEqual(await s.partitionSizes(t.id, 1), [320]);
    assert.deepEqual(await s.cleanerState(t.id, 0), {
      cleanedThrough: 20,
      cleanBytes: 20,
      dirtyBytes: 300,
    });
    assert.deepEqual(await s.findByTimestamp(t.id, 0, 0), high);
    assert.deepEqual(await s.maxTimestampEntry(t.id, 0), entry(40, 49, "z", 0, 100, 600));
  });

  test("a swap is refused when the entries, the claim or the topic changed", async (s) => {
    const t = await fiveBatches(s);
    const all = await s.readIndex(t.id, 0, 0, 1 << 20);
    const stateNow = () => Promise.all([s.readIndex(t.id, 0, 0, 1 << 20), s.cleanerState(t.id, 0)]);
    const swap = (owner: string, now: number, expected = all.slice(0, 2)) =>
      s.replaceIndexEntries(t.id, 0, owner, now, expected, [entry(12, 17, "c", 0, 9, 1)], 20);
    // No claim at all, and another owner's.
    assert.equal(await swap("a", 1000), false);
    assert.equal(await s.claimCleaning(t.id, 0, "b", 1000, 100), true);
    assert.equal(await swap("a", 1050), false);
    // The claim expired (even for its owner), and then taken over by another.
    assert.equal(await swap("b", 1100), false);
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1100, 100), true);
    assert.equal(await swap("b", 1150), false);
    // Released.
    await s.releaseCleaning(t.id, 0, "a");
    assert.equal(await swap("a", 1150), false);
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1150, 10_000), true);
    const unchanged = await stateNow();
    // Entries that differ in a field, in number, or are not consecutive.
    assert.equal(await swap("a", 1200, [all[0], { ...all[1], position: 7 }]), false);
    assert.equal(await swap("a", 1200, [all[0], { ...all[1], blob: "other" }]), false);
    assert.equal(await swap("a", 1200, [all[0], { ...all[1], length: 99 }]), false);
    assert.equal(await swap("a", 1200, [all[0], { ...all[1], lastOffset: 18 }]), false);
    assert.equal(await swap("a", 1200, [{ ...all[0], baseOffset: 1 }, all[1]]), false);
    assert.equal(await swap("a", 1200, [all[0], all[2]]), false);
    assert.equal(
      await swap("a", 1200, [
        all[0],
        all[1],
        entry(20, 29, "y", 0, 100, 200),
        entry(50, 59, "q", 0, 1, 1),
      ]),
      false,
    );
    assert.deepEqual(await stateNow(), unchanged);
    // Arguments that do not describe a swap are refused outright.
    await assert.rejects(
      () =>
        s.replaceIndexEntries(t.id, 0, "a", 1200, all.slice(0, 1), [entry(5, 12, "c", 0, 1, 1)], 0),
      RangeError,
    );
    await assert.rejects(
      () => s.replaceIndexEntries(t.id, 0, "a", 1200, [], [entry(5, 6, "c", 0, 1, 1)], 0),
      RangeError,
    );
    await assert.rejects(
      () => s.replaceIndexEntries(t.id, 0, "a", 1200, [all[1], all[0]], [], 0),
      RangeError,
    );
    // DeleteRecords (or retention) removed an expected entry in between.
    assert.equal(await s.advanceLogStart(t.id, 0, 10), 10);
    assert.equal(await swap("a", 1200), false);
    assert.deepEqual(await s.readIndex(t.id, 0, 0, 1 << 20), all.slice(1));
    // Still claimed: a swap of what is there now goes through.
    assert.equal(await swap("a", 1200, all.slice(1, 2)), true);
    assert.deepEqual((await s.readIndex(t.id, 0, 0, 1))[0], entry(12, 17, "c", 0, 9, 1));
  });

  test("a swap survives commits landing after its range, and refuses a deleted topic", async (s) => {
    const t = await fiveBatches(s);
    assert.equal(await s.claimCleaning(t.id, 0, "a", 1000, 10_000), true);
    const expected = await s.readIndex(t.id, 0, 0, 1 << 20);
    await s.commitBatches("w0", [batch(t.id, 0, { maxTimestamp: 1000 })]);
    const commits = Array.from(
      { length: 10 },
      (_, i) =>
        s.commitBatches(`w${i + 1}`, [
          batch(t.id, 0, { recordCount: 1, length: 1, maxTimestamp: 10 }),
        ]),
    );
    const cleaned = entry(40, 49, "c", 0, 50, 600);
    const [swapped, ...results] = await Promise.all([
      s.replaceIndexEntries(t.id, 0, "a", 2000, expected, [cleaned], 50),
      ...commits,
    ]);
    assert.equal(swapped, true);
    assert.deepEqual(results.map((r) => r[0].baseOffset).sort((a, b) => a - b), [
      60,
      61,
      62,
      63,
      64,
      65,
      66,
      67,
      68,
      69,
    ]);
    const idx = await s.readIndex(t.id, 0, 0, 1 << 20);
    assert.deepEqual(idx.map((e) => e.baseOffset), [40, 50, ...results.map((_, i) => 60 + i)]);
    assert.deepEqual(idx[0], cleaned);
    assert.deepEqual(await s.partitionState(t.id, 0), {
      logStartOffset: 0,
      highWatermark: 70,
      lastStableOffset: 70,
    });
    assert.deepEqual(await s.cleanerState(t.id, 0), {
      cleanedThrough: 50,
      cleanBytes: 50,
      dirtyBytes: 110,
    });
    assert.deepEqual((await s.maxTimestampEntry(t.id, 0))?.blob, "w0");
    assert.deepEqual(await s.findByTimestamp(t.id, 0, 0), cleaned);
    // A topic deleted and made again under the same name: the old claim and swap are gone.
    const rest = await s.readIndex(t.id, 0, 50, 1 << 20);
    assert.equal(await s.deleteTopic("c"), true);
    assert.equal(await s.cleanerState(t.id, 0), null);
    const again = (await s.createTopic({ name: "c", partitions: 2, configs: {} }))!;
    await s.commitBatches("v", [batch(again.id, 0)]);
    assert.equal(
      await s.replaceIndexEntries(t.id, 0, "a", 2000, rest.slice(0, 1), [], 60),
      false,
    );
    assert.deepEqual(await s.cleanerState(again.id, 0), {
      cleanedThrough: 0,
      cleanBytes: 0,
      dirtyBytes: 100,
    });
    assert.equal(await s.claimCleaning(again.id, 0, "b", 2000, 1000), true);
    assert.deepEqual(await s.referencedBlobs(), new Set(["v"]));
  });

  test("timestamp lookups stay right over many swaps of many entries", async (s) => {
    const t = (await s.createTopic({ name: "c", partitions: 1, configs: {} }))!;
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    await s.commitBatches(
      "x",
      Array.from({ length: 120 }, (_, i) =>
        batch(t.id, 0, {
          position: i * 10,
          length: 10,
          recordCount: 3,
          maxTimestamp: 1000 + random(500),
        })),
    );
    assert.equal(await s.claimCleaning(t.id, 0, "a", 0, 1_000_000), true);
    for (let round = 0; round < 25; round++) {
      const all = await s.readIndex(t.id, 0, 0, 1 << 30);
      const at = random(all.length);
      const expected = all.slice(at, at + 1 + random(6));
      // Each entry of the range: dropped, kept, or shrunk to its last offsets with a new time.
      const replacement: IndexEntry[] = [];
      for (const e of expected) {
        const fate = random(3);
        if (fate === 1) replacement.push(e);
        if (fate === 2) {
          replacement.push(
            entry(
              e.lastOffset,
              e.lastOffset,
              `r${round}`,
              replacement.length,
              1,
              900 + random(700),
            ),
          );
        }
      }
      if (round === 10) await s.advanceLogStart(t.id, 0, 40);
      const ok = await s.replaceIndexEntries(t.id, 0, "a", 1, expected, replacement, 0);
      assert.equal(ok, round !== 10 || expected[0].lastOffset >= 40, `round ${round}`);
      const now = await s.readIndex(t.id, 0, 0, 1 << 30);
      let max: IndexEntry | null = null;
      for (const e of now) if (max === null || e.maxTimestamp > max.maxTimestamp) max = e;
      assert.deepEqual(await s.maxTimestampEntry(t.id, 0), max, `round ${round}`);
      for (const target of [0, 950, 1100, 1250, 1400, 1499, 1550, 1600]) {
        assert.deepEqual(
          await s.findByTimestamp(t.id, 0, target),
          now.find((e) => e.maxTimestamp >= target) ?? null,
          `round ${round}, timestamp ${target}`,
        );
      }
      assert.deepEqual(await s.partitionSizes(t.id, 1), [now.reduce((n, e) => n + e.length, 0)]);
    }
  });

  test("two stores racing: one claim wins, and one of two swaps of the same entries", async (s) => {
    const other = factory.second ? await factory.second(s) : s;
    try {
      const t = await fiveBatches(s);
      // Each round merges the first two entries into one: five entries, four rounds.
      for (let round = 0; round < 4; round++) {
        const now = 10_000 * (round + 1);
        const claims = await Promise.all([
          s.claimCleaning(t.id, 0, `a${round}`, now, 5000),
          other.claimCleaning(t.id, 0, `b${round}`, now, 5000),
        ]);
        assert.equal(claims.filter((c) => c).length, 1, `round ${round}: ${claims}`);
        const owner = claims[0] ? `a${round}` : `b${round}`;
        const expected = (await s.readIndex(t.id, 0, 0, 1 << 20)).slice(0, 2);
        const from = expected[0].baseOffset;
        const to = expected[1].lastOffset;
        const mine = entry(from, to, `s${round}`, 0, 10, 1);
        const theirs = entry(from, to, `o${round}`, 0, 10, 1);
        const [one, two] = await Promise.all([
          s.replaceIndexEntries(t.id, 0, owner, now + 1, expected, [mine], to + 1),
          other.replaceIndexEntries(t.id, 0, owner, now + 1, expected, [theirs], to + 1),
        ]);
        assert.equal(Number(one) + Number(two), 1, `round ${round}: ${one} ${two}`);
        const head = (await other.readIndex(t.id, 0, 0, 1))[0];
        assert.deepEqual(head, one ? mine : theirs);
        await (claims[0] ? s : other).releaseCleaning(t.id, 0, owner);
      }
      const blobs = await s.referencedBlobs();
      assert.equal([...blobs].filter((b) => /^[so]\d$/.test(b)).length, 1);
      assert.equal((await s.readIndex(t.id, 0, 0, 1 << 20)).length, 1);
    } finally {
      if (other !== s) await other.close();
    }
  });
}

/** A transaction marker (KIP-98 control batch) from producer (id, epoch): 0 abort, 1 commit. */
export function marker(
  topicId: string,
  partition: number,
  producerId: number,
  producerEpoch: number,
  controlType: number,
  over: Partial<BatchToCommit> = {},
): BatchToCommit {
  return batch(topicId, partition, {
    recordCount: 1,
    length: 78,
    baseSequence: -1,
    producerId,
    producerEpoch,
    isTransactional: true,
    isControl: true,
    controlType,
    ...over,
  });
}

/** The transaction part of the contract (run by metaStoreConformance). */
export function transactionConformance(name: string, factory: MetaStoreFactory): void {
  const test = (what: string, fn: (s: MetaStore) => Promise<void>) =>
    Deno.test(`${name} meta store: transactions: ${what}`, async () => {
      const s = await factory.open();
      try {
        await fn(s);
      } finally {
        await s.close();
        await factory.cleanup?.();
      }
    });
  const producer = async (s: MetaStore, transactionalId: string) => {
    const id = await s.initProducerId({
      transactionalId,
      transactionTimeoutMs: 60000,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.equal(id.errorCode, 0);
    return id;
  };
  /** A transactional data batch of `recordCount` records at sequence `seq`. */
  const txn = (
    topicId: string,
    partition: number,
    p: { producerId: number; producerEpoch: number },
    seq: number,
    over: Partial<BatchToCommit> = {},
  ) =>
    batch(topicId, partition, {
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      baseSequence: seq,
      isTransactional: true,
      ...over,
    });
  const offsets = async (s: MetaStore, topicId: string, partition: number) => {
    const st = (await s.partitionState(topicId, partition))!;
    return [st.logStartOffset, st.lastStableOffset, st.highWatermark];
  };
  const ok = (r: CommitResult[]) => r.map((x) => [x.errorCode, x.baseOffset, x.duplicate]);

  test("data opens a transaction per partition; one call's markers commit and abort them", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 3, configs: {} }))!;
    const a = await producer(s, "a");
    assert.deepEqual(
      ok(
        await s.commitBatches("d1", [
          txn(t.id, 0, a, 0),
          txn(t.id, 1, a, 0, { recordCount: 5 }),
          txn(t.id, 2, a, 0, { recordCount: 3 }),
          batch(t.id, 0),
          txn(t.id, 0, a, 10, { maxTimestamp: 4000 }),
        ]),
      ),
      [[0, 0, false], [0, 0, false], [0, 0, false], [0, 10, false], [0, 20, false]],
    );
    assert.deepEqual(await offsets(s, t.id, 0), [0, 0, 30]);
    assert.deepEqual(await offsets(s, t.id, 1), [0, 0, 5]);
    assert.deepEqual(await s.producerStates(t.id, 0), [
      {
        producerId: a.producerId,
        producerEpoch: a.producerEpoch,
        lastSequence: 19,
        lastTimestamp: 4000,
        currentTxnStartOffset: 0,
      },
    ]);
    // One flush ends it everywhere: commit on 0, abort on 1 and 2.
    const ends = await s.commitBatches("m1", [
      marker(t.id, 0, a.producerId, a.producerEpoch, 1, { maxTimestamp: 5000 }),
      marker(t.id, 1, a.producerId, a.producerEpoch, 0, { position: 78 }),
      marker(t.id, 2, a.producerId, a.producerEpoch, 0, { position: 156 }),
    ]);
    assert.deepEqual(ok(ends), [[0, 30, false], [0, 5, false], [0, 3, false]]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 31, 31]);
    assert.deepEqual(await offsets(s, t.id, 1), [0, 6, 6]);
    assert.deepEqual(await offsets(s, t.id, 2), [0, 4, 4]);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 0, 100), []);
    assert.deepEqual(await s.abortedTransactions(t.id, 1, 0, 100), [
      { producerId: a.producerId, firstOffset: 0, lastOffset: 5 },
    ]);
    assert.deepEqual(await s.abortedTransactions(t.id, 2, 0, 100), [
      { producerId: a.producerId, firstOffset: 0, lastOffset: 3 },
    ]);
    // A marker is an index entry of one offset.
    assert.deepEqual(
      (await s.readIndex(t.id, 1, 5, 1 << 20)).map((
        e,
      ) => [e.baseOffset, e.lastOffset, e.blob, e.position]),
      [[5, 5, "m1", 78]],
    );
    assert.ok((await s.referencedBlobs()).has("m1"));
    assert.deepEqual(await s.producerStates(t.id, 0), [
      {
        producerId: a.producerId,
        producerEpoch: a.producerEpoch,
        lastSequence: 19,
        lastTimestamp: 5000,
        currentTxnStartOffset: -1,
      },
    ]);
    // The same epoch's next transaction goes on with the sequence.
    assert.deepEqual(ok(await s.commitBatches("d2", [txn(t.id, 0, a, 20)])), [[0, 31, false]]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 31, 41]);
    assert.equal((await s.producerStates(t.id, 0))[0].currentTxnStartOffset, 31);
  });

  test("the last stable offset waits for the oldest of interleaved open transactions", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const a = await producer(s, "a");
    const b = await producer(s, "b");
    await s.commitBatches("1", [batch(t.id, 0)]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 10, 10]);
    await s.commitBatches("2", [txn(t.id, 0, a, 0), txn(t.id, 0, b, 0)]);
    await s.commitBatches("3", [txn(t.id, 0, a, 10), batch(t.id, 0)]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 10, 50]);
    // A's commit leaves B's transaction (from 20) open.
    assert.deepEqual(
      ok(await s.commitBatches("4", [marker(t.id, 0, a.producerId, a.producerEpoch, 1)])),
      [[0, 50, false]],
    );
    assert.deepEqual(await offsets(s, t.id, 0), [0, 20, 51]);
    // A opens another one after B's: B's still holds the LSO back.
    await s.commitBatches("5", [txn(t.id, 0, a, 20), txn(t.id, 0, b, 10)]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 20, 71]);
    await s.commitBatches("6", [marker(t.id, 0, b.producerId, b.producerEpoch, 0)]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 51, 72]);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 0, 100), [
      { producerId: b.producerId, firstOffset: 20, lastOffset: 71 },
    ]);
    await s.commitBatches("7", [marker(t.id, 0, a.producerId, a.producerEpoch, 1)]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 73, 73]);
    const states = await s.producerStates(t.id, 0);
    assert.deepEqual(states.map((p) => [p.producerId, p.currentTxnStartOffset]), [
      [a.producerId, -1],
      [b.producerId, -1],
    ]);
  });

  test("aborted transactions are found by range, in first-offset order", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 2, configs: {} }))!;
    const [a, b, c, d] = [
      await producer(s, "a"),
      await producer(s, "b"),
      await producer(s, "c"),
      await producer(s, "d"),
    ];
    const abort = (p: { producerId: number; producerEpoch: number }) =>
      marker(t.id, 0, p.producerId, p.producerEpoch, 0);
    await s.commitBatches("1", [txn(t.id, 0, a, 0), abort(a)]); // A: 0-9, marker 10
    await s.commitBatches("2", [txn(t.id, 0, b, 0), txn(t.id, 0, c, 0)]); // B 11-20, C 21-30
    await s.commitBatches("3", [abort(c), abort(b)]); // C's marker 31, B's 32
    await s.commitBatches("4", [txn(t.id, 0, d, 0), abort(d), batch(t.id, 0)]); // D: 33-42, marker 43
    await s.commitBatches("5", [txn(t.id, 1, a, 10), marker(t.id, 1, a.producerId, 0, 0)]); // another partition: apart
    const A = { producerId: a.producerId, firstOffset: 0, lastOffset: 10 };
    const B = { producerId: b.producerId, firstOffset: 11, lastOffset: 32 };
    const C = { producerId: c.producerId, firstOffset: 21, lastOffset: 31 };
    const D = { producerId: d.producerId, firstOffset: 33, lastOffset: 43 };
    const q = (from: number, to: number) => s.abortedTransactions(t.id, 0, from, to);
    assert.deepEqual(await q(0, 100), [A, B, C, D]);
    assert.deepEqual(await q(0, 1), [A]);
    assert.deepEqual(await q(10, 11), [A]); // the marker at fromOffset counts
    assert.deepEqual(await q(11, 21), [B]); // C begins at toOffset: out
    assert.deepEqual(await q(11, 22), [B, C]);
    assert.deepEqual(await q(31, 33), [B, C]);
    assert.deepEqual(await q(32, 34), [B, D]);
    assert.deepEqual(await q(25, 26), [B, C]); // inside both
    assert.deepEqual(await q(44, 100), []);
    assert.deepEqual(await s.abortedTransactions(t.id, 1, 0, 100), [
      { producerId: a.producerId, firstOffset: 0, lastOffset: 10 },
    ]);
    assert.deepEqual(await s.abortedTransactions(t.id, 7, 0, 100), []);
    assert.deepEqual(await s.abortedTransactions("AAAAAAAAAAAAAAAAAAAAAg", 0, 0, 100), []);
    // Past A's marker, A may be forgotten; the rest are still found.
    assert.equal(await s.advanceLogStart(t.id, 0, 12), 12);
    assert.deepEqual(await q(12, 100), [B, C, D]);
    assert.deepEqual(await q(12, 13), [B]);
  });

  test("a long aborted transaction is found past many short ones", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const a = await producer(s, "a");
    const b = await producer(s, "b");
    await s.commitBatches("a0", [txn(t.id, 0, a, 0, { recordCount: 1 })]); // A from 0
    for (let i = 0; i < 30; i++) {
      // B: one record at 1 + 2i, its abort marker at 2 + 2i.
      await s.commitBatches(`b${i}`, [
        txn(t.id, 0, b, i, { recordCount: 1 }),
        marker(t.id, 0, b.producerId, b.producerEpoch, 0),
      ]);
    }
    await s.commitBatches("a1", [marker(t.id, 0, a.producerId, a.producerEpoch, 0)]); // at 61
    const A = { producerId: a.producerId, firstOffset: 0, lastOffset: 61 };
    const B = (i: number) => ({
      producerId: b.producerId,
      firstOffset: 1 + 2 * i,
      lastOffset: 2 + 2 * i,
    });
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 0, 1), [A]);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 3, 5), [A, B(1)]);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 59, 62), [A, B(29)]);
    assert.equal((await s.abortedTransactions(t.id, 0, 0, 62)).length, 31);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 61, 62), [A]);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 62, 100), []);
  });

  test("a marker without an open transaction is acknowledged and not stored", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const a = await producer(s, "a");
    const never = await producer(s, "never");
    await s.commitBatches("1", [txn(t.id, 0, a, 0)]);
    const r = await s.commitBatches("2", [
      marker(t.id, 0, a.producerId, a.producerEpoch, 0),
      marker(t.id, 0, a.producerId, a.producerEpoch, 0),
      marker(t.id, 0, never.producerId, never.producerEpoch, 1),
    ]);
    assert.deepEqual(r.map((x) => [x.errorCode, x.duplicate]), [[0, false], [0, true], [0, true]]);
    assert.equal(r[0].baseOffset, 10);
    // The coordinator retries the whole ending: nothing more is stored.
    const again = await s.commitBatches("3", [marker(t.id, 0, a.producerId, a.producerEpoch, 0)]);
    assert.deepEqual(again.map((x) => [x.errorCode, x.duplicate]), [[0, true]]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 11, 11]);
    assert.ok(!(await s.referencedBlobs()).has("3"));
    assert.equal((await s.readIndex(t.id, 0, 0, 1 << 20)).length, 2);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 0, 100), [
      { producerId: a.producerId, firstOffset: 0, lastOffset: 10 },
    ]);
    assert.deepEqual((await s.producerStates(t.id, 0)).map((p) => p.producerId), [a.producerId]);
  });

  test("a marker from an older epoch is fenced; a newer one closes and restarts sequences", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 2, configs: {} }))!;
    await producer(s, "a");
    const a = await producer(s, "a"); // epoch 1
    assert.equal(a.producerEpoch, 1);
    await s.commitBatches("1", [txn(t.id, 0, a, 0), txn(t.id, 1, a, 0)]);
    const fenced = await s.commitBatches("2", [
      marker(t.id, 0, a.producerId, 0, 1),
      marker(t.id, 1, a.producerId, 0, 0),
    ]);
    assert.deepEqual(fenced.map((x) => [x.errorCode, x.baseOffset]), [
      [ErrorCode.INVALID_PRODUCER_EPOCH, -1],
      [ErrorCode.INVALID_PRODUCER_EPOCH, -1],
    ]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 0, 10]);
    assert.deepEqual(await s.abortedTransactions(t.id, 1, 0, 100), []);
    assert.ok(!(await s.referencedBlobs()).has("2"));
    // KIP-890: the coordinator ends it with the epoch bumped.
    const bumped = { producerId: a.producerId, producerEpoch: 2 };
    const ended = await s.commitBatches("3", [
      marker(t.id, 0, a.producerId, 2, 1),
      marker(t.id, 1, a.producerId, 2, 0),
    ]);
    assert.deepEqual(ok(ended), [[0, 10, false], [0, 10, false]]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 11, 11]);
    assert.deepEqual(await s.producerStates(t.id, 0), [{
      producerId: a.producerId,
      producerEpoch: 2,
      lastSequence: -1,
      lastTimestamp: 1009,
      currentTxnStartOffset: -1,
    }]);
    // The old epoch's data is fenced too; the new one starts at sequence 0.
    const old = await s.commitBatches("4", [txn(t.id, 0, a, 10)]);
    assert.equal(old[0].errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    const gap = await s.commitBatches("5", [txn(t.id, 0, bumped, 3)]);
    assert.equal(gap[0].errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.deepEqual(ok(await s.commitBatches("6", [txn(t.id, 0, bumped, 0)])), [[0, 11, false]]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 11, 21]);
  });

  test("a retried transactional batch is still deduplicated", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const a = await producer(s, "a");
    await s.commitBatches("1", [batch(t.id, 0)]);
    await s.commitBatches("2", [txn(t.id, 0, a, 0), txn(t.id, 0, a, 10)]);
    const retry = await s.commitBatches("3", [txn(t.id, 0, a, 0), txn(t.id, 0, a, 10)]);
    assert.deepEqual(ok(retry), [[0, 10, true], [0, 20, true]]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 10, 30]);
    assert.equal((await s.producerStates(t.id, 0))[0].currentTxnStartOffset, 10);
    await s.commitBatches("4", [marker(t.id, 0, a.producerId, a.producerEpoch, 1)]);
    // Retried after the commit: acknowledged, and no transaction reopened.
    assert.deepEqual(ok(await s.commitBatches("5", [txn(t.id, 0, a, 10)])), [[0, 20, true]]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 31, 31]);
    const gap = await s.commitBatches("6", [txn(t.id, 0, a, 30)]);
    assert.equal(gap[0].errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 31, 31]);
  });

  test("producer states: idempotent and transactional producers", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 2, configs: {} }))!;
    const idem = await s.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 60000,
      producerId: -1,
      producerEpoch: -1,
    });
    const a = await producer(s, "a");
    assert.deepEqual(await s.producerStates(t.id, 0), []);
    await s.commitBatches("1", [
      batch(t.id, 0), // no producer id: no state
      batch(t.id, 0, {
        producerId: idem.producerId,
        producerEpoch: idem.producerEpoch,
        baseSequence: 0,
        recordCount: 4,
        maxTimestamp: 777,
      }),
      txn(t.id, 0, a, 0, { recordCount: 2, maxTimestamp: 888 }),
    ]);
    const states = await s.producerStates(t.id, 0);
    assert.deepEqual(
      states.sort((x, y) => x.producerId - y.producerId),
      [
        {
          producerId: idem.producerId,
          producerEpoch: idem.producerEpoch,
          lastSequence: 3,
          lastTimestamp: 777,
          currentTxnStartOffset: -1,
        },
        {
          producerId: a.producerId,
          producerEpoch: a.producerEpoch,
          lastSequence: 1,
          lastTimestamp: 888,
          currentTxnStartOffset: 14,
        },
      ].sort((x, y) => x.producerId - y.producerId),
    );
    assert.deepEqual(await s.producerStates(t.id, 1), []);
    assert.deepEqual(await s.producerStates(t.id, 9), []);
  });

  test("the log start moving below and past an open transaction", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const a = await producer(s, "a");
    await s.commitBatches("1", [batch(t.id, 0), txn(t.id, 0, a, 0), batch(t.id, 0)]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 10, 30]);
    assert.equal(await s.advanceLogStart(t.id, 0, 5), 5);
    assert.deepEqual(await offsets(s, t.id, 0), [5, 10, 30]);
    // Past the transaction's first offset: the LSO is not below the log start.
    assert.equal(await s.advanceLogStart(t.id, 0, 25), 25);
    assert.deepEqual(await offsets(s, t.id, 0), [25, 25, 30]);
    assert.equal((await s.producerStates(t.id, 0))[0].currentTxnStartOffset, 10);
    await s.commitBatches("2", [txn(t.id, 0, a, 10, { recordCount: 5 })]);
    assert.deepEqual(await offsets(s, t.id, 0), [25, 25, 35]);
    const end = await s.commitBatches("3", [marker(t.id, 0, a.producerId, a.producerEpoch, 0)]);
    assert.deepEqual(ok(end), [[0, 35, false]]);
    assert.deepEqual(await offsets(s, t.id, 0), [25, 36, 36]);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 25, 36), [
      { producerId: a.producerId, firstOffset: 10, lastOffset: 35 },
    ]);
    // Past the marker too: the aborted range is gone (it may be), the LSO is the high watermark.
    assert.equal(await s.advanceLogStart(t.id, 0, 36), 36);
    assert.deepEqual(await offsets(s, t.id, 0), [36, 36, 36]);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 36, 100), []);
  });

  test("deleting a topic forgets its transactions; new partitions start stable", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const a = await producer(s, "a");
    await s.commitBatches("1", [txn(t.id, 0, a, 0), marker(t.id, 0, a.producerId, 0, 0)]);
    await s.commitBatches("2", [txn(t.id, 0, a, 10)]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 11, 21]);
    const grown = (await s.createPartitions("t", 3))!;
    assert.deepEqual(await offsets(s, t.id, 2), [0, 0, 0]);
    await s.commitBatches("3", [txn(grown.id, 2, a, 0)]);
    assert.deepEqual(await offsets(s, t.id, 2), [0, 0, 10]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 11, 21]);
    assert.equal(await s.deleteTopic("t"), true);
    assert.equal(await s.partitionState(t.id, 0), null);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 0, 100), []);
    assert.deepEqual(await s.producerStates(t.id, 0), []);
    assert.deepEqual(await s.producerStates(t.id, 2), []);
    const again = (await s.createTopic({ name: "t", partitions: 3, configs: {} }))!;
    assert.notEqual(again.id, t.id);
    assert.deepEqual(await s.producerStates(again.id, 0), []);
    assert.deepEqual(await s.abortedTransactions(again.id, 0, 0, 100), []);
    const r = await s.commitBatches("4", [marker(again.id, 0, a.producerId, 0, 1)]);
    assert.deepEqual(r.map((x) => [x.errorCode, x.duplicate]), [[0, true]]);
    assert.deepEqual(await offsets(s, again.id, 0), [0, 0, 0]);
  });

  test("the cleaner's swaps leave markers, aborted ranges and the LSO alone", async (s) => {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const a = await producer(s, "a");
    const b = await producer(s, "b");
    await s.commitBatches("1", [batch(t.id, 0), batch(t.id, 0)]);
    await s.commitBatches("2", [txn(t.id, 0, a, 0), marker(t.id, 0, a.producerId, 0, 0)]);
    await s.commitBatches("3", [txn(t.id, 0, b, 0)]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 31, 41]);
    const before = await s.producerStates(t.id, 0);
    assert.equal(await s.claimCleaning(t.id, 0, "c", 1000, 60_000), true);
    const idx = await s.readIndex(t.id, 0, 0, 1 << 20);
    assert.deepEqual(idx.map((e) => [e.baseOffset, e.lastOffset]), [[0, 9], [10, 19], [20, 29], [
      30,
      30,
    ], [31, 40]]);
    const merged = { ...idx[0], lastOffset: 19, blob: "c1", length: 50 };
    const keptMarker = { ...idx[3], blob: "c1", position: 50 };
    assert.equal(
      await s.replaceIndexEntries(t.id, 0, "c", 1001, idx.slice(0, 4), [
        merged,
        { ...idx[2], blob: "c1", position: 60 },
        keptMarker,
      ], 31),
      true,
    );
    assert.deepEqual(await offsets(s, t.id, 0), [0, 31, 41]);
    assert.deepEqual(await s.abortedTransactions(t.id, 0, 0, 100), [
      { producerId: a.producerId, firstOffset: 10 + 10, lastOffset: 30 },
    ]);
    assert.deepEqual(await s.producerStates(t.id, 0), before);
    assert.deepEqual((await s.readIndex(t.id, 0, 30, 1 << 20))[0], keptMarker);
    await s.commitBatches("4", [marker(t.id, 0, b.producerId, 0, 1)]);
    assert.deepEqual(await offsets(s, t.id, 0), [0, 42, 42]);
  });

  test("coordinator records change only by compare-and-set, apart from groups", async (s) => {
    assert.equal(await s.getTransaction("tx"), null);
    assert.deepEqual(await s.listTransactions(), []);
    assert.equal(await s.putTransaction("tx", 1, "{}"), null, "a missing record has version 0");
    assert.equal(await s.putTransaction("tx", 0, '{"s":"Empty"}'), 1);
    assert.equal(await s.putTransaction("tx", 0, '{"s":"x"}'), null, "creating twice must lose");
    assert.equal(await s.putTransaction("tx", 1, '{"s":"Ongoing"}'), 2);
    assert.equal(await s.putTransaction("tx", 1, '{"s":"y"}'), null, "a stale version must lose");
    assert.deepEqual(await s.getTransaction("tx"), { version: 2, state: '{"s":"Ongoing"}' });
    const quoted = 'odd "id"/\\ é';
    assert.equal(await s.putTransaction(quoted, 0, "[1]"), 1);
    // Groups are another namespace.
    assert.equal(await s.getGroup("tx"), null);
    assert.equal(await s.putGroup("tx", 0, "g"), 1);
    assert.deepEqual(await s.getTransaction("tx"), { version: 2, state: '{"s":"Ongoing"}' });
    const all = (await s.listTransactions()).sort((x, y) =>
      x.transactionalId < y.transactionalId ? -1 : 1
    );
    assert.deepEqual(
      all,
      [
        { transactionalId: quoted, transaction: { version: 1, state: "[1]" } },
        { transactionalId: "tx", transaction: { version: 2, state: '{"s":"Ongoing"}' } },
      ].sort((x, y) => x.transactionalId < y.transactionalId ? -1 : 1),
    );
    // Deleting takes a version too.
    assert.equal(await s.putTransaction("tx", 1, null), null);
    assert.notEqual(await s.putTransaction("tx", 2, null), null);
    assert.equal(await s.getTransaction("tx"), null);
    assert.deepEqual((await s.listTransactions()).map((x) => x.transactionalId), [quoted]);
    assert.equal(await s.putTransaction("tx", 0, "again"), 1);
    assert.deepEqual(await s.getGroup("tx"), { version: 1, state: "g" });
  });

  test("two brokers racing on a coordinator record: one wins each version", async (s) => {
    const other = factory.second ? await factory.second(s) : s;
    try {
      for (let v = 0; v < 5; v++) {
        const results = await Promise.all([
          s.putTransaction("tx", v, `a${v}`),
          other.putTransaction("tx", v, `b${v}`),
        ]);
        assert.equal(results.filter((r) => r === v + 1).length, 1, `version ${v}: ${results}`);
        assert.equal(results.filter((r) => r === null).length, 1);
        const winner = results[0] === null ? `b${v}` : `a${v}`;
        assert.deepEqual(await other.getTransaction("tx"), { version: v + 1, state: winner });
        assert.deepEqual(await s.getTransaction("tx"), { version: v + 1, state: winner });
      }
    } finally {
      if (other !== s) await other.close();
    }
  });

  test("markers of one flush across brokers: offsets stay contiguous", async (s) => {
    const other = factory.second ? await factory.second(s) : s;
    try {
      const t = (await s.createTopic({ name: "t", partitions: 2, configs: {} }))!;
      const ps = [];
      for (let i = 0; i < 6; i++) ps.push(await producer(s, `p${i}`));
      await Promise.all(
        ps.map((p, i) =>
          (i % 2 ? other : s).commitBatches(`d${i}`, [txn(t.id, 0, p, 0), txn(t.id, 1, p, 0)])
        ),
      );
      assert.deepEqual(await offsets(s, t.id, 0), [0, 0, 60]);
      const ends = await Promise.all(
        ps.map((p, i) =>
          (i % 2 ? s : other).commitBatches(`m${i}`, [
            marker(t.id, 0, p.producerId, p.producerEpoch, i % 3 ? 1 : 0),
            marker(t.id, 1, p.producerId, p.producerEpoch, i % 3 ? 1 : 0),
          ])
        ),
      );
      const markerOffsets = ends.map((r) => r[0].baseOffset).sort((x, y) => x - y);
      assert.deepEqual(markerOffsets, [60, 61, 62, 63, 64, 65]);
      assert.deepEqual(await offsets(other, t.id, 0), [0, 66, 66]);
      assert.deepEqual(await offsets(other, t.id, 1), [0, 66, 66]);
      assert.equal((await other.abortedTransactions(t.id, 1, 0, 100)).length, 2);
    } finally {
      if (other !== s) await other.close();
    }
  });

  if (factory.reopen) {
    const reopen = factory.reopen;
    Deno.test(`${name} meta store: transactions: kept across a reopen`, async () => {
      const s = await factory.open();
      const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
      const a = await producer(s, "a");
      const b = await producer(s, "b");
      await s.commitBatches("1", [txn(t.id, 0, a, 0), marker(t.id, 0, a.producerId, 0, 0)]);
      await s.commitBatches("2", [txn(t.id, 0, b, 0, { maxTimestamp: 99 })]);
      await s.putTransaction("a", 0, "rec-a");
      await s.putTransaction("a", 1, "rec-a2");
      await s.close();
      const again = await reopen(s);
      try {
        assert.deepEqual(await offsets(again, t.id, 0), [0, 11, 21]);
        assert.deepEqual(await again.abortedTransactions(t.id, 0, 0, 100), [
          { producerId: a.producerId, firstOffset: 0, lastOffset: 10 },
        ]);
        const states = await again.producerStates(t.id, 0);
        assert.deepEqual(states.find((p) => p.producerId === b.producerId), {
          producerId: b.producerId,
          producerEpoch: 0,
          lastSequence: 9,
          lastTimestamp: 99,
          currentTxnStartOffset: 11,
        });
        assert.deepEqual(await again.getTransaction("a"), { version: 2, state: "rec-a2" });
        // Still deduplicated, and the open transaction still ends.
        assert.deepEqual(ok(await again.commitBatches("3", [txn(t.id, 0, b, 0)])), [[0, 11, true]]);
        await again.commitBatches("4", [marker(t.id, 0, b.producerId, 0, 1)]);
        assert.deepEqual(await offsets(again, t.id, 0), [0, 22, 22]);
      } finally {
        await again.close();
        await factory.cleanup?.();
      }
    });
  }
}
