/**
 * The transaction APIs over real TCP with exact bytes from our own codec:
 * FindCoordinator for transactional ids, InitProducerId (fencing, KIP-360,
 * timeouts), AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn
 * (markers in the log as control batches, the last stable offset), Produce's
 * transactional checks, the coordinator's timeout aborts, and the admin APIs
 * DescribeTransactions, ListTransactions and DescribeProducers.
 */

import assert from "node:assert/strict";
import {
  ADD_OFFSETS_TO_TXN_API,
  ADD_PARTITIONS_TO_TXN_API,
  defaultAddPartitionsToTxnRequest,
  defaultFindCoordinatorRequest,
  defaultListOffsetsRequest,
  defaultOffsetFetchRequest,
  defaultTxnOffsetCommitRequest,
  DESCRIBE_PRODUCERS_API,
  DESCRIBE_TRANSACTIONS_API,
  END_TXN_API,
  FETCH_API,
  FIND_COORDINATOR_API,
  INIT_PRODUCER_ID_API,
  LIST_OFFSETS_API,
  LIST_TRANSACTIONS_API,
  OFFSET_FETCH_API,
  PRODUCE_API,
  TXN_OFFSET_COMMIT_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { buildBatch } from "../protocol/record_batch.ts";
import { BatchAttributes, decodeBatches } from "../protocol/batch_codec.ts";
import type { MetaStore } from "../stores/types.ts";
import { parseTxn, type TxnRecord } from "../broker/txn_state.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic, metaStoreTest, records, sleep } from "./helpers.ts";
import { fetchRequest, flattenRecords, produceRequest } from "./wire_requests.ts";

function txnBroker(meta: MetaStore) {
  return testBroker({ meta, groupInitialRebalanceDelayMs: 0 });
}

async function init(
  c: WireClient,
  tid: string,
  opts: { version?: number; timeoutMs?: number; producerId?: number; producerEpoch?: number } = {},
) {
  return await c.call(INIT_PRODUCER_ID_API, opts.version ?? 5, {
    transactionalId: tid,
    transactionTimeoutMs: opts.timeoutMs ?? 60_000,
    producerId: opts.producerId ?? -1,
    producerEpoch: opts.producerEpoch ?? -1,
    enable2Pc: false,
    keepPreparedTxn: false,
  });
}

async function addPartitions(
  c: WireClient,
  tid: string,
  pid: number,
  epoch: number,
  topics: { name: string; partitions: number[] }[],
  version = 3,
) {
  const res = await c.call(ADD_PARTITIONS_TO_TXN_API, version, {
    ...defaultAddPartitionsToTxnRequest(),
    v3AndBelowTransactionalId: tid,
    v3AndBelowProducerId: pid,
    v3AndBelowProducerEpoch: epoch,
    v3AndBelowTopics: topics,
  });
  return res.resultsByTopicV3AndBelow.flatMap((t) =>
    t.resultsByPartition.map((p) => [t.name, p.partitionIndex, p.partitionErrorCode])
  );
}

async function endTxn(
  c: WireClient,
  tid: string,
  pid: number,
  epoch: number,
  committed: boolean,
  version = 4,
) {
  return (await c.call(END_TXN_API, version, {
    transactionalId: tid,
    producerId: pid,
    producerEpoch: epoch,
    committed,
  })).errorCode;
}

/** A transactional batch of records `from`..`from+n-1`. */
function txnBatch(pid: number, epoch: number, seq: number, from: number, n: number) {
  return buildBatch(records(n, from), {
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    attributes: BatchAttributes.TRANSACTIONAL,
  });
}

async function produceTxn(
  c: WireClient,
  tid: string | null,
  topic: string,
  batch: Uint8Array,
  partitions = 1,
) {
  const req = produceRequest(topic, batch, partitions);
  req.transactionalId = tid;
  const res = await c.call(PRODUCE_API, 9, req);
  return res.responses[0].partitionResponses.map((p) => [p.errorCode, Number(p.baseOffset)]);
}

/** ListOffsets latest: [high watermark, last stable offset] of a partition. */
async function ends(c: WireClient, topic: string, partition = 0): Promise<[number, number]> {
  const out: number[] = [];
  for (const isolationLevel of [0, 1]) {
    const req = defaultListOffsetsRequest();
    req.replicaId = -1;
    req.isolationLevel = isolationLevel;
    req.topics = [{
      name: topic,
      partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -1 }],
    }];
    const res = await c.call(LIST_OFFSETS_API, 7, req);
    out.push(Number(res.topics[0].partitions[0].offset));
  }
  return [out[0], out[1]];
}

