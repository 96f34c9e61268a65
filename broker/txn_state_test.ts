import assert from "node:assert/strict";
import { ErrorCode } from "../protocol/errors.ts";
import {
  addOffsets,
  addPartitions,
  commitTxnOffsets,
  complete,
  endIdentity,
  endTxn,
  endTxnV2,
  expired,
  fenceAndAbort,
  initProducer,
  MAX_PRODUCER_EPOCH,
  newRecord,
  produceAdd,
  produceCheck,
  type TxnRecord,
  verifyPartition,
} from "./txn_state.ts";

const T0 = { topic: "t", topicId: "id-t", partition: 0 };
const T1 = { topic: "t", topicId: "id-t", partition: 1 };
const input = { transactionalId: "tx", timeoutMs: 1000, producerId: -1, producerEpoch: -1 };

function answer(r: TxnRecord | null, i = input, fresh: number | null = null) {
  const out = initProducer(r, i, 10, fresh);
  assert.equal(out.kind, "answer");
  return out as Extract<typeof out, { kind: "answer" }>;
}

function ongoing(): TxnRecord {
  return addPartitions(newRecord("tx", 7, 1000, 0), 7, 0, [T0], 5).record!;
}

Deno.test("initProducer needs a fresh id first, then bumps the epoch each time", () => {
  assert.deepEqual(initProducer(null, input, 0, null), { kind: "needId" });
  const first = answer(null, input, 7);
  assert.deepEqual(first.identity, { errorCode: 0, producerId: 7, producerEpoch: 0 });
  const second = answer(first.record!);
  assert.deepEqual([second.identity.producerEpoch, second.record!.lastProducerEpoch], [1, 0]);
});

Deno.test("initProducer: KIP-360 retries get the same answer; others are fenced", () => {
  const r = answer(answer(null, input, 7).record!).record!; // epoch 1, last 0
  const retry = answer(r, { ...input, producerId: 7, producerEpoch: 0 });
  assert.deepEqual([retry.identity.producerEpoch, retry.record!.producerEpoch], [1, 1]);
  const bump = answer(r, { ...input, producerId: 7, producerEpoch: 1 });
  assert.equal(bump.identity.producerEpoch, 2);
  assert.equal(
    answer(bump.record!, { ...input, producerId: 7, producerEpoch: 0 }).identity.errorCode,
    ErrorCode.PRODUCER_FENCED,
  );
  assert.equal(
    answer(r, { ...input, producerId: 8, producerEpoch: 1 }).identity.errorCode,
    ErrorCode.PRODUCER_FENCED,
  );
});

Deno.test("initProducer rotates an exhausted producer id and aborts or finishes first", () => {
  const worn = { ...newRecord("tx", 7, 1000, 0), producerEpoch: MAX_PRODUCER_EPOCH - 1 };
  assert.deepEqual(initProducer(worn, input, 0, null), { kind: "needId" });
  const rotated = answer(worn, input, 9).record!;
  assert.deepEqual([rotated.producerId, rotated.producerEpoch, rotated.previousProducerId], [
    9,
    0,
    7,
  ]);
  assert.deepEqual(initProducer(ongoing(), input, 0, null), { kind: "abortFirst" });
  const preparing = { ...ongoing(), state: "PrepareCommit" as const };
  assert.deepEqual(initProducer(preparing, input, 0, null), { kind: "finishFirst" });
});

