/**
 * `memory:` meta store: everything in this process's memory, gone at exit. Each
 * operation runs to completion without awaiting, which makes it atomic.
 */

import { ErrorCode } from "../../protocol/errors.ts";
import {
  afterAppend,
  afterMarker,
  checkMarker,
  checkSequence,
  lastStableOffsetOf,
  producerOnPartition,
  type ProducerPartitionState,
  txnStartOf,
} from "../producer_state.ts";
import type {
  AbortedTransaction,
  BatchToCommit,
  BrokerRegistration,
  CleanerState,
  CleaningLease,
  CommitResult,
  CommittedOffset,
  EntityConfigs,
  IndexEntry,
  InitProducerIdInput,
  MetaStore,
  NewTopic,
  PartitionState,
  ProducerIdentity,
  ProducerOnPartition,
  TopicInfo,
  VersionedGroup,
  VersionedShareState,
  VersionedTransaction,
} from "../types.ts";
import { newTopicId } from "../ids.ts";
import { checkReplacement, sameEntry } from "./cleaning.ts";

interface PartitionData {
  state: PartitionState;
  entries: IndexEntry[];
  producers: Map<number, ProducerPartitionState>;
  /** Aborted transactions, in marker (lastOffset) order; those wholly below the log start are dropped. */
  aborted: AbortedTransaction[];
  /** The longest aborted range (lastOffset - firstOffset) kept, bounding abortedTransactions' scan. */
  abortSpan: number;
  /** The log cleaner's claim and progress; absent until a cleaner first claims the partition. */
  cleaner?: CleanerRow;
}

/** A partition's cleaner row (KIP-58). */
interface CleanerRow {
  /** The claim's holder, or null when released. */
  owner: string | null;
  /** The claim ends here (ms). */
  until: number;
  /** Offsets below this have been cleaned (the log start counts when it is further). */
  cleanedThrough: number;
}

interface TopicData {
  info: TopicInfo;
  partitions: PartitionData[];
}

function newPartition(): PartitionData {
  return {
    state: { logStartOffset: 0, highWatermark: 0, lastStableOffset: 0 },
    entries: [],
    producers: new Map(),
    aborted: [],
    abortSpan: 0,
  };
}

/** Index of the first entry whose lastOffset >= offset (entries are in offset order). */
export function firstEntryAtOrAfter(entries: IndexEntry[], offset: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].lastOffset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The memory store's whole state in plain JSON-able form, for a store that
 * persists it (`file:`). It shares objects with the live store: serialize it
 * before the next change.
 */
export interface MemorySnapshot {
  cluster: string | null;
  nextProducerId: number;
  topics: {
    info: TopicInfo;
    partitions: {
      state: PartitionState;
      entries: IndexEntry[];
      producers: [number, ProducerPartitionState][];
      /** Absent in snapshots from before transactions. */
      aborted?: AbortedTransaction[];
      /** Absent in snapshots from before the log cleaner, or until a partition is first claimed. */
      cleaner?: CleanerRow;
    }[];
  }[];
  transactional: [string, { producerId: number; epoch: number }][];
  producerEpochs: [number, number][];
  groups: [string, VersionedGroup][];
  /** Transaction coordinator records (absent in snapshots from before transactions). */
  transactions?: [string, VersionedTransaction][];
  /** Share-partition records by JSON [groupId, topicId, partition] (absent before share groups). */
  shareStates?: [string, VersionedShareState][];
  brokers: BrokerRegistration[];
  heartbeats: [string, [string, number][]][];
  offsets: [string, [string, CommittedOffset][]][];
  /** Entity configs by type (absent in snapshots from before they existed). */
  entities?: [string, EntityConfigs[]][];
}

/** The memory meta store. */
export class MemoryMetaStore implements MetaStore {
  private topics = new Map<string, TopicData>();
  private byId = new Map<string, TopicData>();
  private nextProducerId = 1000;
  private transactional = new Map<string, { producerId: number; epoch: number }>();
  private producerEpochs = new Map<number, number>();
  private cluster: string | null = null;
  private groups = new Map<string, VersionedGroup>();
  private transactions = new Map<string, VersionedTransaction>();
  private shareStates = new Map<string, VersionedShareState>();
  private brokers = new Map<number, BrokerRegistration>();
  private heartbeats = new Map<string, Map<string, number>>();
  private offsets = new Map<string, Map<string, CommittedOffset>>();
  private entities = new Map<string, Map<string, EntityConfigs>>();