/** The batches of a partition as [base offset, control, control type or -1, record count]. */
async function batches(c: WireClient, topic: { name: string; id: string }, partition = 0) {
  const res = await c.call(FETCH_API, 4, fetchRequest(topic, partition, 0));
  const bytes = flattenRecords(res.responses[0].partitions[0].records);
  return decodeBatches(bytes).map((b) => [
    b.header.baseOffset,
    b.header.isControl,
    b.header.isControl
      ? new DataView(b.records[0].key!.buffer, b.records[0].key!.byteOffset).getInt16(2)
      : -1,
    b.header.recordCount,
  ]);
}

metaStoreTest("FindCoordinator answers this broker for transactional ids", async (meta) => {
  await using broker = await txnBroker(meta);
  await using c = await WireClient.connect(broker.port);
  const v3 = await c.call(FIND_COORDINATOR_API, 3, {
    ...defaultFindCoordinatorRequest(),
    key: "tx",
    keyType: 1,
  });
  assert.deepEqual([v3.errorCode, v3.host, v3.port], [0, "127.0.0.1", broker.port]);
  const v6 = await c.call(FIND_COORDINATOR_API, 6, {
    ...defaultFindCoordinatorRequest(),
    keyType: 1,
    coordinatorKeys: ["a", "b", ""],
  });
  assert.deepEqual(
    v6.coordinators.map((x) => [x.key, x.errorCode, x.port]),
    [["a", 0, broker.port], ["b", 0, broker.port], ["", ErrorCode.INVALID_REQUEST, -1]],
  );
});

