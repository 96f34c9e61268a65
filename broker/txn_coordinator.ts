/**
 * The transaction coordinator every broker runs for every transactional id
 * (KIP-98). Like the group coordinator it keeps nothing of its own: a
 * transactional id's state is one versioned record in the meta store, read,
 * passed through a pure transition (broker/txn_state.ts) and written back by
 * compare-and-set, re-read and retried when another broker changed it first.
 *
 * Ending a transaction takes four steps, each safe to repeat:
 * 1. PrepareCommit / PrepareAbort is written (the durable decision);
 * 2. one marker (a control batch) per partition of the transaction goes
 *    through the produce pipeline in one append, so all of them land in one
 *    atomic commitBatches (the store acknowledges a repeated marker without
 *    storing it);
 * 3. on commit, the offsets of TxnOffsetCommit are stored;
 * 4. CompleteCommit / CompleteAbort is written.
 * A broker that dies after step 1 leaves a Prepare record; whichever broker
 * finds it once it is older than `takeoverMs` (a request, or the sweep)
 * does steps 2-4. Until then requests meeting it get CONCURRENT_TRANSACTIONS,
 * which clients retry.
 *
 * Time-driven aborts (an Ongoing transaction past its timeout) are applied
 * by whichever broker reads the record first, on a request or in the sweep
 * (every second): the compare-and-set from Ongoing lets exactly one of them
 * fence the producer (bump its epoch) and abort.
 */

import { getLogger } from "@logtape/logtape";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import { BatchAttributes, encodeBatch } from "../protocol/batch_codec.ts";
import type { BatchInfo } from "../protocol/record_batch.ts";
import type { CommittedOffset, MetaStore } from "../stores/types.ts";
import type { GroupCoordinator } from "./group_coordinator.ts";
import type { ProducePipeline } from "./produce_pipeline.ts";
import { partitionKey } from "./waiter.ts";
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
  type InitInput,
  initProducer,
  isEnding,
  parseTxn,
  produceAdd,
  produceCheck,
  type Step,
  TXN_STATE_NAMES,
  type TxnIdentity,
  type TxnPartition,
  type TxnRecord,
  verifyPartition,
} from "./txn_state.ts";

const log = getLogger(["skb", "txn"]);

/** Coordinator settings. */
export interface TxnCoordinatorConfig {
  /** transaction.max.timeout.ms: InitProducerId refuses longer timeouts. */
  maxTimeoutMs: number;
  /** A Prepare record this old is finished by whichever broker finds it. */
  takeoverMs: number;
  /**
   * Test-only (tests/txn_shared_test.ts): awaited right after EndTxn's Prepare
   * compare-and-set ("prepared") and right after an ending's markers are
   * written ("markers"), so a test can kill the broker in exactly that window.
   */
  testPause?: (point: "prepared" | "markers", tid: string) => Promise<void>;
}

/** Kafka's default transaction.max.timeout.ms (15 minutes), and a takeover after 10 s. */
export const DEFAULT_TXN_CONFIG: TxnCoordinatorConfig = {
  maxTimeoutMs: 900_000,
  takeoverMs: 10_000,
};

/** The coordinator epoch markers carry: there is one coordinator for every id, always. */
export const COORDINATOR_EPOCH = 0;

/** Marker control types (KIP-98). */
export const ABORT_MARKER = 0;
export const COMMIT_MARKER = 1;

const MAX_CAS_ATTEMPTS = 100;

/** Kafka's NOT_ENOUGH_REPLICAS, which Produce answers for a transaction being ended. */
const NOT_ENOUGH_REPLICAS = 19;
/** Kafka's TRANSACTION_ABORTABLE (KIP-890): Produce v11+ for a partition outside the transaction. */
const TRANSACTION_ABORTABLE = 120;

interface Stored {
  version: number;
  rec: TxnRecord;
}

/** A record as the admin APIs see it. */
export interface TxnView {
  transactionalId: string;
  record: TxnRecord;
}