  /** The whole state (see MemorySnapshot). */
  snapshot(): MemorySnapshot {
    return {
      cluster: this.cluster,
      nextProducerId: this.nextProducerId,
      topics: [...this.topics.values()].map((t) => ({
        info: t.info,
        partitions: t.partitions.map((p) => ({
          state: p.state,
          entries: p.entries,
          producers: [...p.producers],
          aborted: p.aborted,
          ...(p.cleaner ? { cleaner: p.cleaner } : {}),
        })),
      })),
      transactional: [...this.transactional],
      producerEpochs: [...this.producerEpochs],
      groups: [...this.groups],
      transactions: [...this.transactions],
      shareStates: [...this.shareStates],
      brokers: [...this.brokers.values()],
      heartbeats: [...this.heartbeats].map(([g, m]) => [g, [...m]]),
      offsets: [...this.offsets].map(([g, m]) => [g, [...m]]),
      entities: [...this.entities].map(([t, m]) => [t, [...m.values()]]),
    };
  }

  /** A store holding a snapshot's state (which it takes over). */
  static fromSnapshot(s: MemorySnapshot): MemoryMetaStore {
    const m = new MemoryMetaStore();
    m.cluster = s.cluster;
    m.nextProducerId = s.nextProducerId;
    for (const t of s.topics) {
      const data: TopicData = {
        info: t.info,
        partitions: t.partitions.map((p) => ({
          ...p,
          producers: new Map(p.producers),
          aborted: p.aborted ?? [],
          abortSpan: (p.aborted ?? []).reduce(
            (m, a) => Math.max(m, a.lastOffset - a.firstOffset),
            0,
          ),
        })),
      };
      m.topics.set(t.info.name, data);
      m.byId.set(t.info.id, data);
    }
    m.transactional = new Map(s.transactional);
    m.producerEpochs = new Map(s.producerEpochs);
    m.groups = new Map(s.groups);
    m.transactions = new Map(s.transactions ?? []);
    m.shareStates = new Map(s.shareStates ?? []);
    m.brokers = new Map(s.brokers.map((b) => [b.nodeId, b]));
    m.heartbeats = new Map(s.heartbeats.map(([g, h]) => [g, new Map(h)]));
    m.offsets = new Map(s.offsets.map(([g, o]) => [g, new Map(o)]));
    m.entities = new Map(
      (s.entities ?? []).map(([t, list]) => [t, new Map(list.map((e) => [e.name, e]))]),
    );
    return m;
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }

  clusterId(proposed: string): Promise<string> {
    this.cluster ??= proposed;
    return Promise.resolve(this.cluster);
  }

  createTopic(t: NewTopic): Promise<TopicInfo | null> {
    return this.createTopicWithId(t, newTopicId());
  }

  /** createTopic with the id chosen by the caller, so a journal replays to the same id. */
  createTopicWithId(t: NewTopic, id: string): Promise<TopicInfo | null> {
    if (this.topics.has(t.name)) return Promise.resolve(null);
    const info: TopicInfo = {
      id,
      name: t.name,
      partitions: t.partitions,
      configs: { ...t.configs },
    };
    const data: TopicData = {
      info,
      partitions: Array.from({ length: t.partitions }, newPartition),
    };
    this.topics.set(t.name, data);
    this.byId.set(info.id, data);
    return Promise.resolve(structuredClone(info));
  }

  deleteTopic(name: string): Promise<boolean> {
    const t = this.topics.get(name);
    if (!t) return Promise.resolve(false);
    this.topics.delete(name);
    this.byId.delete(t.info.id);
    return Promise.resolve(true);
  }

  createPartitions(name: string, count: number): Promise<TopicInfo | null> {
    const t = this.topics.get(name);
    if (!t) return Promise.resolve(null);
    while (t.partitions.length < count) t.partitions.push(newPartition());
    t.info.partitions = t.partitions.length;
    return Promise.resolve(structuredClone(t.info));
  }

