/**
 * The idempotent producer's rules (KIP-98), shared by every meta store backend
 * that runs them in TypeScript. Per producer id and partition the store keeps
 * the epoch, the last sequence, and the last five batches, so a retried batch
 * is acknowledged with its original offsets instead of being stored twice.
 */

import { ErrorCode } from "../protocol/errors.ts";
import type { ProducerOnPartition } from "./types.ts";

/** How many recent batches are remembered per producer and partition (the client keeps up to five in flight). */
export const RECENT_BATCHES = 5;

/** A batch that was appended: its sequence range and where it landed. */
export interface RecentBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
}

/** What a store keeps for one producer on one partition. */
export interface ProducerPartitionState {
  epoch: number;
  lastSeq: number;
  recent: RecentBatch[];
  /** The first offset of the producer's open transaction here; -1 or absent (older states) when none. */
  txnStart?: number;
  /** The max timestamp of the last batch or marker appended; -1 or absent when unknown. */
  lastTimestamp?: number;
}

/** The decision for one incoming batch. */
export type SequenceVerdict =
  | { kind: "append" }
  | { kind: "duplicate"; baseOffset: number }
  | { kind: "error"; errorCode: number };

const SEQ_MODULO = 2 ** 31;

/** The sequence of the batch's last record; sequences wrap at 2^31. */
export function lastSequenceOf(baseSequence: number, recordCount: number): number {
  return (baseSequence + recordCount - 1) % SEQ_MODULO;
}

/** Decides whether a batch from producer (id, epoch) is new, a retry, or out of order. */
export function checkSequence(
  state: ProducerPartitionState | null,
  producerEpoch: number,
  baseSequence: number,
  recordCount: number,
): SequenceVerdict {
  if (state === null) {
    // No history here (new producer, or its state was removed with old data): accept.
    return { kind: "append" };
  }
  if (producerEpoch < state.epoch) {
    return { kind: "error", errorCode: ErrorCode.INVALID_PRODUCER_EPOCH };
  }
  if (producerEpoch > state.epoch) {
    // A bumped epoch (KIP-360) restarts sequences at zero.
    return baseSequence === 0
      ? { kind: "append" }
      : { kind: "error", errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
  }
  const lastSeq = lastSequenceOf(baseSequence, recordCount);
  for (const b of state.recent) {
    if (b.firstSeq === baseSequence && b.lastSeq === lastSeq) {
      return { kind: "duplicate", baseOffset: b.baseOffset };
    }
  }
  if (baseSequence !== (state.lastSeq + 1) % SEQ_MODULO) {
    return { kind: "error", errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
  }
  return { kind: "append" };
}

/**
 * The state after appending a data batch at `baseOffset`. A transactional batch
 * opens a transaction at `baseOffset` unless one is open already; an open one
 * stays open until a marker closes it.
 */
export function afterAppend(
  state: ProducerPartitionState | null,
  producerEpoch: number,
  baseSequence: number,
  recordCount: number,
  baseOffset: number,
  isTransactional = false,
  maxTimestamp = -1,
): ProducerPartitionState {
  const lastSeq = lastSequenceOf(baseSequence, recordCount);
  const keep = state !== null && state.epoch === producerEpoch ? state.recent : [];
  const recent = [...keep, { firstSeq: baseSequence, lastSeq, baseOffset }];
  if (recent.length > RECENT_BATCHES) recent.splice(0, recent.length - RECENT_BATCHES);
  const open = txnStartOf(state);
  const txnStart = open >= 0 ? open : isTransactional ? baseOffset : -1;
  return { epoch: producerEpoch, lastSeq, recent, txnStart, lastTimestamp: maxTimestamp };
}

/** The first offset of the state's open transaction, -1 when none. */
export function txnStartOf(state: ProducerPartitionState | null | undefined): number {
  return state?.txnStart ?? -1;
}

/** The decision for one transaction marker (a control batch). */
export type MarkerVerdict =
  | { kind: "append"; firstOffset: number }
  | { kind: "duplicate" }
  | { kind: "error"; errorCode: number };

/**
 * Decides a marker from producer epoch `producerEpoch`: below the partition's
 * epoch it is fenced; with no open transaction it is acknowledged and not
 * stored (a retried ending); else it is appended and closes the transaction
 * that began at `firstOffset`. Markers carry no sequence numbers.
 */
export function checkMarker(
  state: ProducerPartitionState | null,
  producerEpoch: number,
): MarkerVerdict {
  if (state !== null && producerEpoch < state.epoch) {
    return { kind: "error", errorCode: ErrorCode.INVALID_PRODUCER_EPOCH };
  }
  const firstOffset = txnStartOf(state);
  return firstOffset < 0 ? { kind: "duplicate" } : { kind: "append", firstOffset };
}

/**
 * The state after a marker that was not fenced (appended, or acknowledged as a
 * duplicate; null stays null): the transaction is closed and the epoch raised
 * to the marker's. A raised epoch (KIP-890 bumps it at every ending) restarts
 * sequences at zero, as a bumped epoch does for data batches.
 */
export function afterMarker(
  state: ProducerPartitionState | null,
  producerEpoch: number,
  maxTimestamp: number,
  appended: boolean,
): ProducerPartitionState | null {
  if (state === null) return null;
  const raised = producerEpoch > state.epoch;
  if (!appended && !raised) return state;
  return {
    epoch: raised ? producerEpoch : state.epoch,
    lastSeq: raised ? -1 : state.lastSeq,
    recent: raised ? [] : state.recent,
    txnStart: -1,
    lastTimestamp: appended ? maxTimestamp : state.lastTimestamp ?? -1,
  };
}

/**
 * The last stable offset: the first offset of the oldest open transaction (not
 * below the log start), or the high watermark when none is open.
 */
export function lastStableOffsetOf(
  logStartOffset: number,
  highWatermark: number,
  openStarts: Iterable<number>,
): number {
  let lso = highWatermark;
  for (const s of openStarts) if (s >= 0 && s < lso) lso = s;
  return Math.max(lso, logStartOffset);
}

/** What producerStates reports of one producer's state. */
export function producerOnPartition(
  producerId: number,
  st: ProducerPartitionState,
): ProducerOnPartition {
  return {
    producerId,
    producerEpoch: st.epoch,
    lastSequence: st.lastSeq,
    lastTimestamp: st.lastTimestamp ?? -1,
    currentTxnStartOffset: txnStartOf(st),
  };
}