/**
 * A transaction marker as a v2 control batch: one record whose key is
 * version 0 and the control type, and whose value is version 0 and the
 * coordinator epoch; transactional and control attributes; no sequence.
 */
export function markerBatch(
  producerId: number,
  producerEpoch: number,
  commit: boolean,
  timestamp: number,
): BatchInfo {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setInt16(2, commit ? COMMIT_MARKER : ABORT_MARKER);
  const value = new Uint8Array(6);
  new DataView(value.buffer).setInt32(2, COORDINATOR_EPOCH);
  const attributes = BatchAttributes.TRANSACTIONAL | BatchAttributes.CONTROL;
  const bytes = encodeBatch({
    baseOffset: 0,
    partitionLeaderEpoch: 0,
    attributes,
    lastOffsetDelta: 0,
    baseTimestamp: timestamp,
    maxTimestamp: timestamp,
    producerId,
    producerEpoch,
    baseSequence: -1,
  }, [{ key, value, headers: [], timestampDelta: 0, offsetDelta: 0 }]);
  return {
    bytes,
    attributes,
    lastOffsetDelta: 0,
    recordCount: 1,
    baseTimestamp: timestamp,
    maxTimestamp: timestamp,
    producerId,
    producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
  };
}

/** Per-request memo of transaction records (Produce reads each once). */
export type TxnReadCache = Map<string, Promise<TxnRecord | null>>;

/** The coordinator of every transactional id, over the shared meta store. */
export class TxnCoordinator {
  /** Endings this broker is running, so a request here waits for one rather than racing it. */
  private readonly ending = new Map<string, Promise<void>>();
  /** A sweep in progress (the next one is skipped rather than run beside it). */
  private sweeping = false;

  constructor(
    private readonly meta: MetaStore,
    private readonly pipeline: ProducePipeline,
    private readonly groups: GroupCoordinator,
    readonly cfg: TxnCoordinatorConfig = DEFAULT_TXN_CONFIG,
    private readonly now: () => number = Date.now,
  ) {}

  private async read(tid: string): Promise<Stored | null> {
    const s = await this.meta.getTransaction(tid);
    if (!s) return null;
    const rec = parseTxn(s.state);
    if (!rec) {
      // Never overwrite a record this broker does not understand.
      throw new KafkaError(
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        `Transactional id ${JSON.stringify(tid)} has a record this broker cannot read`,
      );
    }
    return { version: s.version, rec };
  }

  private async write(tid: string, version: number, rec: TxnRecord): Promise<Stored | null> {
    const v = await this.meta.putTransaction(tid, version, JSON.stringify(rec));
    if (v === null) return null;
    return { version: v, rec };
  }