  setTopicConfigs(name: string, configs: Record<string, string>): Promise<boolean> {
    const t = this.topics.get(name);
    if (!t) return Promise.resolve(false);
    t.info.configs = { ...configs };
    return Promise.resolve(true);
  }

  getTopic(name: string): Promise<TopicInfo | null> {
    const t = this.topics.get(name);
    return Promise.resolve(t ? structuredClone(t.info) : null);
  }
  getTopicById(id: string): Promise<TopicInfo | null> {
    const t = this.byId.get(id);
    return Promise.resolve(t ? structuredClone(t.info) : null);
  }
  listTopics(): Promise<TopicInfo[]> {
    return Promise.resolve([...this.topics.values()].map((t) => structuredClone(t.info)));
  }

  private partition(topicId: string, partition: number): PartitionData | undefined {
    return this.byId.get(topicId)?.partitions[partition];
  }

  commitBatches(blob: string, batches: BatchToCommit[]): Promise<CommitResult[]> {
    const results: CommitResult[] = [];
    const touched = new Set<PartitionData>();
    for (const b of batches) {
      const p = this.partition(b.topicId, b.partition);
      if (!p) {
        results.push({
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          baseOffset: -1,
          logStartOffset: -1,
          duplicate: false,
        });
        continue;
      }
      const refuse = (errorCode: number, baseOffset: number, duplicate: boolean) =>
        results.push({ errorCode, baseOffset, logStartOffset: p.state.logStartOffset, duplicate });
      const baseOffset = p.state.highWatermark;
      let recordCount = b.recordCount;
      if (b.isControl) {
        // A transaction marker: one offset, no sequence (see MetaStore.commitBatches).
        const prior = b.producerId >= 0 ? p.producers.get(b.producerId) ?? null : null;
        const verdict = checkMarker(prior, b.producerEpoch);
        if (verdict.kind === "error") {
          refuse(verdict.errorCode, -1, false);
          continue;
        }
        const next = afterMarker(prior, b.producerEpoch, b.maxTimestamp, verdict.kind === "append");
        if (next !== null) p.producers.set(b.producerId, next);
        if (verdict.kind === "duplicate") {
          refuse(ErrorCode.NONE, -1, true);
          continue;
        }
        if ((b.controlType ?? 0) === 0) {
          p.aborted.push({
            producerId: b.producerId,
            firstOffset: verdict.firstOffset,
            lastOffset: baseOffset,
          });
          p.abortSpan = Math.max(p.abortSpan, baseOffset - verdict.firstOffset);
        }
        recordCount = 1;
      } else if (b.producerId >= 0) {
        const prior = p.producers.get(b.producerId) ?? null;
        const verdict = checkSequence(prior, b.producerEpoch, b.baseSequence, b.recordCount);
        if (verdict.kind === "error") {
          refuse(verdict.errorCode, -1, false);
          continue;
        }
        if (verdict.kind === "duplicate") {
          refuse(ErrorCode.NONE, verdict.baseOffset, true);
          continue;
        }
        p.producers.set(
          b.producerId,
          afterAppend(
            prior,
            b.producerEpoch,
            b.baseSequence,
            b.recordCount,
            baseOffset,
            b.isTransactional,
            b.maxTimestamp,
          ),
        );
      }
      p.entries.push({
        baseOffset,
        lastOffset: baseOffset + recordCount - 1,
        blob,
        position: b.position,
        length: b.length,
        maxTimestamp: b.maxTimestamp,
      });
      p.state.highWatermark += recordCount;
      touched.add(p);
      refuse(ErrorCode.NONE, baseOffset, false);
    }
    for (const p of touched) this.updateStable(p);
    return Promise.resolve(results);
  }

  /** Sets the last stable offset from the open transactions (see lastStableOffsetOf). */
  private updateStable(p: PartitionData): void {
    const starts: number[] = [];
    for (const st of p.producers.values()) {
      const s = txnStartOf(st);
      if (s >= 0) starts.push(s);
    }
    p.state.lastStableOffset = lastStableOffsetOf(
      p.state.logStartOffset,
      p.state.highWatermark,
      starts,
    );
  }