Deno.test("addPartitions starts the transaction once and checks the producer", () => {
  const r = ongoing();
  assert.deepEqual([r.state, r.startTimeMs, r.partitions], ["Ongoing", 5, [T0]]);
  const more = addPartitions(r, 7, 0, [T1, T0], 8).record!;
  assert.deepEqual([more.startTimeMs, more.partitions], [5, [T0, T1]]);
  assert.deepEqual(addPartitions(r, 7, 0, [T0], 9), { record: null, errorCode: 0 });
  assert.equal(addPartitions(r, 8, 0, [T0], 9).errorCode, ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(addPartitions(r, 7, 1, [T0], 9).errorCode, ErrorCode.PRODUCER_FENCED);
  assert.equal(addPartitions(null, 7, 0, [T0], 9).errorCode, ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  const ending = { ...r, state: "PrepareAbort" as const };
  assert.equal(addPartitions(ending, 7, 0, [T1], 9).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
});

Deno.test("produce and verify checks: in the transaction, current epoch", () => {
  const r = ongoing();
  assert.equal(produceCheck(r, 7, 0, T0), 0);
  assert.equal(produceCheck(r, 7, 0, T1), ErrorCode.INVALID_TXN_STATE);
  assert.equal(
    produceCheck({ ...r, producerEpoch: 1 }, 7, 0, T0),
    ErrorCode.INVALID_PRODUCER_EPOCH,
  );
  assert.equal(produceCheck(r, 8, 0, T0), ErrorCode.INVALID_TXN_STATE);
  assert.equal(produceCheck(null, 7, 0, T0), ErrorCode.INVALID_TXN_STATE);
  assert.equal(verifyPartition(r, 7, 0, T1), ErrorCode.INVALID_TXN_STATE);
  assert.equal(verifyPartition(r, 7, 0, T0), 0);
});

Deno.test("offsets need AddOffsetsToTxn and keep the latest per partition", () => {
  const o = (offset: number) => ({
    topic: "t",
    partition: 0,
    offset,
    leaderEpoch: -1,
    metadata: null,
    commitTimestamp: 1,
  });
  const r = ongoing();
  assert.equal(commitTxnOffsets(r, 7, 0, "g", [o(1)], 6).errorCode, ErrorCode.INVALID_TXN_STATE);
  const withGroup = addOffsets(r, 7, 0, "g", 6).record!;
  assert.deepEqual(withGroup.groups, ["g"]);
  const once = commitTxnOffsets(withGroup, 7, 0, "g", [o(1)], 7).record!;
  const twice = commitTxnOffsets(once, 7, 0, "g", [o(5)], 8).record!;
  assert.deepEqual(twice.offsets, [{ groupId: "g", offsets: [o(5)] }]);
});

Deno.test("endTxn prepares, completes, answers retries and refuses the other outcome", () => {
  const r = ongoing();
  const out = endTxn(r, 7, 0, true, 9);
  assert.equal(out.kind, "prepare");
  const prepared = (out as { record: TxnRecord }).record;
  assert.equal(prepared.state, "PrepareCommit");
  assert.deepEqual(endTxn(prepared, 7, 0, true, 9), { kind: "inProgress" });
  assert.deepEqual(endTxn(prepared, 7, 0, false, 9), {
    kind: "answer",
    errorCode: ErrorCode.INVALID_TXN_STATE,
  });
  const done = complete(prepared, 10)!;
  assert.deepEqual([done.state, done.partitions], ["CompleteCommit", []]);
  assert.deepEqual(endTxn(done, 7, 0, true, 11), { kind: "answer", errorCode: 0 });
  assert.deepEqual(endTxn(done, 7, 0, false, 11), {
    kind: "answer",
    errorCode: ErrorCode.INVALID_TXN_STATE,
  });
  assert.deepEqual(endTxn(newRecord("tx", 7, 1, 0), 7, 0, true, 1), {
    kind: "answer",
    errorCode: ErrorCode.INVALID_TXN_STATE,
  });
  assert.deepEqual(endTxn(r, 7, 1, true, 9), {
    kind: "answer",
    errorCode: ErrorCode.PRODUCER_FENCED,
  });
});

Deno.test("a transaction past its timeout is fenced and aborted", () => {
  const r = ongoing(); // started at 5, timeout 1000
  assert.equal(expired(r, 1005), false);
  assert.equal(expired(r, 1006), true);
  const fenced = fenceAndAbort(r, 1006)!;
  assert.deepEqual([fenced.state, fenced.producerEpoch, fenced.lastProducerEpoch], [
    "PrepareAbort",
    1,
    0,
  ]);
  assert.equal(fenceAndAbort(fenced, 1007), null, "exactly once: only from Ongoing");
  assert.equal(complete(fenced, 1008)!.state, "CompleteAbort");
});

Deno.test("endTxnV2 bumps the epoch in the Prepare record; a retry gets the same answer", () => {
  const out = endTxnV2(ongoing(), 7, 0, true, 9, null);
  assert.equal(out.kind, "prepare");
  const prepared = (out as Extract<typeof out, { kind: "prepare" }>).record;
  assert.deepEqual(
    [
      prepared.state,
      prepared.producerEpoch,
      prepared.lastProducerEpoch,
      prepared.transactionVersion,
    ],
    ["PrepareCommit", 1, 0, 2],
  );
  assert.deepEqual(endTxnV2(prepared, 7, 0, true, 9, null), { kind: "inProgress" });
  assert.deepEqual(endTxnV2(prepared, 7, 1, true, 9, null), {
    kind: "answer",
    errorCode: ErrorCode.PRODUCER_FENCED,
  });
  const done = complete(prepared, 10)!;
  assert.deepEqual(endTxnV2(done, 7, 0, true, 11, null), { kind: "answer", errorCode: 0 });
  assert.deepEqual(endIdentity(done), { producerId: 7, producerEpoch: 1 });
  assert.deepEqual(endTxnV2(done, 7, 0, false, 11, null), {
    kind: "answer",
    errorCode: ErrorCode.INVALID_TXN_STATE,
  });
  // A v1 ending (endTxn) of the same record keeps the epoch.
  const v1 = endTxn(ongoing(), 7, 0, true, 9);
  assert.equal(v1.kind === "prepare" && v1.record.producerEpoch, 0);
});

Deno.test("endTxnV2 with the epoch exhausted hands over to a new producer id", () => {
  const top = { ...ongoing(), producerEpoch: MAX_PRODUCER_EPOCH - 1 };
  assert.deepEqual(endTxnV2(top, 7, MAX_PRODUCER_EPOCH - 1, false, 9, null), { kind: "needId" });
  const out = endTxnV2(top, 7, MAX_PRODUCER_EPOCH - 1, false, 9, 8);
  const prepared = (out as Extract<typeof out, { kind: "prepare" }>).record;
  assert.deepEqual([prepared.producerId, prepared.producerEpoch], [7, MAX_PRODUCER_EPOCH]);
  assert.deepEqual(endIdentity(prepared), { producerId: 8, producerEpoch: 0 });
  const done = complete(prepared, 10)!;
  assert.deepEqual(
    [done.producerId, done.producerEpoch, done.previousProducerId, done.nextProducerId],
    [8, 0, 7, undefined],
  );
  // The retry names the old id at the top epoch.
  assert.deepEqual(endTxnV2(done, 7, MAX_PRODUCER_EPOCH - 1, false, 11, null), {
    kind: "answer",
    errorCode: 0,
  });
  assert.deepEqual(endTxnV2(done, 8, 0, true, 11, null), {
    kind: "answer",
    errorCode: ErrorCode.INVALID_TXN_STATE,
  });
});

Deno.test("produceAdd starts a transaction or joins one; stale epochs and endings are refused", () => {
  const empty = newRecord("tx", 7, 1000, 0);
  const started = produceAdd(empty, 7, 0, T0, 5).record!;
  assert.deepEqual([started.state, started.partitions.length, started.startTimeMs], [
    "Ongoing",
    1,
    5,
  ]);
  assert.equal(produceAdd(started, 7, 0, T0, 6).record, null, "already in");
  assert.equal(produceAdd(started, 7, 0, T1, 6).record!.partitions.length, 2);
  const bumped = { ...empty, producerEpoch: 2 };
  assert.equal(produceAdd(bumped, 7, 1, T0, 6).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.equal(produceAdd(bumped, 9, 2, T0, 6).errorCode, ErrorCode.INVALID_TXN_STATE);
  const ending = { ...started, state: "PrepareCommit" as const };
  assert.equal(produceAdd(ending, 7, 0, T1, 6).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
});
