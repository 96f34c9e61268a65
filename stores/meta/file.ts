/**
 * `file:` meta store: JSON files in a directory, for local development. The
 * state lives in a MemoryMetaStore, whose operations run to completion without
 * awaiting (so each one is atomic, and this store adds no logic of its own);
 * every change is also written to the directory's journal (journal.ts) before
 * it is acknowledged, and replayed when the directory is opened again.
 *
 * One broker process at a time: opening takes the directory's lock
 * (dir_lock.ts) and a second process is refused. Use `sqlite:` for several
 * broker processes on one host.
 */

import type * as T from "../types.ts";
import { newTopicId } from "../ids.ts";
import { MemoryMetaStore, type MemorySnapshot } from "./memory.ts";
import { type DirectoryLock, lockDirectory } from "./dir_lock.ts";
import { Journal, readJournal } from "./journal.ts";
import { checkReplacement } from "./cleaning.ts";

/**
 * The MemoryMetaStore methods that change state. The journal records each call
 * as `[method, arguments]`; replaying the calls in order rebuilds the state,
 * since they depend on nothing else (a new topic's random id is an argument).
 */
const CHANGES = [
  "clusterId",
  "createTopicWithId",
  "deleteTopic",
  "createPartitions",
  "setTopicConfigs",
  "commitBatches",
  "advanceLogStart",
  "initProducerId",
  "registerBroker",
  "unregisterBroker",
  "putGroup",
  "putTransaction",
  "putShareState",
  "touchMember",
  "forgetMembers",
  "commitOffsets",
  "deleteOffsets",
  "alterEntityConfigs",
  "claimCleaning",
  "releaseCleaning",
  "replaceIndexEntries",
] as const;
type Change = typeof CHANGES[number];
const CHANGE_NAMES: ReadonlySet<string> = new Set(CHANGES);

/** Options for {@link FileMetaStore}. */
export interface FileMetaStoreOptions {
  /** fsync the journal before acknowledging a change (off by default, like the file log store). */
  fsync?: boolean;
  /** The least journal that makes a checkpoint (default 4 MiB); see journal.ts. */
  checkpointBytes?: number;
}

/** The file meta store. */
export class FileMetaStore implements T.MetaStore {
  readonly dir: string;
  private readonly lock: DirectoryLock;
  private readonly mem: MemoryMetaStore;
  private readonly journal: Journal;
  /** Set once closed, or once the journal could not be written (the files then lag the state). */
  private failure: Error | null = null;
  private closed = false;

  /** Opens the directory (creating it), or throws DirectoryLockedError when another process has it. */
  constructor(dir: string, opts: FileMetaStoreOptions = {}) {
    this.dir = dir;
    this.lock = lockDirectory(dir);
    try {
      const found = readJournal(dir);
      this.mem = found.snapshot === null
        ? new MemoryMetaStore()
        : MemoryMetaStore.fromSnapshot(found.snapshot as MemorySnapshot);
      for (const change of found.changes) this.replay(change);
      this.journal = new Journal(dir, found, {
        fsync: opts.fsync ?? false,
        checkpointBytes: opts.checkpointBytes,
      });
    } catch (e) {
      this.lock.release();
      throw e;
    }
  }

  private replay(change: unknown): void {
    const [name, args] = Array.isArray(change) ? change : [];
    if (!CHANGE_NAMES.has(name) || !Array.isArray(args)) {
      throw new Error(
        `Meta store journal in ${this.dir} holds an unknown change: the journal is damaged`,
      );
    }
    Reflect.apply(this.mem[name as Change], this.mem, args);
  }

  /** Applies a change to the state and journals it; resolves once the journal holds it. */
  private change<K extends Change>(
    name: K,
    ...args: Parameters<MemoryMetaStore[K]>
  ): ReturnType<MemoryMetaStore[K]> {
    type Result = ReturnType<MemoryMetaStore[K]>;
    if (this.failure) return Promise.reject(this.failure) as Result;
    // The memory store has made the change when this returns; journaling it
    // before anything else runs keeps the journal in the order of the changes.
    const result = Reflect.apply(this.mem[name], this.mem, args) as Promise<unknown>;
    let written: Promise<void>;
    try {
      written = this.journal.append([name, args]);
    } catch (e) {
      return Promise.reject(this.broken(e)) as Result;
    }
    if (this.journal.wantsCheckpoint) this.journal.checkpoint(this.mem.snapshot());
    return written.then(() => result, (e) => Promise.reject(this.broken(e))) as Result;
  }