  partitionState(topicId: string, partition: number): Promise<PartitionState | null> {
    const p = this.partition(topicId, partition);
    return Promise.resolve(p ? { ...p.state } : null);
  }

  readIndex(
    topicId: string,
    partition: number,
    fromOffset: number,
    maxBytes: number,
  ): Promise<IndexEntry[]> {
    const p = this.partition(topicId, partition);
    if (!p) return Promise.resolve([]);
    const out: IndexEntry[] = [];
    let bytes = 0;
    for (let i = firstEntryAtOrAfter(p.entries, fromOffset); i < p.entries.length; i++) {
      const e = p.entries[i];
      if (out.length > 0 && bytes + e.length > maxBytes) break;
      out.push(e);
      bytes += e.length;
    }
    return Promise.resolve(out);
  }

  findByTimestamp(topicId: string, partition: number, ts: number): Promise<IndexEntry | null> {
    const p = this.partition(topicId, partition);
    if (!p) return Promise.resolve(null);
    const start = firstEntryAtOrAfter(p.entries, p.state.logStartOffset);
    for (let i = start; i < p.entries.length; i++) {
      if (p.entries[i].maxTimestamp >= ts) return Promise.resolve(p.entries[i]);
    }
    return Promise.resolve(null);
  }

  maxTimestampEntry(topicId: string, partition: number): Promise<IndexEntry | null> {
    const p = this.partition(topicId, partition);
    if (!p) return Promise.resolve(null);
    let best: IndexEntry | null = null;
    const start = firstEntryAtOrAfter(p.entries, p.state.logStartOffset);
    for (let i = start; i < p.entries.length; i++) {
      const e = p.entries[i];
      if (best === null || e.maxTimestamp > best.maxTimestamp) best = e;
    }
    return Promise.resolve(best);
  }

  advanceLogStart(topicId: string, partition: number, offset: number): Promise<number> {
    const p = this.partition(topicId, partition);
    if (!p) return Promise.resolve(-1);
    const target = Math.min(offset, p.state.highWatermark);
    if (target > p.state.logStartOffset) {
      p.state.logStartOffset = target;
      // Drop entries wholly below the new start; their bytes become unreferenced.
      const keepFrom = firstEntryAtOrAfter(p.entries, target);
      p.entries.splice(0, keepFrom);
      // Aborted ranges wholly below the new start are forgotten (in lastOffset order).
      let drop = 0;
      while (drop < p.aborted.length && p.aborted[drop].lastOffset < target) drop++;
      if (drop > 0) p.aborted.splice(0, drop);
      this.updateStable(p);
    }
    return Promise.resolve(p.state.logStartOffset);
  }

