/**
 * The idempotent producer's rules (KIP-98), shared by every meta store backend
 * that runs them in TypeScript. Per producer id and partition the store keeps
 * the epoch, the last sequence, and the last five batches, so a retried batch
 * is acknowledged with its original offsets instead of being stored twice.
 */

import { ErrorCode } from "../protocol/errors.ts";

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

/** The state after appending a batch at `baseOffset`. */
export function afterAppend(
  state: ProducerPartitionState | null,
  producerEpoch: number,
  baseSequence: number,
  recordCount: number,
  baseOffset: number,
): ProducerPartitionState {
  const lastSeq = lastSequenceOf(baseSequence, recordCount);
  const keep = state !== null && state.epoch === producerEpoch ? state.recent : [];
  const recent = [...keep, { firstSeq: baseSequence, lastSeq, baseOffset }];
  if (recent.length > RECENT_BATCHES) recent.splice(0, recent.length - RECENT_BATCHES);
  return { epoch: producerEpoch, lastSeq, recent };
}