metaStoreTest(
  "InitProducerId bumps the epoch, fences older producers and refuses long timeouts",
  async (meta) => {
    await using broker = await txnBroker(meta);
    await using c = await WireClient.connect(broker.port);
    const t = await createTopic(c, "t", 1);
    const first = await init(c, "tx");
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.equal(first.producerEpoch, 0);
    const second = await init(c, "tx");
    assert.deepEqual([second.errorCode, second.producerId, second.producerEpoch], [
      0,
      first.producerId,
      1,
    ]);
    const pid = first.producerId;
    // The first producer is fenced everywhere.
    assert.deepEqual(
      await addPartitions(c, "tx", pid, 0, [{ name: "t", partitions: [0] }]),
      [["t", 0, ErrorCode.PRODUCER_FENCED]],
    );
    assert.deepEqual(
      await addPartitions(c, "tx", pid, 0, [{ name: "t", partitions: [0] }], 1),
      [["t", 0, ErrorCode.INVALID_PRODUCER_EPOCH]],
    );
    assert.equal(await endTxn(c, "tx", pid, 0, true), ErrorCode.PRODUCER_FENCED);
    assert.equal(await endTxn(c, "tx", pid, 0, true, 1), ErrorCode.INVALID_PRODUCER_EPOCH);
    // The current producer's transaction; the fenced one cannot produce into it.
    assert.deepEqual(await addPartitions(c, "tx", pid, 1, [{ name: "t", partitions: [0] }]), [[
      "t",
      0,
      0,
    ]]);
    assert.deepEqual(await produceTxn(c, "tx", "t", txnBatch(pid, 0, 0, 0, 2)), [[
      ErrorCode.INVALID_PRODUCER_EPOCH,
      -1,
    ]]);
    assert.deepEqual(await produceTxn(c, "tx", "t", txnBatch(pid, 1, 0, 0, 2)), [[0, 0]]);
    // KIP-360: a retry of the last bump gets the same epoch; an older epoch is fenced.
    // A new producer aborts the ongoing transaction first (markers written), then answers.
    const third = await init(c, "tx", { producerId: pid, producerEpoch: 1 });
    assert.equal(third.errorCode, ErrorCode.NONE);
    assert.equal(third.producerEpoch, 2, "the fence's epoch, kept for the KIP-360 retry");
    assert.deepEqual(await batches(c, { name: "t", id: t }), [[0, false, -1, 2], [2, true, 0, 1]]);
    assert.deepEqual(await ends(c, "t"), [3, 3]);
    const stale = await init(c, "tx", { producerId: pid, producerEpoch: 0 });
    assert.equal(stale.errorCode, ErrorCode.PRODUCER_FENCED);
    const staleV3 = await init(c, "tx", { version: 3, producerId: pid, producerEpoch: 0 });
    assert.equal(staleV3.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    const otherId = await init(c, "tx", { producerId: pid + 1000, producerEpoch: 0 });
    assert.equal(otherId.errorCode, ErrorCode.PRODUCER_FENCED);
    const tooLong = await init(c, "tx2", { timeoutMs: 900_001 });
    assert.deepEqual([tooLong.errorCode, tooLong.producerId], [
      ErrorCode.INVALID_TRANSACTION_TIMEOUT,
      -1,
    ]);
    // A non-transactional producer still gets its own ids.
    const plain = await c.call(INIT_PRODUCER_ID_API, 5, {
      transactionalId: null,
      transactionTimeoutMs: 0,
      producerId: -1,
      producerEpoch: -1,
      enable2Pc: false,
      keepPreparedTxn: false,
    });
    assert.equal(plain.errorCode, 0);
    assert.notEqual(plain.producerId, pid);
  },
);

metaStoreTest(
  "EndTxn commits and aborts with markers in every partition, and the LSO moves",
  async (meta) => {
    await using broker = await txnBroker(meta);
    await using c = await WireClient.connect(broker.port);
    const t = await createTopic(c, "t", 2);
    const { producerId: pid, producerEpoch: epoch } = await init(c, "tx");
    assert.deepEqual(
      await addPartitions(c, "tx", pid, epoch, [{ name: "t", partitions: [0, 1] }], 0),
      [["t", 0, 0], ["t", 1, 0]],
    );
    assert.deepEqual(await produceTxn(c, "tx", "t", txnBatch(pid, epoch, 0, 0, 3), 2), [
      [0, 0],
      [0, 0],
    ]);
    assert.deepEqual(await ends(c, "t", 0), [3, 0], "open: the LSO stays at its first offset");
    assert.equal(await endTxn(c, "tx", pid, epoch, true, 0), ErrorCode.NONE);
    assert.deepEqual(await ends(c, "t", 0), [4, 4]);
    assert.deepEqual(await ends(c, "t", 1), [4, 4]);
    for (const p of [0, 1]) {
      assert.deepEqual(await batches(c, { name: "t", id: t }, p), [[0, false, -1, 3], [
        3,
        true,
        1,
        1,
      ]]);
    }
    // A retry of the commit is answered NONE; an abort of it is INVALID_TXN_STATE.
    assert.equal(await endTxn(c, "tx", pid, epoch, true), ErrorCode.NONE);
    assert.equal(await endTxn(c, "tx", pid, epoch, false), ErrorCode.INVALID_TXN_STATE);
    // The next transaction (only partition 1) is aborted.
    assert.deepEqual(
      await addPartitions(c, "tx", pid, epoch, [{ name: "t", partitions: [1] }]),
      [["t", 1, 0]],
    );
    assert.deepEqual(await produceTxn(c, "tx", "t", txnBatch(pid, epoch, 3, 3, 2), 2), [
      [ErrorCode.INVALID_TXN_STATE, -1],
      [0, 4],
    ]);
    assert.equal(await endTxn(c, "tx", pid, epoch, false, 4), ErrorCode.NONE);
    assert.deepEqual(await ends(c, "t", 1), [7, 7]);
    assert.deepEqual((await batches(c, { name: "t", id: t }, 1)).slice(2), [[4, false, -1, 2], [
      6,
      true,
      0,
      1,
    ]]);
    assert.deepEqual(await ends(c, "t", 0), [4, 4], "partition 0 was not in it");
    // Ending with nothing ongoing.
    assert.equal(await endTxn(c, "tx", pid, epoch, true), ErrorCode.INVALID_TXN_STATE);
    const v5 = await c.call(END_TXN_API, 5, {
      transactionalId: "tx",
      producerId: pid,
      producerEpoch: epoch,
      committed: false,
    });
    // EndTxn v5 is transactions v2: an abort with nothing ongoing is an ending, and bumps the epoch.
    assert.deepEqual([v5.errorCode, Number(v5.producerId), v5.producerEpoch], [
      0,
      pid,
      epoch + 1,
    ]);
  },
);

metaStoreTest("bad transactional input gets Kafka's error codes", async (meta) => {
  await using broker = await txnBroker(meta);
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "t", 1);
  assert.equal(await endTxn(c, "nobody", 5, 0, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  const { producerId: pid, producerEpoch: epoch } = await init(c, "tx");
  assert.equal(await endTxn(c, "tx", pid + 1, epoch, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.deepEqual(
    await addPartitions(c, "tx", pid, epoch, [{ name: "t", partitions: [0] }, {
      name: "missing",
      partitions: [0],
    }]),
    [["t", 0, ErrorCode.OPERATION_NOT_ATTEMPTED], [
      "missing",
      0,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]],
  );
  assert.deepEqual(
    await addPartitions(c, "tx", pid, epoch, [{ name: "t", partitions: [7] }]),
    [["t", 7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
  );
  // Produce: no transaction, no transactional id.
  assert.deepEqual(await produceTxn(c, "tx", "t", txnBatch(pid, epoch, 0, 0, 1)), [[
    ErrorCode.INVALID_TXN_STATE,
    -1,
  ]]);
  assert.deepEqual(await produceTxn(c, null, "t", txnBatch(pid, epoch, 0, 0, 1)), [[
    ErrorCode.INVALID_TXN_STATE,
    -1,
  ]]);
  // v4 batched, verifyOnly.
  const v4 = await c.call(ADD_PARTITIONS_TO_TXN_API, 4, {
    ...defaultAddPartitionsToTxnRequest(),
    transactions: [{
      transactionalId: "tx",
      producerId: pid,
      producerEpoch: epoch,
      verifyOnly: true,
      topics: [{ name: "t", partitions: [0] }],
    }, {
      transactionalId: "unknown",
      producerId: 1,
      producerEpoch: 0,
      verifyOnly: false,
      topics: [{ name: "t", partitions: [0] }],
    }],
  });
  assert.deepEqual(
    v4.resultsByTransaction.map((r) => [
      r.transactionalId,
      r.topicResults[0].resultsByPartition[0].partitionErrorCode,
    ]),
    [["tx", ErrorCode.INVALID_TXN_STATE], ["unknown", ErrorCode.INVALID_PRODUCER_ID_MAPPING]],
  );
});

metaStoreTest(
  "TxnOffsetCommit offsets are visible only once the transaction commits",
  async (meta) => {
    await using broker = await txnBroker(meta);
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, "t", 1);
    const { producerId: pid, producerEpoch: epoch } = await init(c, "tx");
    const commit = (generation: number, memberId: string, version = 3) =>
      c.call(TXN_OFFSET_COMMIT_API, version, {
        ...defaultTxnOffsetCommitRequest(),
        transactionalId: "tx",
        groupId: "g",
        producerId: pid,
        producerEpoch: epoch,
        generationIdOrMemberEpoch: generation,
        memberId,
        topics: [{
          name: "t",
          topicId: "",
          partitions: [{
            partitionIndex: 0,
            committedOffset: 42,
            committedLeaderEpoch: -1,
            committedMetadata: "m",
          }],
        }],
      }).then((r) => r.topics[0].partitions[0].errorCode);
    const fetched = async () => {
      const r = await c.call(OFFSET_FETCH_API, 7, {
        ...defaultOffsetFetchRequest(),
        groupId: "g",
        topics: [{ name: "t", partitionIndexes: [0] }],
      });
      return Number(r.topics[0].partitions[0].committedOffset);
    };
    assert.equal(await commit(-1, "", 0), ErrorCode.INVALID_TXN_STATE, "no AddOffsetsToTxn yet");
    const added = await c.call(ADD_OFFSETS_TO_TXN_API, 3, {
      transactionalId: "tx",
      producerId: pid,
      producerEpoch: epoch,
      groupId: "g",
    });
    assert.equal(added.errorCode, 0);
    // A member of a generation the group does not have (it has none).
    assert.equal(await commit(3, "member-1"), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await commit(-1, "", 0), ErrorCode.NONE);
    assert.equal(await fetched(), -1, "not visible before the commit");
    assert.equal(await endTxn(c, "tx", pid, epoch, true), ErrorCode.NONE);
    assert.equal(await fetched(), 42);
  },
);

metaStoreTest(
  "a transaction past its timeout is aborted and its producer fenced",
  async (meta) => {
    await using broker = await txnBroker(meta);
    await using c = await WireClient.connect(broker.port);
    const t = await createTopic(c, "t", 1);
    const { producerId: pid, producerEpoch: epoch } = await init(c, "tx", { timeoutMs: 300 });
    await addPartitions(c, "tx", pid, epoch, [{ name: "t", partitions: [0] }]);
    assert.deepEqual(await produceTxn(c, "tx", "t", txnBatch(pid, epoch, 0, 0, 2)), [[0, 0]]);
    // The broker's sweep (every second) aborts it.
    const deadline = Date.now() + 5000;
    while ((await ends(c, "t"))[1] !== 3 && Date.now() < deadline) await sleep(100);
    assert.deepEqual(await ends(c, "t"), [3, 3]);
    assert.deepEqual(await batches(c, { name: "t", id: t }), [[0, false, -1, 2], [2, true, 0, 1]]);
    assert.equal(await endTxn(c, "tx", pid, epoch, true), ErrorCode.PRODUCER_FENCED);
    assert.deepEqual(await produceTxn(c, "tx", "t", txnBatch(pid, epoch, 2, 2, 1)), [[
      ErrorCode.INVALID_PRODUCER_EPOCH,
      -1,
    ]]);
    const d = await c.call(DESCRIBE_TRANSACTIONS_API, 0, { transactionalIds: ["tx"] });
    assert.deepEqual(
      [d.transactionStates[0].transactionState, d.transactionStates[0].producerEpoch],
      ["CompleteAbort", epoch + 1],
    );
  },
);

metaStoreTest("DescribeTransactions, ListTransactions and DescribeProducers", async (meta) => {
  await using broker = await txnBroker(meta);
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "t", 2);
  const a = await init(c, "tx-a");
  await init(c, "tx-b");
  await addPartitions(c, "tx-a", a.producerId, a.producerEpoch, [{
    name: "t",
    partitions: [1, 0],
  }]);
  assert.deepEqual(
    await produceTxn(c, "tx-a", "t", txnBatch(a.producerId, a.producerEpoch, 0, 0, 2)),
    [[0, 0]],
  );
  const d = await c.call(DESCRIBE_TRANSACTIONS_API, 0, { transactionalIds: ["tx-a", "none"] });
  const [sa, none] = d.transactionStates;
  assert.deepEqual(
    [sa.errorCode, sa.transactionState, sa.transactionTimeoutMs, Number(sa.producerId)],
    [0, "Ongoing", 60_000, a.producerId],
  );
  assert.ok(Number(sa.transactionStartTimeMs) > 0);
  assert.deepEqual(sa.topics, [{ topic: "t", partitions: [0, 1] }]);
  assert.equal(none.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  const list = async (version: number, req: Record<string, unknown>) => {
    const r = await c.call(LIST_TRANSACTIONS_API, version, {
      stateFilters: [],
      producerIdFilters: [],
      durationFilter: -1,
      transactionalIdPattern: null,
      ...req,
    });
    return [
      r.errorCode,
      r.unknownStateFilters,
      r.transactionStates.map((s) => [s.transactionalId, s.transactionState]).sort(),
    ];
  };
  assert.deepEqual(await list(0, {}), [0, [], [["tx-a", "Ongoing"], ["tx-b", "Empty"]]]);
  assert.deepEqual(await list(0, { stateFilters: ["Ongoing", "Bogus"] }), [0, ["Bogus"], [[
    "tx-a",
    "Ongoing",
  ]]]);
  assert.deepEqual(await list(0, { producerIdFilters: [a.producerId] }), [0, [], [[
    "tx-a",
    "Ongoing",
  ]]]);
  assert.deepEqual(await list(1, { durationFilter: 3_600_000, stateFilters: ["Ongoing"] }), [
    0,
    [],
    [],
  ]);
  assert.deepEqual(await list(2, { transactionalIdPattern: "tx-b" }), [0, [], [[
    "tx-b",
    "Empty",
  ]]]);
  assert.deepEqual(await list(2, { transactionalIdPattern: "(" }), [
    ErrorCode.INVALID_REGULAR_EXPRESSION,
    [],
    [],
  ]);
  const p = await c.call(DESCRIBE_PRODUCERS_API, 0, {
    topics: [{ name: "t", partitionIndexes: [0, 1] }, { name: "missing", partitionIndexes: [0] }],
  });
  const p0 = p.topics[0].partitions[0];
  assert.deepEqual(
    p0.activeProducers.map((x) => [
      Number(x.producerId),
      x.producerEpoch,
      x.lastSequence,
      Number(x.currentTxnStartOffset),
    ]),
    [[a.producerId, a.producerEpoch, 1, 0]],
  );
  assert.deepEqual(p.topics[0].partitions[1].activeProducers, []);
  assert.equal(p.topics[1].partitions[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

metaStoreTest(
  "an ending a broker left at PrepareCommit is finished by the sweep",
  async (meta) => {
    await using broker = await txnBroker(meta);
    await using c = await WireClient.connect(broker.port);
    const t = await createTopic(c, "t", 1);
    const { producerId: pid, producerEpoch: epoch } = await init(c, "tx");
    await addPartitions(c, "tx", pid, epoch, [{ name: "t", partitions: [0] }]);
    assert.deepEqual(await produceTxn(c, "tx", "t", txnBatch(pid, epoch, 0, 0, 2)), [[0, 0]]);
    // A broker wrote the decision and died before any marker (step 1 of 4).
    const stored = (await meta.getTransaction("tx"))!;
    const rec = JSON.parse(stored.state);
    const prepared = { ...rec, state: "PrepareCommit", lastUpdateMs: Date.now() - 60_000 };
    assert.ok(await meta.putTransaction("tx", stored.version, JSON.stringify(prepared)));
    const deadline = Date.now() + 5000;
    while ((await ends(c, "t"))[1] !== 3 && Date.now() < deadline) await sleep(100);
    assert.deepEqual(await batches(c, { name: "t", id: t }), [[0, false, -1, 2], [2, true, 1, 1]]);
    assert.equal(await endTxn(c, "tx", pid, epoch, true), ErrorCode.NONE, "a retry of it");
  },
);

metaStoreTest(
  "read_committed Fetch stops at the LSO and lists the aborted transactions of its range",
  async (meta) => {
    await using broker = await txnBroker(meta);
    await using c = await WireClient.connect(broker.port);
    const id = await createTopic(c, "rc", 1);
    const topic = { name: "rc", id };
    const p = await init(c, "rc-tx");
    const pid = p.producerId;
    const epoch = p.producerEpoch;
    const fetchRc = async () => {
      const req = fetchRequest(topic, 0, 0);
      req.isolationLevel = 1;
      return (await c.call(FETCH_API, 12, req)).responses[0].partitions[0];
    };
    // An aborted transaction at 0-1 (marker at 2), a committed one at 3-4 (marker at 5).
    assert.deepEqual(
      await addPartitions(c, "rc-tx", pid, epoch, [{ name: "rc", partitions: [0] }]),
      [[
        "rc",
        0,
        0,
      ]],
    );
    assert.deepEqual(await produceTxn(c, "rc-tx", "rc", txnBatch(pid, epoch, 0, 0, 2)), [[0, 0]]);
    // Open: a read_committed fetch sees nothing yet, the LSO holds at 0.
    const open = await fetchRc();
    assert.equal(Number(open.lastStableOffset), 0);
    assert.equal(flattenRecords(open.records).length, 0);
    assert.equal(await endTxn(c, "rc-tx", pid, epoch, false), 0);
    assert.deepEqual(
      await addPartitions(c, "rc-tx", pid, epoch, [{ name: "rc", partitions: [0] }]),
      [[
        "rc",
        0,
        0,
      ]],
    );
    assert.deepEqual(await produceTxn(c, "rc-tx", "rc", txnBatch(pid, epoch, 2, 3, 2)), [[0, 3]]);
    assert.equal(await endTxn(c, "rc-tx", pid, epoch, true), 0);
    const done = await fetchRc();
    assert.equal(Number(done.lastStableOffset), 6);
    assert.deepEqual(
      done.abortedTransactions?.map((a) => [Number(a.producerId), Number(a.firstOffset)]),
      [[pid, 0]],
      "the aborted range, so the consumer drops offsets 0-1",
    );
    const offsets = decodeBatches(flattenRecords(done.records)).map((b) => b.header.baseOffset);
    assert.deepEqual(offsets, [0, 2, 3, 5], "data and markers, as Kafka serves them");
    // read_uncommitted carries no aborted list.
    const ru = (await c.call(FETCH_API, 12, fetchRequest(topic, 0, 0))).responses[0].partitions[0];
    assert.equal(ru.abortedTransactions, null);
  },
);

/** The coordinator's stored record of a transactional id. */
async function txnRecord(meta: MetaStore, tid: string): Promise<TxnRecord | null> {
  const s = await meta.getTransaction(tid);
  return s ? parseTxn(s.state) : null;
}

/** EndTxn v5 (transactions v2): [error code, producer id, producer epoch]. */
async function endTxnV5(c: WireClient, tid: string, pid: number, epoch: number, commit: boolean) {
  const res = await c.call(END_TXN_API, 5, {
    transactionalId: tid,
    producerId: pid,
    producerEpoch: epoch,
    committed: commit,
  });
  return [res.errorCode, Number(res.producerId), res.producerEpoch];
}

/** Produce at `version` with the producer's transactional id: [error code, base offset] per partition. */
async function produceAt(
  c: WireClient,
  version: number,
  tid: string,
  topic: string,
  batch: Uint8Array,
  partitions = 1,
) {
  const req = produceRequest(topic, batch, partitions);
  req.transactionalId = tid;
  const res = await c.call(PRODUCE_API, version, req);
  return res.responses[0].partitionResponses.map((p) => [p.errorCode, Number(p.baseOffset)]);
}

metaStoreTest(
  "transactions v2: Produce v12 adds partitions, EndTxn v5 bumps the epoch at every end",
  async (meta) => {
    await using broker = await txnBroker(meta);
    await using c = await WireClient.connect(broker.port);
    const t = await createTopic(c, "v2", 2);
    const { producerId: pid, producerEpoch: e0 } = await init(c, "tx2");
    // Below v11 a partition outside the transaction is INVALID_TXN_STATE, from v11
    // TRANSACTION_ABORTABLE (120), and v12 adds it (starting the transaction).
    assert.deepEqual(await produceAt(c, 10, "tx2", "v2", txnBatch(pid, e0, 0, 0, 2)), [[
      ErrorCode.INVALID_TXN_STATE,
      -1,
    ]]);
    assert.deepEqual(await produceAt(c, 11, "tx2", "v2", txnBatch(pid, e0, 0, 0, 2)), [[120, -1]]);
    assert.deepEqual(await produceAt(c, 12, "tx2", "v2", txnBatch(pid, e0, 0, 0, 2), 2), [
      [0, 0],
      [0, 0],
    ]);
    const ongoing = await txnRecord(meta, "tx2");
    assert.equal(ongoing?.state, "Ongoing");
    assert.deepEqual(ongoing?.partitions.map((p) => p.partition), [0, 1]);
    assert.equal(ongoing?.transactionVersion, 2);
    // Commit: the epoch is bumped and the markers carry the new one.
    assert.deepEqual(await endTxnV5(c, "tx2", pid, e0, true), [0, pid, e0 + 1]);
    assert.deepEqual(await ends(c, "v2", 0), [3, 3]);
    const raw = await c.call(FETCH_API, 4, fetchRequest({ name: "v2", id: t }, 0, 0));
    const decoded = decodeBatches(flattenRecords(raw.responses[0].partitions[0].records));
    assert.deepEqual(decoded.map((b) => [b.header.isControl, b.header.producerEpoch]), [
      [false, e0],
      [true, e0 + 1],
    ]);
    // A retry of the same EndTxn (the epoch before) gets the same answer; anything else not.
    assert.deepEqual(await endTxnV5(c, "tx2", pid, e0, true), [0, pid, e0 + 1]);
    assert.deepEqual(await endTxnV5(c, "tx2", pid, e0, false), [
      ErrorCode.INVALID_TXN_STATE,
      -1,
      -1,
    ]);
    assert.deepEqual(await endTxnV5(c, "tx2", pid, e0 + 1, true), [
      ErrorCode.INVALID_TXN_STATE,
      -1,
      -1,
    ]);
    // The old epoch is fenced; the new one starts its sequences at 0.
    assert.deepEqual(await produceAt(c, 12, "tx2", "v2", txnBatch(pid, e0, 2, 2, 1)), [[
      ErrorCode.INVALID_PRODUCER_EPOCH,
      -1,
    ]]);
    assert.deepEqual(await produceAt(c, 12, "tx2", "v2", txnBatch(pid, e0 + 1, 0, 10, 1)), [[
      0,
      3,
    ]]);
    // Abort: bumped again, an abort marker with the new epoch, the LSO past it.
    assert.deepEqual(await endTxnV5(c, "tx2", pid, e0 + 1, false), [0, pid, e0 + 2]);
    assert.deepEqual(await endTxnV5(c, "tx2", pid, e0 + 1, false), [0, pid, e0 + 2], "a retry");
    assert.deepEqual(await ends(c, "v2", 0), [5, 5]);
    // An abort with nothing ongoing ends too (and bumps); a commit of nothing is refused.
    assert.deepEqual(await endTxnV5(c, "tx2", pid, e0 + 2, true), [
      ErrorCode.INVALID_TXN_STATE,
      -1,
      -1,
    ]);
    assert.deepEqual(await endTxnV5(c, "tx2", pid, e0 + 2, false), [0, pid, e0 + 3]);
    assert.deepEqual(await ends(c, "v2", 0), [5, 5], "no markers for an empty transaction");
    // An epoch two behind is fenced.
    assert.deepEqual(await endTxnV5(c, "tx2", pid, e0 + 1, false), [
      ErrorCode.PRODUCER_FENCED,
      -1,
      -1,
    ]);
  },
);

metaStoreTest(
  "transactions v2: TxnOffsetCommit v5 adds the group itself; v4 still needs AddOffsetsToTxn",
  async (meta) => {
    await using broker = await txnBroker(meta);
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, "v2o", 1);
    const { producerId: pid, producerEpoch: epoch } = await init(c, "tx2o");
    const commit = async (version: number, offset: number) => {
      const req = defaultTxnOffsetCommitRequest();
      req.transactionalId = "tx2o";
      req.groupId = "g2";
      req.producerId = pid;
      req.producerEpoch = epoch;
      req.topics = [{
        name: "v2o",
        topicId: "",
        partitions: [{
          partitionIndex: 0,
          committedOffset: offset,
          committedLeaderEpoch: -1,
          committedMetadata: "",
        }],
      }];
      const res = await c.call(TXN_OFFSET_COMMIT_API, version, req);
      return res.topics[0].partitions[0].errorCode;
    };
    assert.equal(await commit(4, 7), ErrorCode.INVALID_TXN_STATE);
    assert.equal(await commit(5, 7), ErrorCode.NONE);
    const rec = await txnRecord(meta, "tx2o");
    assert.deepEqual([rec?.state, rec?.groups], ["Ongoing", ["g2"]]);
    assert.deepEqual(await endTxnV5(c, "tx2o", pid, epoch, true), [0, pid, epoch + 1]);
    const fetch = defaultOffsetFetchRequest();
    fetch.groupId = "g2";
    fetch.topics = [{ name: "v2o", partitionIndexes: [0] }];
    const fetched = await c.call(OFFSET_FETCH_API, 5, fetch);
    assert.equal(Number(fetched.topics[0].partitions[0].committedOffset), 7);
  },
);

metaStoreTest(
  "transactions v1 (EndTxn v4, AddPartitionsToTxn) keep their epoch beside v2",
  async (meta) => {
    await using broker = await txnBroker(meta);
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, "v1", 1);
    const { producerId: pid, producerEpoch: epoch } = await init(c, "tx1");
    for (const [i, commit] of [[0, true], [1, false], [2, true]] as const) {
      assert.deepEqual(
        await addPartitions(c, "tx1", pid, epoch, [{ name: "v1", partitions: [0] }]),
        [["v1", 0, 0]],
      );
      assert.deepEqual(await produceAt(c, 11, "tx1", "v1", txnBatch(pid, epoch, i, i, 1)), [[
        0,
        i * 2,
      ]]);
      const res = await c.call(END_TXN_API, 4, {
        transactionalId: "tx1",
        producerId: pid,
        producerEpoch: epoch,
        committed: commit,
      });
      assert.equal(res.errorCode, ErrorCode.NONE);
      assert.equal((await txnRecord(meta, "tx1"))?.producerEpoch, epoch);
      // A retry with the same epoch is answered NONE, as before.
      assert.equal(await endTxn(c, "tx1", pid, epoch, commit), ErrorCode.NONE);
    }
    assert.deepEqual(await ends(c, "v1", 0), [6, 6]);
  },
);