  abortedTransactions(
    topicId: string,
    partition: number,
    fromOffset: number,
    toOffset: number,
  ): Promise<AbortedTransaction[]> {
    const p = this.partition(topicId, partition);
    if (!p) return Promise.resolve([]);
    // In lastOffset order: skip those ending before fromOffset, keep those starting before toOffset.
    let lo = 0;
    let hi = p.aborted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p.aborted[mid].lastOffset < fromOffset) lo = mid + 1;
      else hi = mid;
    }
    const out: AbortedTransaction[] = [];
    // None ending at or past toOffset + the longest span can begin before toOffset.
    const stop = toOffset + p.abortSpan;
    for (let i = lo; i < p.aborted.length && p.aborted[i].lastOffset < stop; i++) {
      if (p.aborted[i].firstOffset < toOffset) out.push({ ...p.aborted[i] });
    }
    out.sort((a, b) => a.firstOffset - b.firstOffset || a.lastOffset - b.lastOffset);
    return Promise.resolve(out);
  }

  producerStates(topicId: string, partition: number): Promise<ProducerOnPartition[]> {
    const p = this.partition(topicId, partition);
    if (!p) return Promise.resolve([]);
    return Promise.resolve(
      [...p.producers].map(([producerId, st]) => producerOnPartition(producerId, st))
        .sort((a, b) => a.producerId - b.producerId),
    );
  }

  /**
   * Sums the index entries: advanceLogStart drops entries wholly below the log
   * start, so every entry left is counted (the one holding the log start too,
   * as Kafka counts the whole segment holding it).
   */
  partitionSizes(topicId: string, partitions: number): Promise<number[]> {
    const t = this.byId.get(topicId);
    return Promise.resolve(Array.from({ length: partitions }, (_, i) => {
      let bytes = 0;
      for (const e of t?.partitions[i]?.entries ?? []) bytes += e.length;
      return bytes;
    }));
  }

  initProducerId(input: InitProducerIdInput): Promise<ProducerIdentity> {
    if (input.transactionalId === null) {
      if (input.producerId >= 0) {
        // KIP-360: an idempotent producer bumping its own epoch after an error.
        const current = this.producerEpochs.get(input.producerId);
        if (current === undefined || current !== input.producerEpoch) {
          return Promise.resolve({
            errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
            producerId: -1,
            producerEpoch: -1,
          });
        }
        return Promise.resolve(this.bump(input.producerId, current));
      }
      const producerId = this.nextProducerId++;
      this.producerEpochs.set(producerId, 0);
      return Promise.resolve({ errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 });
    }
    const existing = this.transactional.get(input.transactionalId);
    if (!existing) {
      const producerId = this.nextProducerId++;
      this.transactional.set(input.transactionalId, { producerId, epoch: 0 });
      this.producerEpochs.set(producerId, 0);
      return Promise.resolve({ errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 });
    }
    const bumped = this.bump(existing.producerId, existing.epoch);
    this.transactional.set(input.transactionalId, {
      producerId: bumped.producerId,
      epoch: bumped.producerEpoch,
    });
    return Promise.resolve(bumped);
  }

  /** A higher epoch for the same id; a fresh id once the epoch would overflow int16. */
  private bump(producerId: number, epoch: number): ProducerIdentity {
    if (epoch >= 32766) {
      const fresh = this.nextProducerId++;
      this.producerEpochs.set(fresh, 0);
      return { errorCode: ErrorCode.NONE, producerId: fresh, producerEpoch: 0 };
    }
    this.producerEpochs.set(producerId, epoch + 1);
    return { errorCode: ErrorCode.NONE, producerId, producerEpoch: epoch + 1 };
  }

  referencedBlobs(): Promise<Set<string>> {
    const out = new Set<string>();
    for (const t of this.topics.values()) {
      for (const p of t.partitions) for (const e of p.entries) out.add(e.blob);
    }
    return Promise.resolve(out);
  }

  registerBroker(reg: BrokerRegistration): Promise<void> {
    this.brokers.set(reg.nodeId, { ...reg });
    return Promise.resolve();
  }

  unregisterBroker(nodeId: number): Promise<void> {
    this.brokers.delete(nodeId);
    return Promise.resolve();
  }

  liveBrokers(nowMs: number): Promise<BrokerRegistration[]> {
    return Promise.resolve(
      [...this.brokers.values()].filter((b) => b.expiresAtMs > nowMs).sort((a, b) =>
        a.nodeId - b.nodeId
      )
        .map((b) => ({ ...b })),
    );
  }

  getTransaction(transactionalId: string): Promise<VersionedTransaction | null> {
    const t = this.transactions.get(transactionalId);
    return Promise.resolve(t ? { ...t } : null);
  }

  putTransaction(
    transactionalId: string,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null> {
    const current = this.transactions.get(transactionalId)?.version ?? 0;
    if (current !== expectedVersion) return Promise.resolve(null);
    if (state === null) this.transactions.delete(transactionalId);
    else this.transactions.set(transactionalId, { version: current + 1, state });
    return Promise.resolve(current + 1);
  }

  listTransactions(): Promise<{ transactionalId: string; transaction: VersionedTransaction }[]> {
    return Promise.resolve(
      [...this.transactions].map(([transactionalId, t]) => ({
        transactionalId,
        transaction: { ...t },
      })),
    );
  }

  getShareState(
    groupId: string,
    topicId: string,
    partition: number,
  ): Promise<VersionedShareState | null> {
    const v = this.shareStates.get(JSON.stringify([groupId, topicId, partition]));
    return Promise.resolve(v ? { ...v } : null);
  }

  putShareState(
    groupId: string,
    topicId: string,
    partition: number,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null> {
    const key = JSON.stringify([groupId, topicId, partition]);
    const current = this.shareStates.get(key)?.version ?? 0;
    if (current !== expectedVersion) return Promise.resolve(null);
    if (state === null) this.shareStates.delete(key);
    else this.shareStates.set(key, { version: current + 1, state });
    return Promise.resolve(current + 1);
  }

  listShareStates(
    groupId: string,
  ): Promise<{ topicId: string; partition: number; share: VersionedShareState }[]> {
    const out: { topicId: string; partition: number; share: VersionedShareState }[] = [];
    for (const [key, v] of this.shareStates) {
      const [g, topicId, partition] = JSON.parse(key) as [string, string, number];
      if (g === groupId) out.push({ topicId, partition, share: { ...v } });
    }
    out.sort((a, b) =>
      a.topicId < b.topicId ? -1 : a.topicId > b.topicId ? 1 : a.partition - b.partition
    );
    return Promise.resolve(out);
  }

  getGroup(groupId: string): Promise<VersionedGroup | null> {
    const g = this.groups.get(groupId);
    return Promise.resolve(g ? { ...g } : null);
  }

  putGroup(groupId: string, expectedVersion: number, state: string | null): Promise<number | null> {
    const current = this.groups.get(groupId)?.version ?? 0;
    if (current !== expectedVersion) return Promise.resolve(null);
    if (state === null) {
      this.groups.delete(groupId);
      this.heartbeats.delete(groupId);
      this.offsets.delete(groupId);
      return Promise.resolve(current + 1);
    }
    this.groups.set(groupId, { version: current + 1, state });
    return Promise.resolve(current + 1);
  }

  listGroups(): Promise<{ groupId: string; group: VersionedGroup }[]> {
    return Promise.resolve(
      [...this.groups].map(([groupId, g]) => ({ groupId, group: { ...g } })),
    );
  }

  touchMember(groupId: string, memberId: string, atMs: number): Promise<void> {
    let m = this.heartbeats.get(groupId);
    if (!m) this.heartbeats.set(groupId, m = new Map());
    m.set(memberId, atMs);
    return Promise.resolve();
  }

  memberHeartbeats(groupId: string): Promise<Map<string, number>> {
    return Promise.resolve(new Map(this.heartbeats.get(groupId) ?? []));
  }

  forgetMembers(groupId: string, memberIds: string[]): Promise<void> {
    const m = this.heartbeats.get(groupId);
    if (m) {
      for (const id of memberIds) m.delete(id);
      if (m.size === 0) this.heartbeats.delete(groupId);
    }
    return Promise.resolve();
  }

  commitOffsets(groupId: string, offsets: CommittedOffset[]): Promise<void> {
    let m = this.offsets.get(groupId);
    if (!m) this.offsets.set(groupId, m = new Map());
    for (const o of offsets) m.set(`${o.topic}\u0000${o.partition}`, { ...o });
    return Promise.resolve();
  }

  fetchOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<CommittedOffset[]> {
    const m = this.offsets.get(groupId);
    if (!m) return Promise.resolve([]);
    if (partitions === null) return Promise.resolve([...m.values()].map((o) => ({ ...o })));
    const out: CommittedOffset[] = [];
    for (const p of partitions) {
      const o = m.get(`${p.topic}\u0000${p.partition}`);
      if (o) out.push({ ...o });
    }
    return Promise.resolve(out);
  }

  deleteOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[],
  ): Promise<void> {
    const m = this.offsets.get(groupId);
    for (const p of partitions) m?.delete(`${p.topic}\u0000${p.partition}`);
    return Promise.resolve();
  }

  entityConfigs(entityType: string, names: string[] | null): Promise<EntityConfigs[]> {
    const all = this.entities.get(entityType);
    const found = names === null
      ? [...(all?.values() ?? [])]
      : [...new Set(names)].map((n) => all?.get(n)).filter((e) => e !== undefined);
    return Promise.resolve(
      structuredClone(found).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  }

  alterEntityConfigs(
    entityType: string,
    name: string,
    changes: Record<string, string | null>,
    expectedVersion?: number,
  ): Promise<EntityConfigs | null> {
    let all = this.entities.get(entityType);
    const current = all?.get(name);
    // A number only: the file store's journal replays an absent version as null.
    if (typeof expectedVersion === "number" && expectedVersion !== (current?.version ?? 0)) {
      return Promise.resolve(null);
    }
    const configs = { ...current?.configs };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete configs[k];
      else configs[k] = v;
    }
    if (Object.keys(configs).length === 0) {
      all?.delete(name);
      if (all?.size === 0) this.entities.delete(entityType);
      return Promise.resolve({ name, version: 0, configs: {} });
    }
    if (!all) this.entities.set(entityType, all = new Map());
    const next = { name, version: (current?.version ?? 0) + 1, configs };
    all.set(name, next);
    return Promise.resolve(structuredClone(next));
  }

  claimCleaning(
    topicId: string,
    partition: number,
    owner: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<boolean> {
    const p = this.partition(topicId, partition);
    if (!p) return Promise.resolve(false);
    const c = p.cleaner;
    if (c && c.owner !== null && c.owner !== owner && c.until > nowMs) {
      return Promise.resolve(false);
    }
    p.cleaner = {
      owner,
      until: nowMs + leaseMs,
      cleanedThrough: c?.cleanedThrough ?? p.state.logStartOffset,
    };
    return Promise.resolve(true);
  }

  releaseCleaning(topicId: string, partition: number, owner: string): Promise<void> {
    const c = this.partition(topicId, partition)?.cleaner;
    if (c && c.owner === owner) {
      c.owner = null;
      c.until = 0;
    }
    return Promise.resolve();
  }

  cleaningLease(topicId: string, partition: number): Promise<CleaningLease | null> {
    const c = this.partition(topicId, partition)?.cleaner;
    return Promise.resolve(c?.owner ? { owner: c.owner, untilMs: c.until } : null);
  }

  /** Sums the entries on each side of cleanedThrough (an entry holding it counts as dirty). */
  cleanerState(topicId: string, partition: number): Promise<CleanerState | null> {
    const p = this.partition(topicId, partition);
    if (!p) return Promise.resolve(null);
    const cleanedThrough = Math.max(p.cleaner?.cleanedThrough ?? 0, p.state.logStartOffset);
    let cleanBytes = 0;
    let dirtyBytes = 0;
    for (const e of p.entries) {
      if (e.lastOffset < cleanedThrough) cleanBytes += e.length;
      else dirtyBytes += e.length;
    }
    return Promise.resolve({ cleanedThrough, cleanBytes, dirtyBytes });
  }

  replaceIndexEntries(
    topicId: string,
    partition: number,
    owner: string,
    nowMs: number,
    expected: IndexEntry[],
    replacement: IndexEntry[],
    cleanedThrough: number,
  ): Promise<boolean> {
    try {
      checkReplacement(expected, replacement, cleanedThrough);
    } catch (e) {
      return Promise.reject(e);
    }
    const p = this.partition(topicId, partition);
    const c = p?.cleaner;
    if (!p || !c || c.owner !== owner || c.until <= nowMs) return Promise.resolve(false);
    let at = p.entries.length;
    if (expected.length > 0) {
      at = firstEntryAtOrAfter(p.entries, expected[0].baseOffset);
      if (at + expected.length > p.entries.length) return Promise.resolve(false);
      for (let i = 0; i < expected.length; i++) {
        if (!sameEntry(p.entries[at + i], expected[i])) return Promise.resolve(false);
      }
    }
    const ls = p.state.logStartOffset;
    const kept = replacement.filter((e) => e.lastOffset >= ls).map((e) => ({
      baseOffset: e.baseOffset,
      lastOffset: e.lastOffset,
      blob: e.blob,
      position: e.position,
      length: e.length,
      maxTimestamp: e.maxTimestamp,
    }));
    p.entries.splice(at, expected.length, ...kept);
    c.cleanedThrough = Math.max(
      c.cleanedThrough,
      ls,
      Math.min(cleanedThrough, p.state.highWatermark),
    );
    return Promise.resolve(true);
  }
}
