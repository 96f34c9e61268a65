/**
 * A transactional id's coordinator state (KIP-98) and its transitions, as pure
 * functions: no I/O, no clock (the time is an argument). The record is stored
 * as JSON in the meta store and changed only by compare-and-set
 * (broker/txn_coordinator.ts), like a group's record.
 *
 * The states are Kafka's. A transaction starts Empty (after InitProducerId),
 * is Ongoing once a partition or a group's offsets are added, and ends in two
 * steps: PrepareCommit / PrepareAbort is the durable decision, taken before any
 * marker is written; CompleteCommit / CompleteAbort follows once every marker
 * (and, on commit, every pending offset) is in the stores. Whichever broker
 * finds a Prepare record finishes it, so a broker dying between the two costs
 * nothing. PrepareEpochFence is Kafka's name for "fencing the producer before
 * aborting": here the fence (the epoch bump) and PrepareAbort are written in
 * one compare-and-set, so that state is never stored.
 *
 * Both transaction versions are served (transaction.version 2 is finalized,
 * see broker/features.ts); the request decides, as in Kafka. Under v1 (EndTxn
 * v0-4) the epoch is bumped by InitProducerId and by the coordinator's aborts
 * (timeouts, fencing). Under v2 (KIP-890 part 2: EndTxn v5) every ending bumps
 * it too, in the Prepare record, so the markers carry the new epoch; the
 * epoch before stays in `lastProducerEpoch` so that a retry of the same
 * EndTxn gets the same answer. Under v2 Produce (v12+) and TxnOffsetCommit
 * (v5+) add their partition or group to the transaction themselves, starting
 * it when there is none.
 */

import { ErrorCode } from "../protocol/errors.ts";
import type { CommittedOffset } from "../stores/types.ts";

/** Kafka's transaction states, by the names DescribeTransactions and ListTransactions use. */
export type TxnStateName =
  | "Empty"
  | "Ongoing"
  | "PrepareCommit"
  | "PrepareAbort"
  | "CompleteCommit"
  | "CompleteAbort"
  | "PrepareEpochFence";

/** Every state name Kafka 4.4 knows (ListTransactions reports other filters as unknown). */
export const TXN_STATE_NAMES: readonly string[] = [
  "Empty",
  "Ongoing",
  "PrepareCommit",
  "PrepareAbort",
  "CompleteCommit",
  "CompleteAbort",
  "Dead",
  "PrepareEpochFence",
];

/** The largest producer epoch (int16); an id whose epoch would pass it is replaced. */
export const MAX_PRODUCER_EPOCH = 32767;

/** A partition in a transaction (by name for the admin APIs, by id for the markers). */
export interface TxnPartition {
  topic: string;
  topicId: string;
  partition: number;
}

/** A group's offsets committed in the transaction, stored when it commits. */
export interface PendingOffsets {
  groupId: string;
  offsets: CommittedOffset[];
}

/** The coordinator's record of one transactional id. */
export interface TxnRecord {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  /** The id before the last rotation (epoch exhausted), -1 if none: KIP-360 retries. */
  previousProducerId: number;
  /** The epoch before the last bump, -1 if none: a retried InitProducerId gets the same answer. */
  lastProducerEpoch: number;
  state: TxnStateName;
  /** Partitions of the ongoing (or ending) transaction. */
  partitions: TxnPartition[];
  /** Groups added by AddOffsetsToTxn. */
  groups: string[];
  /** Offsets from TxnOffsetCommit, per group. */
  offsets: PendingOffsets[];
  timeoutMs: number;
  /** When the transaction became Ongoing; -1 before the first one. */
  startTimeMs: number;
  lastUpdateMs: number;
  /** The transaction.version the transaction runs under (0: transactions v1, 2: v2). */
  transactionVersion: number;
  /**
   * Transactions v2 with the epoch exhausted: the producer id the ending hands
   * over (epoch 0) once complete; its markers carry the old id at the top epoch.
   */
  nextProducerId?: number;
}