  /** After a failed journal write the files lag the state in memory: refuse everything from then on. */
  private broken(e: unknown): Error {
    this.failure ??= new Error(
      `Meta store journal in ${this.dir} could not be written (${
        (e as Error).message
      }); restart the broker`,
    );
    return this.failure;
  }

  private read<R>(fn: () => Promise<R>): Promise<R> {
    return this.failure ? Promise.reject(this.failure) : fn();
  }

  ping(): Promise<void> {
    return this.read(() => this.mem.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failure = new Error(`Meta store in ${this.dir} is closed`);
    try {
      await this.journal.close();
    } finally {
      this.lock.release();
    }
  }

  clusterId(proposed: string): Promise<string> {
    return this.change("clusterId", proposed);
  }

  createTopic(topic: T.NewTopic): Promise<T.TopicInfo | null> {
    return this.change("createTopicWithId", topic, newTopicId());
  }
  deleteTopic(name: string): Promise<boolean> {
    return this.change("deleteTopic", name);
  }
  createPartitions(name: string, count: number): Promise<T.TopicInfo | null> {
    return this.change("createPartitions", name, count);
  }
  setTopicConfigs(name: string, configs: Record<string, string>): Promise<boolean> {
    return this.change("setTopicConfigs", name, configs);
  }
  getTopic(name: string): Promise<T.TopicInfo | null> {
    return this.read(() => this.mem.getTopic(name));
  }
  getTopicById(id: string): Promise<T.TopicInfo | null> {
    return this.read(() => this.mem.getTopicById(id));
  }
  listTopics(): Promise<T.TopicInfo[]> {
    return this.read(() => this.mem.listTopics());
  }

  commitBatches(blob: string, batches: T.BatchToCommit[]): Promise<T.CommitResult[]> {
    return this.change("commitBatches", blob, batches);
  }
  partitionState(topicId: string, partition: number): Promise<T.PartitionState | null> {
    return this.read(() => this.mem.partitionState(topicId, partition));
  }
  readIndex(
    topicId: string,
    partition: number,
    fromOffset: number,
    maxBytes: number,
  ): Promise<T.IndexEntry[]> {
    return this.read(() => this.mem.readIndex(topicId, partition, fromOffset, maxBytes));
  }
  findByTimestamp(topicId: string, partition: number, ts: number): Promise<T.IndexEntry | null> {
    return this.read(() => this.mem.findByTimestamp(topicId, partition, ts));
  }
  maxTimestampEntry(topicId: string, partition: number): Promise<T.IndexEntry | null> {
    return this.read(() => this.mem.maxTimestampEntry(topicId, partition));
  }
  advanceLogStart(topicId: string, partition: number, offset: number): Promise<number> {
    return this.change("advanceLogStart", topicId, partition, offset);
  }

  abortedTransactions(
    topicId: string,
    partition: number,
    fromOffset: number,
    toOffset: number,
  ): Promise<T.AbortedTransaction[]> {
    return this.read(() => this.mem.abortedTransactions(topicId, partition, fromOffset, toOffset));
  }
  producerStates(topicId: string, partition: number): Promise<T.ProducerOnPartition[]> {
    return this.read(() => this.mem.producerStates(topicId, partition));
  }

  /** The memory store's sum of index entries (nothing to journal: a read). */
  partitionSizes(topicId: string, partitions: number): Promise<number[]> {
    return this.read(() => this.mem.partitionSizes(topicId, partitions));
  }

  initProducerId(input: T.InitProducerIdInput): Promise<T.ProducerIdentity> {
    return this.change("initProducerId", input);
  }

  referencedBlobs(): Promise<Set<string>> {
    return this.read(() => this.mem.referencedBlobs());
  }

  registerBroker(reg: T.BrokerRegistration): Promise<void> {
    return this.change("registerBroker", reg);
  }
  unregisterBroker(nodeId: number): Promise<void> {
    return this.change("unregisterBroker", nodeId);
  }
  liveBrokers(nowMs: number): Promise<T.BrokerRegistration[]> {
    return this.read(() => this.mem.liveBrokers(nowMs));
  }

  getTransaction(transactionalId: string): Promise<T.VersionedTransaction | null> {
    return this.read(() => this.mem.getTransaction(transactionalId));
  }
  putTransaction(
    transactionalId: string,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null> {
    return this.change("putTransaction", transactionalId, expectedVersion, state);
  }
  listTransactions(): Promise<{ transactionalId: string; transaction: T.VersionedTransaction }[]> {
    return this.read(() => this.mem.listTransactions());
  }

  getShareState(
    groupId: string,
    topicId: string,
    partition: number,
  ): Promise<T.VersionedShareState | null> {
    return this.read(() => this.mem.getShareState(groupId, topicId, partition));
  }
  putShareState(
    groupId: string,
    topicId: string,
    partition: number,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null> {
    return this.change("putShareState", groupId, topicId, partition, expectedVersion, state);
  }
  listShareStates(
    groupId: string,
  ): Promise<{ topicId: string; partition: number; share: T.VersionedShareState }[]> {
    return this.read(() => this.mem.listShareStates(groupId));
  }

  getGroup(groupId: string): Promise<T.VersionedGroup | null> {
    return this.read(() => this.mem.getGroup(groupId));
  }
  putGroup(groupId: string, expectedVersion: number, state: string | null): Promise<number | null> {
    return this.change("putGroup", groupId, expectedVersion, state);
  }
  listGroups(): Promise<{ groupId: string; group: T.VersionedGroup }[]> {
    return this.read(() => this.mem.listGroups());
  }
  touchMember(groupId: string, memberId: string, atMs: number): Promise<void> {
    return this.change("touchMember", groupId, memberId, atMs);
  }
  forgetMembers(groupId: string, memberIds: string[]): Promise<void> {
    return this.change("forgetMembers", groupId, memberIds);
  }
  memberHeartbeats(groupId: string): Promise<Map<string, number>> {
    return this.read(() => this.mem.memberHeartbeats(groupId));
  }
  commitOffsets(groupId: string, offsets: T.CommittedOffset[]): Promise<void> {
    return this.change("commitOffsets", groupId, offsets);
  }
  fetchOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<T.CommittedOffset[]> {
    return this.read(() => this.mem.fetchOffsets(groupId, partitions));
  }
  deleteOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[],
  ): Promise<void> {
    return this.change("deleteOffsets", groupId, partitions);
  }

  entityConfigs(entityType: string, names: string[] | null): Promise<T.EntityConfigs[]> {
    return this.read(() => this.mem.entityConfigs(entityType, names));
  }
  alterEntityConfigs(
    entityType: string,
    name: string,
    changes: Record<string, string | null>,
    expectedVersion?: number,
  ): Promise<T.EntityConfigs | null> {
    return this.change("alterEntityConfigs", entityType, name, changes, expectedVersion);
  }

  claimCleaning(
    topicId: string,
    partition: number,
    owner: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<boolean> {
    return this.change("claimCleaning", topicId, partition, owner, nowMs, leaseMs);
  }
  releaseCleaning(topicId: string, partition: number, owner: string): Promise<void> {
    return this.change("releaseCleaning", topicId, partition, owner);
  }
  cleaningLease(topicId: string, partition: number): Promise<T.CleaningLease | null> {
    return this.read(() => this.mem.cleaningLease(topicId, partition));
  }
  cleanerState(topicId: string, partition: number): Promise<T.CleanerState | null> {
    return this.read(() => this.mem.cleanerState(topicId, partition));
  }
  replaceIndexEntries(
    topicId: string,
    partition: number,
    owner: string,
    nowMs: number,
    expected: T.IndexEntry[],
    replacement: T.IndexEntry[],
    cleanedThrough: number,
  ): Promise<boolean> {
    // Refused arguments never reach the journal (a replay would fail on them).
    try {
      checkReplacement(expected, replacement, cleanedThrough);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.change(
      "replaceIndexEntries",
      topicId,
      partition,
      owner,
      nowMs,
      expected,
      replacement,
      cleanedThrough,
    );
  }
}