  /** The record, with an expired transaction aborted first (by this broker or another). */
  private async load(tid: string): Promise<Stored | null> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const s = await this.read(tid);
      if (!s || !expired(s.rec, this.now())) return s;
      const fenced = fenceAndAbort(s.rec, this.now())!;
      const w = await this.write(tid, s.version, fenced);
      if (w) {
        log.info(
          "Transaction of {tid} (producer {pid}) ran past its {ms} ms timeout; aborting at epoch {epoch}",
          { tid, pid: fenced.producerId, ms: fenced.timeoutMs, epoch: fenced.producerEpoch },
        );
        await this.finish(tid, w);
      }
    }
    throw this.busy(tid);
  }

  private busy(tid: string): KafkaError {
    return new KafkaError(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      `Transactional id ${
        JSON.stringify(tid)
      } kept changing under ${MAX_CAS_ATTEMPTS} attempts to update it`,
    );
  }

  /**
   * Steps 2-4 of an ending, for a Prepare record read at `s.version`. Within
   * one broker an id has one ending at a time.
   */
  private finish(tid: string, s: Stored): Promise<void> {
    const running = this.ending.get(tid);
    if (running) return running;
    const p = this.runEnding(tid, s).finally(() => this.ending.delete(tid));
    this.ending.set(tid, p);
    return p;
  }

  private async runEnding(tid: string, s: Stored): Promise<void> {
    const rec = s.rec;
    const commit = rec.state === "PrepareCommit";
    const codes = await this.writeMarkers(
      rec.partitions,
      rec.producerId,
      rec.producerEpoch,
      commit,
    );
    if (this.cfg.testPause) await this.cfg.testPause("markers", tid);
    rec.partitions.forEach((p, i) => {
      const code = codes[i];
      if (code === ErrorCode.NONE || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return;
      if (code === ErrorCode.INVALID_PRODUCER_EPOCH) {
        // A newer epoch of this producer wrote there since: nothing of this transaction is open.
        log.warn("Marker for {tid} in {topic}-{partition} refused: a newer producer epoch wrote", {
          tid,
          topic: p.topic,
          partition: p.partition,
        });
        return;
      }
      throw new KafkaError(
        code,
        `Marker for ${JSON.stringify(tid)} in ${p.topic}-${p.partition} failed`,
      );
    });
    if (commit) {
      for (const g of rec.offsets) {
        if (g.offsets.length > 0) await this.meta.commitOffsets(g.groupId, g.offsets);
      }
    }
    const done = complete(rec, this.now());
    if (done && await this.write(tid, s.version, done)) {
      log.debug("Transaction of {tid} {outcome}", {
        tid,
        outcome: commit ? "committed" : "aborted",
      });
    }
  }

  /**
   * A Prepare record met by a request: waits for this broker's ending of it,
   * or finishes it when it is stale. False when another broker is presumably
   * still ending it (the request answers CONCURRENT_TRANSACTIONS).
   */
  private async settle(tid: string, s: Stored): Promise<boolean> {
    const mine = this.ending.get(tid);
    if (mine) {
      await mine.catch(() => {});
      return true;
    }
    if (this.now() - s.rec.lastUpdateMs < this.cfg.takeoverMs) return false;
    await this.finish(tid, s);
    return true;
  }

  /**
   * Writes markers for one producer into partitions, all in one pipeline
   * append (one atomic commit); the error code of each partition.
   */
  async writeMarkers(
    partitions: { topicId: string; partition: number }[],
    producerId: number,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number[]> {
    if (partitions.length === 0) return [];
    const now = this.now();
    const outcomes = await this.pipeline.append(partitions.map((p) => ({
      topicId: p.topicId,
      partition: p.partition,
      batches: [markerBatch(producerId, producerEpoch, commit, now)],
      controlType: commit ? COMMIT_MARKER : ABORT_MARKER,
    })));
    return partitions.map((p) =>
      outcomes.get(partitionKey(p.topicId, p.partition))?.errorCode ??
        ErrorCode.UNKNOWN_SERVER_ERROR
    );
  }

  /** A new producer id, unique across every broker sharing the meta store. */
  private async allocateId(): Promise<number> {
    const r = await this.meta.initProducerId({
      transactionalId: null,
      transactionTimeoutMs: 0,
      producerId: -1,
      producerEpoch: -1,
    });
    if (r.errorCode !== ErrorCode.NONE) throw new KafkaError(r.errorCode);
    return r.producerId;
  }

  /**
   * InitProducerId with a transactional id: a producer id the first time, the
   * epoch bumped every time (fencing older producers). A transaction the
   * previous producer left Ongoing is fenced and aborted (markers written)
   * before the answer; one being ended makes the answer wait for it, or
   * CONCURRENT_TRANSACTIONS while another broker ends it.
   */
  async initProducerId(input: InitInput): Promise<TxnIdentity> {
    if (input.timeoutMs <= 0 || input.timeoutMs > this.cfg.maxTimeoutMs) {
      return {
        errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    const tid = input.transactionalId;
    let fresh: number | null = null;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const s = await this.load(tid);
      const out = initProducer(s?.rec ?? null, input, this.now(), fresh);
      switch (out.kind) {
        case "needId":
          fresh = await this.allocateId();
          continue;
        case "finishFirst":
          if (await this.settle(tid, s!)) continue;
          return {
            errorCode: ErrorCode.CONCURRENT_TRANSACTIONS,
            producerId: -1,
            producerEpoch: -1,
          };
        case "abortFirst": {
          const fenced = fenceAndAbort(s!.rec, this.now())!;
          const w = await this.write(tid, s!.version, fenced);
          if (w) {
            log.info("A new producer for {tid} aborts the ongoing transaction of epoch {epoch}", {
              tid,
              epoch: s!.rec.producerEpoch,
            });
            await this.finish(tid, w);
          }
          continue;
        }
        case "answer":
          if (out.record && !(await this.write(tid, s?.version ?? 0, out.record))) continue;
          return out.identity;
      }
    }
    throw this.busy(tid);
  }

  /**
   * The compare-and-set loop of the client requests that add to a
   * transaction: a Prepare record in the way is waited for or finished first.
   */
  private async change(
    tid: string,
    fn: (r: TxnRecord | null, now: number) => Step,
  ): Promise<number> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const s = await this.load(tid);
      const step = fn(s?.rec ?? null, this.now());
      if (step.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS && s && isEnding(s.rec)) {
        if (await this.settle(tid, s)) continue;
        return step.errorCode;
      }
      if (step.record && !(await this.write(tid, s?.version ?? 0, step.record))) continue;
      return step.errorCode;
    }
    throw this.busy(tid);
  }

  /** AddPartitionsToTxn (partitions already checked to exist): one code for all of them. */
  addPartitions(
    tid: string,
    producerId: number,
    producerEpoch: number,
    partitions: TxnPartition[],
  ): Promise<number> {
    return this.change(
      tid,
      (r, now) => addPartitions(r, producerId, producerEpoch, partitions, now),
    );
  }

  /** AddPartitionsToTxn with verifyOnly (KIP-890): a code per partition, nothing changed. */
  async verifyPartitions(
    tid: string,
    producerId: number,
    producerEpoch: number,
    partitions: { topicId: string; partition: number }[],
  ): Promise<number[]> {
    const s = await this.load(tid);
    return partitions.map((p) => verifyPartition(s?.rec ?? null, producerId, producerEpoch, p));
  }

  /** AddOffsetsToTxn. */
  addOffsets(
    tid: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
  ): Promise<number> {
    return this.change(tid, (r, now) => addOffsets(r, producerId, producerEpoch, groupId, now));
  }

  /**
   * TxnOffsetCommit: the member is checked against the group as OffsetCommit
   * checks it (a producer that gives no generation, before KIP-447, is not
   * checked), then the offsets are kept in the record until the end.
   */
  async commitOffsets(
    tid: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
    member: { generationId: number; memberId: string; groupInstanceId: string | null },
    offsets: CommittedOffset[],
    implicit = false,
  ): Promise<number> {
    const s = await this.load(tid);
    const first = commitTxnOffsets(
      s?.rec ?? null,
      producerId,
      producerEpoch,
      groupId,
      [],
      0,
      implicit,
    );
    if (
      first.errorCode !== ErrorCode.NONE && first.errorCode !== ErrorCode.CONCURRENT_TRANSACTIONS
    ) {
      return first.errorCode;
    }
    const checked = member.generationId >= 0 || member.memberId !== "" ||
      member.groupInstanceId !== null;
    // An empty commit only checks the member (and makes an Empty group for a group-less one).
    const groupCode = await this.groups.commitOffsets(groupId, {
      ...(checked ? member : { generationId: -1, memberId: "", groupInstanceId: null }),
      apiVersion: 8,
    }, []);
    if (groupCode !== ErrorCode.NONE) {
      // Outside any generation: a group with members does not mind (as before KIP-447).
      if (checked || groupCode !== ErrorCode.UNKNOWN_MEMBER_ID) return groupCode;
    }
    return this.change(
      tid,
      (r, now) => commitTxnOffsets(r, producerId, producerEpoch, groupId, offsets, now, implicit),
    );
  }

  /**
   * EndTxn: the decision is written, then the ending is run before the
   * answer. An ending already complete with the same outcome is answered
   * NONE (a retry); one in progress is waited for. With `v2` (EndTxn v5,
   * KIP-890 part 2) the ending bumps the epoch; the answer carries the id and
   * epoch the producer goes on with (-1 with an error).
   */
  async endTxn(
    tid: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    v2 = false,
  ): Promise<TxnIdentity> {
    const fail = (errorCode: number) => ({ errorCode, producerId: -1, producerEpoch: -1 });
    let fresh: number | null = null;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const s = await this.load(tid);
      const out = v2
        ? endTxnV2(s?.rec ?? null, producerId, producerEpoch, commit, this.now(), fresh)
        : endTxn(s?.rec ?? null, producerId, producerEpoch, commit, this.now());
      if (out.kind === "needId") {
        fresh = await this.allocateId();
        continue;
      }
      if (out.kind === "answer") {
        if (out.errorCode !== ErrorCode.NONE) return fail(out.errorCode);
        return v2
          ? { errorCode: ErrorCode.NONE, ...endIdentity(s!.rec) }
          : { errorCode: ErrorCode.NONE, producerId, producerEpoch };
      }
      if (out.kind === "inProgress") {
        if (await this.settle(tid, s!)) continue;
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      }
      const w = await this.write(tid, s!.version, out.record);
      if (!w) continue;
      if (this.cfg.testPause) await this.cfg.testPause("prepared", tid);
      try {
        await this.finish(tid, w);
      } catch (e) {
        // The decision is durable: the sweep (here or on another broker) ends it.
        log.warn("Ending the transaction of {tid} failed; it will be retried: {error}", {
          tid,
          error: e,
        });
      }
      return v2
        ? { errorCode: ErrorCode.NONE, ...endIdentity(out.record) }
        : { errorCode: ErrorCode.NONE, producerId, producerEpoch };
    }
    throw this.busy(tid);
  }

  /**
   * Produce's check of one partition's batches: a transactional batch must
   * come from the current producer of `tid`, for a partition in its ongoing
   * transaction. With `implicitAdd` (Produce v12+, transactions v2, KIP-890
   * part 2) a partition not in it is added, starting a transaction when there
   * is none; an ending in progress is then NOT_ENOUGH_REPLICAS (retriable, as
   * Kafka answers CONCURRENT_TRANSACTIONS there). From Produce v11 a
   * partition outside the transaction is TRANSACTION_ABORTABLE (KIP-890), as
   * Kafka 4.4 answers. Null when the batches may go on; records are read once
   * per request through `cache`.
   */
  async checkProduce(
    tid: string | null,
    batches: BatchInfo[],
    partition: { topic: string; topicId: string; partition: number },
    cache: TxnReadCache,
    apiVersion = 9,
  ): Promise<{ errorCode: number; message: string } | null> {
    const implicitAdd = apiVersion >= 12;
    const txnal = batches.find((b) => b.isTransactional);
    if (!txnal) return null;
    if (tid === null) {
      return {
        errorCode: ErrorCode.INVALID_TXN_STATE,
        message: "Transactional records need the producer's transactional id",
      };
    }
    let pending = cache.get(tid);
    if (!pending) {
      pending = this.read(tid).then((s) => s?.rec ?? null);
      cache.set(tid, pending);
    }
    let rec = await pending;
    if (implicitAdd) {
      const added = await this.addByProduce(tid, txnal.producerId, txnal.producerEpoch, partition);
      if (added.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS) {
        return {
          errorCode: NOT_ENOUGH_REPLICAS,
          message: `The transaction of ${JSON.stringify(tid)} is ending; retry`,
        };
      }
      if (added.rec) {
        rec = added.rec;
        cache.set(tid, Promise.resolve(rec));
      }
    }
    for (const b of batches) {
      if (!b.isTransactional) continue;
      let code = produceCheck(rec, b.producerId, b.producerEpoch, partition);
      if (code === ErrorCode.NONE) continue;
      if (code === ErrorCode.INVALID_TXN_STATE && apiVersion >= 11) code = TRANSACTION_ABORTABLE;
      return {
        errorCode: code,
        message: code === ErrorCode.INVALID_PRODUCER_EPOCH
          ? `Producer epoch ${b.producerEpoch} of ${JSON.stringify(tid)} is fenced by epoch ${
            rec!.producerEpoch
          }`
          : `The partition is not in an ongoing transaction of ${
            JSON.stringify(tid)
          } (producer ${b.producerId}); add it with AddPartitionsToTxn first`,
      };
    }
    return null;
  }

  /**
   * Produce's implicit AddPartitionsToTxn (transactions v2): the record after
   * the partition is in the transaction (null when the producer may not add
   * it; Produce's own check then answers why).
   */
  private async addByProduce(
    tid: string,
    producerId: number,
    producerEpoch: number,
    partition: TxnPartition,
  ): Promise<{ errorCode: number; rec: TxnRecord | null }> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const s = await this.load(tid);
      const step = produceAdd(s?.rec ?? null, producerId, producerEpoch, partition, this.now());
      if (step.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS && s && isEnding(s.rec)) {
        if (await this.settle(tid, s)) continue;
        return { errorCode: step.errorCode, rec: null };
      }
      if (step.errorCode !== ErrorCode.NONE) return { errorCode: step.errorCode, rec: null };
      if (!step.record) return { errorCode: step.errorCode, rec: s!.rec };
      const w = await this.write(tid, s?.version ?? 0, step.record);
      if (w) return { errorCode: step.errorCode, rec: w.rec };
    }
    throw this.busy(tid);
  }

  /** DescribeTransactions: the records, null for an id with none. */
  async describe(tid: string): Promise<TxnRecord | null> {
    return (await this.read(tid))?.rec ?? null;
  }

  /**
   * ListTransactions: every record that passes the filters (empty ones pass
   * all): states, producer ids, running longer than `durationMs` (KIP-994,
   * -1: any), ids matching `pattern` as a whole. Unknown state names are
   * returned apart (Kafka lists them as unknown).
   */
  async list(filters: {
    states: string[];
    producerIds: number[];
    durationMs: number;
    pattern: RegExp | null;
  }): Promise<{ views: TxnView[]; unknownStates: string[] }> {
    const unknownStates = filters.states.filter((s) => !TXN_STATE_NAMES.includes(s));
    const now = this.now();
    const views: TxnView[] = [];
    for (const { transactionalId, transaction } of await this.meta.listTransactions()) {
      const r = parseTxn(transaction.state);
      if (!r) continue;
      if (filters.states.length > 0 && !filters.states.includes(r.state)) continue;
      if (filters.producerIds.length > 0 && !filters.producerIds.includes(r.producerId)) continue;
      if (filters.durationMs >= 0 && now - r.startTimeMs <= filters.durationMs) continue;
      if (filters.pattern && !filters.pattern.test(transactionalId)) continue;
      views.push({ transactionalId, record: r });
    }
    return { views, unknownStates };
  }

  /**
   * Aborts transactions past their timeout and finishes stale endings (a
   * broker died mid-end). Brokers run this every second; any broker will do.
   */
  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      return await this.sweepOnce();
    } finally {
      this.sweeping = false;
    }
  }

  private async sweepOnce(): Promise<number> {
    let changed = 0;
    const now = this.now();
    for (const { transactionalId: tid, transaction } of await this.meta.listTransactions()) {
      const r = parseTxn(transaction.state);
      if (!r) continue;
      try {
        if (expired(r, now)) {
          await this.load(tid);
          changed++;
        } else if (
          isEnding(r) && !this.ending.has(tid) && now - r.lastUpdateMs >= this.cfg.takeoverMs
        ) {
          log.info("Finishing the stale {state} of {tid}", { state: r.state, tid });
          await this.finish(tid, { version: transaction.version, rec: r });
          changed++;
        }
      } catch (e) {
        log.warn("Transaction sweep of {tid} failed: {error}", { tid, error: e });
      }
    }
    return changed;
  }
}