/** What a producer is told: its id and epoch, or an error. */
export interface TxnIdentity {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

/** InitProducerId's input for a transactional id. */
export interface InitInput {
  transactionalId: string;
  timeoutMs: number;
  /** KIP-360: the id and epoch the producer has (-1 when it has none). */
  producerId: number;
  producerEpoch: number;
}

/**
 * InitProducerId's decision: an answer (with the record to write, if it
 * changed), a fresh producer id needed first, or a transaction to end first
 * (an Ongoing one is fenced and aborted; a Prepare one finished).
 */
export type InitOutcome =
  | { kind: "answer"; record: TxnRecord | null; identity: TxnIdentity }
  | { kind: "needId" }
  | { kind: "abortFirst" }
  | { kind: "finishFirst" };

const fail = (errorCode: number): TxnIdentity => ({ errorCode, producerId: -1, producerEpoch: -1 });

/** Whether a Prepare state is being ended. */
export function isEnding(r: TxnRecord): boolean {
  return r.state === "PrepareCommit" || r.state === "PrepareAbort" ||
    r.state === "PrepareEpochFence";
}

/** An epoch that cannot be bumped any further. */
function exhausted(epoch: number): boolean {
  return epoch >= MAX_PRODUCER_EPOCH - 1;
}

/** A fresh transaction-less record for a new producer id. */
export function newRecord(
  transactionalId: string,
  producerId: number,
  timeoutMs: number,
  now: number,
): TxnRecord {
  return {
    transactionalId,
    producerId,
    producerEpoch: 0,
    previousProducerId: -1,
    lastProducerEpoch: -1,
    state: "Empty",
    partitions: [],
    groups: [],
    offsets: [],
    timeoutMs,
    startTimeMs: -1,
    lastUpdateMs: now,
    transactionVersion: 0,
  };
}

/**
 * InitProducerId for a transactional id: a new id the first time, otherwise
 * the epoch bumped (fencing older producers). A producer that says which id
 * and epoch it has (KIP-360) is fenced unless that is the current id, or the
 * previous one with an exhausted epoch; a retry of the last bump (its epoch is
 * the one before it) gets the same answer again. `freshId` is a newly
 * allocated producer id when the caller has one.
 */
export function initProducer(
  r: TxnRecord | null,
  input: InitInput,
  now: number,
  freshId: number | null,
): InitOutcome {
  if (r === null) {
    if (freshId === null) return { kind: "needId" };
    const record = newRecord(input.transactionalId, freshId, input.timeoutMs, now);
    return { kind: "answer", record, identity: identity(record) };
  }
  const expected = input.producerId >= 0;
  const fenced = {
    kind: "answer",
    record: null,
    identity: fail(ErrorCode.PRODUCER_FENCED),
  } as const;
  if (
    expected && input.producerId !== r.producerId &&
    !(input.producerId === r.previousProducerId && exhausted(input.producerEpoch))
  ) {
    return fenced;
  }
  // KIP-360: a producer whose epoch is not the current one may only be retrying the last
  // bump (its answer was lost), and then it gets the same answer again.
  const retry = expected && input.producerEpoch !== r.producerEpoch;
  if (retry && (input.producerEpoch !== r.lastProducerEpoch || r.state === "Ongoing")) {
    return fenced;
  }
  if (isEnding(r)) return { kind: "finishFirst" };
  if (r.state === "Ongoing") return { kind: "abortFirst" };
  const epoch = retry ? r.producerEpoch : r.producerEpoch + 1;
  const last = retry ? r.lastProducerEpoch : r.producerEpoch;
  let record: TxnRecord = {
    ...r,
    producerEpoch: epoch,
    lastProducerEpoch: last,
    state: "Empty",
    partitions: [],
    groups: [],
    offsets: [],
    timeoutMs: input.timeoutMs,
    startTimeMs: -1,
    lastUpdateMs: now,
  };
  if (epoch > MAX_PRODUCER_EPOCH - 1) {
    // Epoch exhausted: a new producer id; the old one is kept for KIP-360 retries.
    if (freshId === null) return { kind: "needId" };
    record = {
      ...record,
      previousProducerId: r.producerId,
      producerId: freshId,
      producerEpoch: 0,
      lastProducerEpoch: expected ? r.producerEpoch : -1,
    };
  }
  return { kind: "answer", record, identity: identity(record) };
}

function identity(r: TxnRecord): TxnIdentity {
  return { errorCode: ErrorCode.NONE, producerId: r.producerId, producerEpoch: r.producerEpoch };
}

/**
 * The check every client request of a transaction makes: the id must be the
 * current one (INVALID_PRODUCER_ID_MAPPING) and the epoch too (PRODUCER_FENCED:
 * a newer producer, or the coordinator's abort, bumped it).
 */
export function checkProducer(
  r: TxnRecord | null,
  producerId: number,
  producerEpoch: number,
): number {
  if (r === null || r.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
  if (r.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
  return ErrorCode.NONE;
}

/** A transition's outcome: the record to write (null: unchanged) and an error code. */
export interface Step {
  record: TxnRecord | null;
  errorCode: number;
}

/** The record as an Ongoing transaction, started now unless it already was. */
function ongoing(r: TxnRecord, now: number): TxnRecord {
  if (r.state === "Ongoing") return { ...r, lastUpdateMs: now };
  return {
    ...r,
    state: "Ongoing",
    partitions: [],
    groups: [],
    offsets: [],
    startTimeMs: now,
    lastUpdateMs: now,
  };
}

function samePartition(a: { topicId: string; partition: number }, b: TxnPartition): boolean {
  return a.topicId === b.topicId && a.partition === b.partition;
}

/** Checks common to adding to a transaction; NONE when it may go on. */
function addable(r: TxnRecord | null, producerId: number, producerEpoch: number): number {
  const bad = checkProducer(r, producerId, producerEpoch);
  if (bad !== ErrorCode.NONE) return bad;
  return isEnding(r!) ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.NONE;
}

/** AddPartitionsToTxn: the partitions join the transaction, which is Ongoing from now. */
export function addPartitions(
  r: TxnRecord | null,
  producerId: number,
  producerEpoch: number,
  partitions: TxnPartition[],
  now: number,
): Step {
  const errorCode = addable(r, producerId, producerEpoch);
  if (errorCode !== ErrorCode.NONE) return { record: null, errorCode };
  const rec = r!;
  const missing = partitions.filter((p) =>
    rec.state !== "Ongoing" || !rec.partitions.some((q) => samePartition(p, q))
  );
  if (missing.length === 0) return { record: null, errorCode };
  const next = ongoing(rec, now);
  const added = [...next.partitions];
  for (const p of missing) if (!added.some((q) => samePartition(p, q))) added.push({ ...p });
  added.sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition);
  return { record: { ...next, partitions: added }, errorCode };
}

/**
 * AddPartitionsToTxn with verifyOnly (KIP-890): whether each partition is in
 * the ongoing transaction (INVALID_TXN_STATE when not); nothing changes.
 */
export function verifyPartition(
  r: TxnRecord | null,
  producerId: number,
  producerEpoch: number,
  p: { topicId: string; partition: number },
): number {
  const bad = checkProducer(r, producerId, producerEpoch);
  if (bad !== ErrorCode.NONE) return bad;
  if (r!.state !== "Ongoing" || !r!.partitions.some((q) => samePartition(p, q))) {
    return ErrorCode.INVALID_TXN_STATE;
  }
  return ErrorCode.NONE;
}

/**
 * Produce's check of a transactional batch: the partition must be in the
 * producer's ongoing transaction. Produce has neither PRODUCER_FENCED nor
 * INVALID_PRODUCER_ID_MAPPING: a stale epoch is INVALID_PRODUCER_EPOCH, the
 * rest INVALID_TXN_STATE (as Kafka's partition verification answers).
 */
export function produceCheck(
  r: TxnRecord | null,
  producerId: number,
  producerEpoch: number,
  p: { topicId: string; partition: number },
): number {
  if (r !== null && r.producerId === producerId && producerEpoch < r.producerEpoch) {
    return ErrorCode.INVALID_PRODUCER_EPOCH;
  }
  const code = verifyPartition(r, producerId, producerEpoch, p);
  return code === ErrorCode.NONE ? code : ErrorCode.INVALID_TXN_STATE;
}

/**
 * Produce v12+ under transactions v2 (KIP-890 part 2): a partition not yet in
 * the transaction is added to it, starting one when there is none (Empty or
 * Complete). The producer must be the current one (Produce's errors, as
 * `produceCheck` answers them); an ending in progress is
 * CONCURRENT_TRANSACTIONS. The record is null when it is unchanged.
 */
export function produceAdd(
  r: TxnRecord | null,
  producerId: number,
  producerEpoch: number,
  p: TxnPartition,
  now: number,
): Step {
  if (produceCheck(r, producerId, producerEpoch, p) === ErrorCode.NONE) {
    return { record: null, errorCode: ErrorCode.NONE };
  }
  if (r !== null && r.producerId === producerId && producerEpoch < r.producerEpoch) {
    return { record: null, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH };
  }
  if (checkProducer(r, producerId, producerEpoch) !== ErrorCode.NONE) {
    return { record: null, errorCode: ErrorCode.INVALID_TXN_STATE };
  }
  const step = addPartitions(r, producerId, producerEpoch, [p], now);
  if (step.record) step.record = { ...step.record, transactionVersion: 2 };
  return step;
}

/** AddOffsetsToTxn: the group's offsets will be part of the transaction. */
export function addOffsets(
  r: TxnRecord | null,
  producerId: number,
  producerEpoch: number,
  groupId: string,
  now: number,
): Step {
  const errorCode = addable(r, producerId, producerEpoch);
  if (errorCode !== ErrorCode.NONE) return { record: null, errorCode };
  if (r!.state === "Ongoing" && r!.groups.includes(groupId)) return { record: null, errorCode };
  const next = ongoing(r!, now);
  return { record: { ...next, groups: [...next.groups, groupId].sort() }, errorCode };
}

/**
 * TxnOffsetCommit: offsets kept in the record until the transaction ends
 * (stored on commit, dropped on abort). The group must have been added by
 * AddOffsetsToTxn (INVALID_TXN_STATE otherwise), except with `implicit`
 * (TxnOffsetCommit v5+ under transactions v2, KIP-890 part 2), where the
 * commit adds the group itself, starting a transaction when there is none. A
 * partition committed twice keeps its latest offset.
 */
export function commitTxnOffsets(
  r: TxnRecord | null,
  producerId: number,
  producerEpoch: number,
  groupId: string,
  offsets: CommittedOffset[],
  now: number,
  implicit = false,
): Step {
  const errorCode = addable(r, producerId, producerEpoch);
  if (errorCode !== ErrorCode.NONE) return { record: null, errorCode };
  let rec = r!;
  if (rec.state !== "Ongoing" || !rec.groups.includes(groupId)) {
    if (!implicit) return { record: null, errorCode: ErrorCode.INVALID_TXN_STATE };
    const next = ongoing(rec, now);
    rec = { ...next, groups: [...next.groups, groupId].sort(), transactionVersion: 2 };
  }
  const others = rec.offsets.filter((o) => o.groupId !== groupId);
  const mine = new Map<string, CommittedOffset>();
  for (const o of rec.offsets.find((o) => o.groupId === groupId)?.offsets ?? []) {
    mine.set(`${o.topic}\0${o.partition}`, o);
  }
  for (const o of offsets) mine.set(`${o.topic}\0${o.partition}`, o);
  return {
    record: {
      ...rec,
      offsets: [...others, { groupId, offsets: [...mine.values()] }],
      lastUpdateMs: now,
    },
    errorCode,
  };
}

/**
 * EndTxn's decision: prepare (write the Prepare record, then end it), answer
 * at once (an error, or a retry of an ending already complete), or wait for
 * an ending in progress with the same outcome.
 */
export type EndOutcome =
  | { kind: "prepare"; record: TxnRecord }
  | { kind: "answer"; errorCode: number }
  | { kind: "inProgress" }
  | { kind: "needId" };

/**
 * What EndTxn v5 answers besides its error code: the producer id and epoch
 * the producer goes on with (under transactions v1 they do not change).
 */
export function endIdentity(r: TxnRecord): { producerId: number; producerEpoch: number } {
  if (r.nextProducerId !== undefined && r.nextProducerId >= 0) {
    return { producerId: r.nextProducerId, producerEpoch: 0 };
  }
  return { producerId: r.producerId, producerEpoch: r.producerEpoch };
}

/**
 * EndTxn v5 (transactions v2, KIP-890 part 2): every ending bumps the epoch,
 * in the Prepare record, so the markers carry the new one; an abort with no
 * transaction (Empty, Complete*) is an ending too (no markers, the epoch
 * bumped). The producer's epoch must be the current one, or the one just
 * before it for a retry of the ending that bumped it (an exhausted epoch hands
 * over to `freshId`, and a retry then names the previous id at the top
 * epoch). A retry of a complete ending with the same outcome is answered
 * NONE; anything else is INVALID_TXN_STATE or PRODUCER_FENCED, as Kafka
 * answers.
 */
export function endTxnV2(
  r: TxnRecord | null,
  producerId: number,
  producerEpoch: number,
  commit: boolean,
  now: number,
  freshId: number | null,
): EndOutcome {
  const answer = (errorCode: number): EndOutcome => ({ kind: "answer", errorCode });
  if (r === null) return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  const retryOnOverflow = r.previousProducerId === producerId &&
    producerEpoch === MAX_PRODUCER_EPOCH - 1 && r.producerEpoch === 0;
  if (r.producerId !== producerId && !retryOnOverflow) {
    return answer(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  }
  const retryOnBump = r.producerId === producerId && r.producerEpoch === producerEpoch + 1;
  const current = r.producerId === producerId && r.producerEpoch === producerEpoch;
  const isRetry = retryOnBump || retryOnOverflow;
  let valid: boolean;
  switch (r.state) {
    case "Ongoing":
    case "Empty":
    case "PrepareEpochFence":
      valid = current;
      break;
    case "PrepareCommit":
    case "PrepareAbort":
      valid = retryOnBump;
      break;
    case "CompleteCommit":
    case "CompleteAbort":
      valid = isRetry || current;
      break;
  }
  if (!valid) return answer(ErrorCode.PRODUCER_FENCED);
  const prepare = (state: "PrepareCommit" | "PrepareAbort", empty: boolean): EndOutcome => {
    const base: TxnRecord = {
      ...r,
      state,
      lastProducerEpoch: r.producerEpoch,
      transactionVersion: 2,
      lastUpdateMs: now,
      ...(empty ? { partitions: [], groups: [], offsets: [], startTimeMs: now } : {}),
    };
    if (!exhausted(r.producerEpoch)) {
      return { kind: "prepare", record: { ...base, producerEpoch: r.producerEpoch + 1 } };
    }
    // The epoch is exhausted: the markers carry the top epoch, then a new id takes over.
    if (freshId === null) return { kind: "needId" };
    return {
      kind: "prepare",
      record: { ...base, producerEpoch: MAX_PRODUCER_EPOCH, nextProducerId: freshId },
    };
  };
  switch (r.state) {
    case "Ongoing":
      return prepare(commit ? "PrepareCommit" : "PrepareAbort", false);
    case "Empty":
      return commit ? answer(ErrorCode.INVALID_TXN_STATE) : prepare("PrepareAbort", true);
    case "CompleteCommit":
      if (commit) return answer(isRetry ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
      return isRetry ? answer(ErrorCode.INVALID_TXN_STATE) : prepare("PrepareAbort", true);
    case "CompleteAbort":
      if (commit) return answer(ErrorCode.INVALID_TXN_STATE);
      return isRetry ? answer(ErrorCode.NONE) : prepare("PrepareAbort", true);
    case "PrepareCommit":
      return commit ? { kind: "inProgress" } : answer(ErrorCode.INVALID_TXN_STATE);
    case "PrepareAbort":
      return commit ? answer(ErrorCode.INVALID_TXN_STATE) : { kind: "inProgress" };
    case "PrepareEpochFence":
      return answer(ErrorCode.CONCURRENT_TRANSACTIONS);
  }
}

/** EndTxn: commit or abort the ongoing transaction. */
export function endTxn(
  r: TxnRecord | null,
  producerId: number,
  producerEpoch: number,
  commit: boolean,
  now: number,
): EndOutcome {
  const bad = checkProducer(r, producerId, producerEpoch);
  if (bad !== ErrorCode.NONE) return { kind: "answer", errorCode: bad };
  const rec = r!;
  const same = (committed: boolean) =>
    committed === commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
  switch (rec.state) {
    case "Ongoing":
      return {
        kind: "prepare",
        record: { ...rec, state: commit ? "PrepareCommit" : "PrepareAbort", lastUpdateMs: now },
      };
    case "CompleteCommit":
      return { kind: "answer", errorCode: same(true) };
    case "CompleteAbort":
      return { kind: "answer", errorCode: same(false) };
    case "PrepareCommit":
      return commit ? { kind: "inProgress" } : { kind: "answer", errorCode: same(true) };
    case "PrepareAbort":
      return commit ? { kind: "answer", errorCode: same(false) } : { kind: "inProgress" };
    case "PrepareEpochFence":
      return { kind: "answer", errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    case "Empty":
      return { kind: "answer", errorCode: ErrorCode.INVALID_TXN_STATE };
  }
}

/**
 * Fences the producer and aborts its ongoing transaction (a timeout, or a new
 * producer with the same transactional id): the epoch is bumped (unless it is
 * exhausted) in the same step as PrepareAbort, so the markers carry the new
 * epoch and the old producer's requests are refused from now on.
 */
export function fenceAndAbort(r: TxnRecord, now: number): TxnRecord | null {
  if (r.state !== "Ongoing") return null;
  const bump = !exhausted(r.producerEpoch);
  return {
    ...r,
    state: "PrepareAbort",
    producerEpoch: bump ? r.producerEpoch + 1 : r.producerEpoch,
    lastProducerEpoch: bump ? r.producerEpoch : r.lastProducerEpoch,
    lastUpdateMs: now,
  };
}

/** Whether an ongoing transaction ran past its timeout. */
export function expired(r: TxnRecord, now: number): boolean {
  return r.state === "Ongoing" && r.startTimeMs >= 0 && now > r.startTimeMs + r.timeoutMs;
}

/** The end of an ending: CompleteCommit / CompleteAbort, with nothing left pending. */
export function complete(r: TxnRecord, now: number): TxnRecord | null {
  if (r.state !== "PrepareCommit" && r.state !== "PrepareAbort") return null;
  const done: TxnRecord = {
    ...r,
    state: r.state === "PrepareCommit" ? "CompleteCommit" : "CompleteAbort",
    partitions: [],
    groups: [],
    offsets: [],
    lastUpdateMs: now,
  };
  if (r.nextProducerId === undefined) return done;
  // Transactions v2 with the epoch exhausted: the new id takes over.
  const { nextProducerId: _, ...rest } = done;
  return {
    ...rest,
    previousProducerId: r.producerId,
    producerId: r.nextProducerId,
    producerEpoch: 0,
    lastProducerEpoch: -1,
  };
}

/** Reads a stored record; null when it is not one. */
export function parseTxn(text: string): TxnRecord | null {
  try {
    const r = JSON.parse(text);
    if (r && typeof r.transactionalId === "string" && typeof r.state === "string") {
      return r as TxnRecord;
    }
  } catch { /* not a record */ }
  return null;
}
