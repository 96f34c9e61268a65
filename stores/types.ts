/**
 * The two stores a broker keeps everything in. A broker process holds no state
 * of its own: any number of brokers may share one MetaStore and one LogStore.
 */

/** A topic as the meta store keeps it. */
export interface TopicInfo {
  /** Kafka's topic id (KIP-516), in Kafka's base64 form. */
  id: string;
  name: string;
  partitions: number;
  /** Configs set at creation or altered since; the rest take broker defaults. */
  configs: Record<string, string>;
}

/** Offsets that bound a partition's log. */
export interface PartitionState {
  logStartOffset: number;
  highWatermark: number;
  /** read_committed consumers stop here (KIP-98); equals the high watermark without open transactions. */
  lastStableOffset: number;
}

/** One batch of a flush, as the produce path hands it to the meta store. */
export interface BatchToCommit {
  topicId: string;
  partition: number;
  /** Where the batch starts in the flushed blob, and its size. */
  position: number;
  length: number;
  recordCount: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  isTransactional: boolean;
  /**
   * A control batch: a transaction marker (KIP-98) the coordinator writes when
   * a transaction ends. Optional so that data-only callers need not say it.
   */
  isControl?: boolean;
  /** The marker's type when `isControl`: 0 abort, 1 commit. */
  controlType?: number;
}

/**
 * A transaction that was aborted in a partition: its records, from
 * `firstOffset` up to its abort marker at `lastOffset`, are dropped by
 * read_committed consumers (Fetch's aborted_transactions).
 */
export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

/** What a partition knows of one producer (DescribeProducers, KIP-664). */
export interface ProducerOnPartition {
  producerId: number;
  producerEpoch: number;
  /** The sequence of the last record appended, -1 if none. */
  lastSequence: number;
  /** The max timestamp of the last batch appended, -1 if none. */
  lastTimestamp: number;
  /** The first offset of the producer's open transaction here, -1 if none. */
  currentTxnStartOffset: number;
}

/**
 * A transaction's coordinator state as one versioned record (like groups):
 * the coordinator logic owns its JSON shape; the store keeps it and swaps it
 * by compare-and-set, so any broker can coordinate any transaction.
 */
export interface VersionedTransaction {
  version: number;
  state: string;
}

/** The outcome of committing one batch. */
export interface CommitResult {
  errorCode: number;
  /** Offset assigned to the batch's first record (-1 on error). */
  baseOffset: number;
  logStartOffset: number;
  /** A retried batch already in the log: acknowledged with its original offsets, stored once. */
  duplicate: boolean;
}

/** Where a committed batch lives, and the offsets it holds. */
export interface IndexEntry {
  baseOffset: number;
  lastOffset: number;
  blob: string;
  position: number;
  length: number;
  maxTimestamp: number;
}

/** A producer id and epoch handed out by InitProducerId (KIP-98, KIP-360). */
export interface ProducerIdentity {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

/** Input to InitProducerId. */
export interface InitProducerIdInput {
  transactionalId: string | null;
  transactionTimeoutMs: number;
  /** KIP-360: a producer that already has an id asks for its epoch to be bumped. */
  producerId: number;
  producerEpoch: number;
}

/** A topic to create. */
export interface NewTopic {
  name: string;
  partitions: number;
  configs: Record<string, string>;
}

/** A committed consumer offset (OffsetCommit), kept per group, topic and partition. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestamp: number;
}

/**
 * A consumer group's state as one versioned record. The coordinator logic owns
 * its shape; the store only keeps it and swaps it by compare-and-set, so every
 * broker can coordinate every group.
 */
export interface VersionedGroup {
  version: number;
  /** The group's state, as JSON. */
  state: string;
}

/**
 * A share-partition's state (KIP-932: a share group's start offset and
 * in-flight records on one topic partition) as one versioned record, swapped
 * by compare-and-set so that two brokers can never both acquire a record.
 * broker/share_partition_state.ts owns its JSON shape.
 */
export interface VersionedShareState {
  version: number;
  state: string;
}

/** A live broker's lease in the registry (the addressable cluster shape). */
export interface BrokerRegistration {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /** The lease ends here unless renewed; expired brokers are not listed. */
  expiresAtMs: number;
}

/**
 * The configs of one entity that is not a topic: a broker ("" is the
 * cluster-wide default), a consumer group (KIP-848 group configs), a client
 * quota entity. `version` rises with every change, for compare-and-set.
 */
export interface EntityConfigs {
  name: string;
  version: number;
  configs: Record<string, string>;
}

/** A partition's compaction progress (KIP-58). */
/** A cleaning claim (MetaStore.claimCleaning): its owner and the time it runs out. */
export interface CleaningLease {
  owner: string;
  untilMs: number;
}

export interface CleanerState {
  /** Offsets below this have been cleaned at least once; the dirty part starts here (log start at first). */
  cleanedThrough: number;
  /** Bytes of index entries from the log start to cleanedThrough, and from there to the high watermark. */
  cleanBytes: number;
  dirtyBytes: number;
}

/**
 * Small, strongly consistent state with atomic semantic operations. Each
 * backend uses its own native atomicity; callers never lock.
 */
export interface MetaStore {
  /** Fails when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** The cluster id recorded at first start, or `proposed` if none was recorded yet. */
  clusterId(proposed: string): Promise<string>;

  /** Creates a topic; null when the name is taken. */
  createTopic(topic: NewTopic): Promise<TopicInfo | null>;
  /** Deletes a topic, its partitions' index and producer state; false when it did not exist. */
  deleteTopic(name: string): Promise<boolean>;
  /** Grows a topic to `count` partitions; returns the topic, or null when it does not exist. */
  createPartitions(name: string, count: number): Promise<TopicInfo | null>;
  /** Replaces a topic's configs; returns false when it does not exist. */
  setTopicConfigs(name: string, configs: Record<string, string>): Promise<boolean>;
  getTopic(name: string): Promise<TopicInfo | null>;
  getTopicById(id: string): Promise<TopicInfo | null>;
  listTopics(): Promise<TopicInfo[]>;

  /**
   * Commits a flush: for every batch in order, checks the producer's epoch and
   * sequence (KIP-98 idempotence), assigns offsets from the partition's high
   * watermark and records where the batch lives. All or nothing.
   *
   * Transactions (KIP-98) in the same step:
   * - A transactional data batch from a producer with no open transaction in
   *   its partition opens one there, starting at the batch's base offset.
   * - A control batch (a marker, `isControl`) from a producer with an open
   *   transaction in the partition is appended (one offset) and closes it; an
   *   abort marker (controlType 0) also records the aborted range, from the
   *   transaction's first offset to the marker's offset. A marker whose epoch
   *   is below the producer's epoch in the partition is INVALID_PRODUCER_EPOCH;
   *   otherwise it raises the producer's epoch there to its own. A marker for a
   *   producer with no open transaction in the partition is acknowledged
   *   (`duplicate`, baseOffset -1, nothing stored): the coordinator retried
   *   an ending that had already landed, or the transaction wrote nothing
   *   there; a higher epoch is still recorded. Markers carry no sequence
   *   numbers and are not checked against them; a marker that raises the
   *   producer's epoch (KIP-890 bumps it at every ending) restarts its
   *   sequences at 0, as a bumped epoch does for data batches.
   * - The partition's last stable offset is the first offset of its oldest
   *   open transaction, or the high watermark when none is open; never below
   *   the log start (advanceLogStart may pass an open transaction's start).
   */
  commitBatches(blob: string, batches: BatchToCommit[]): Promise<CommitResult[]>;

  partitionState(topicId: string, partition: number): Promise<PartitionState | null>;
  /** Index entries holding offsets >= `fromOffset`, in offset order, up to about `maxBytes`. */
  readIndex(
    topicId: string,
    partition: number,
    fromOffset: number,
    maxBytes: number,
  ): Promise<IndexEntry[]>;
  /** The first batch whose max timestamp is >= `timestamp`, or null. */
  findByTimestamp(
    topicId: string,
    partition: number,
    timestamp: number,
  ): Promise<IndexEntry | null>;
  /** The batch holding the greatest timestamp (ListOffsets -3, KIP-734), or null when empty. */
  maxTimestampEntry(topicId: string, partition: number): Promise<IndexEntry | null>;
  /** Moves the log start offset forward (DeleteRecords, retention); returns the new one. */
  advanceLogStart(topicId: string, partition: number, offset: number): Promise<number>;
  /**
   * Aborted transactions of a partition that overlap offsets [fromOffset,
   * toOffset): those whose marker is at or after fromOffset and whose first
   * offset is before toOffset, in first-offset order. Those wholly below the
   * log start may be forgotten.
   */
  abortedTransactions(
    topicId: string,
    partition: number,
    fromOffset: number,
    toOffset: number,
  ): Promise<AbortedTransaction[]>;
  /** Every producer the partition keeps state for (idempotence and open transactions), by producer id. */
  producerStates(topicId: string, partition: number): Promise<ProducerOnPartition[]>;
  /** Bytes of record batches each partition of a topic holds, from its log start offset to its high watermark (DescribeLogDirs). */
  partitionSizes(topicId: string, partitions: number): Promise<number[]>;

  /** InitProducerId: a new producer id, or the epoch of an existing one bumped. */
  initProducerId(input: InitProducerIdInput): Promise<ProducerIdentity>;

  /** Every blob a committed index entry points to, for the log store's sweep. */
  referencedBlobs(): Promise<Set<string>>;

  /** Creates or renews a broker's lease (keyed by node id). */
  registerBroker(reg: BrokerRegistration): Promise<void>;
  /** Ends a broker's lease at once (clean shutdown). */
  unregisterBroker(nodeId: number): Promise<void>;
  /** Brokers whose lease has not expired at `nowMs`, by node id. */
  liveBrokers(nowMs: number): Promise<BrokerRegistration[]>;

  /** A transactional id's coordinator record, or null when it has none. */
  getTransaction(transactionalId: string): Promise<VersionedTransaction | null>;
  /**
   * Replaces a transactional id's record if its version is still
   * `expectedVersion` (0: it must not exist yet); `state` null deletes it.
   * Returns the new version, or null when another broker changed it first.
   */
  putTransaction(
    transactionalId: string,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null>;
  /** Every transactional id with its record. */
  listTransactions(): Promise<{ transactionalId: string; transaction: VersionedTransaction }[]>;

  /** The group's record and its version, or null when the group does not exist. */
  getGroup(groupId: string): Promise<VersionedGroup | null>;
  /**
   * Replaces the group's record if its version is still `expectedVersion` (0:
   * the group must not exist yet); `state` null deletes it, its offsets and
   * its members' heartbeat rows.
   * Returns the new version, or null when another broker changed it first.
   */
  putGroup(groupId: string, expectedVersion: number, state: string | null): Promise<number | null>;
  /** Every group id with its record. */
  listGroups(): Promise<{ groupId: string; group: VersionedGroup }[]>;
  /** Member liveness, kept apart from the record so heartbeats do not bump its version. */
  touchMember(groupId: string, memberId: string, atMs: number): Promise<void>;
  /** Last heartbeat of every member of a group that has sent one. */
  memberHeartbeats(groupId: string): Promise<Map<string, number>>;
  /**
   * Removes the heartbeat rows of members that left, expired or were replaced
   * (ids without a row are ignored), so that rows do not pile up over a
   * long-lived group's generations of members.
   */
  forgetMembers(groupId: string, memberIds: string[]): Promise<void>;
  /** Stores committed offsets (all or none). */
  commitOffsets(groupId: string, offsets: CommittedOffset[]): Promise<void>;
  /** Committed offsets of a group: all of them, or only the partitions asked for. */
  fetchOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<CommittedOffset[]>;
  /** Removes committed offsets of some partitions (OffsetDelete). */
  deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<void>;

  /** A share-partition's record (KIP-932), or null when the group never fetched it. */
  getShareState(
    groupId: string,
    topicId: string,
    partition: number,
  ): Promise<VersionedShareState | null>;
  /**
   * Replaces a share-partition's record if its version is still
   * `expectedVersion` (0: it must not exist yet); `state` null deletes it.
   * Returns the new version, or null when another broker changed it first.
   */
  putShareState(
    groupId: string,
    topicId: string,
    partition: number,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null>;
  /** Every share-partition record of a group, by topic id and partition. */
  listShareStates(
    groupId: string,
  ): Promise<{ topicId: string; partition: number; share: VersionedShareState }[]>;

  /**
   * Configs of entities of one type ("brokers", "groups", "quotas", ...): those
   * named (ones never configured are left out), or every one with at least one
   * config when `names` is null; sorted by name.
   */
  entityConfigs(entityType: string, names: string[] | null): Promise<EntityConfigs[]>;
  /**
   * Changes one entity's configs in one atomic step: each key of `changes` is
   * set to its value, or removed when the value is null. With
   * `expectedVersion`, only if the entity's version is still that (0: never
   * configured, or every config removed). Returns the entity after the change,
   * or null when the version did not match.
   */
  alterEntityConfigs(
    entityType: string,
    name: string,
    changes: Record<string, string | null>,
    expectedVersion?: number,
  ): Promise<EntityConfigs | null>;

  /**
   * Claims cleaning one partition (KIP-58 log cleaner) for `owner` until nowMs
   * + leaseMs: true when it was free, expired, or already `owner`'s (renewed);
   * false when another owner holds it or the partition does not exist.
   */
  claimCleaning(
    topicId: string,
    partition: number,
    owner: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<boolean>;
  /** Ends `owner`'s claim (a claim held by another owner is left alone). */
  releaseCleaning(topicId: string, partition: number, owner: string): Promise<void>;
  /**
   * Who holds the partition's cleaning claim and until when (as claimed), or
   * null when nobody does or the partition does not exist. A claim past its
   * time is still returned: it is expired, not released.
   */
  cleaningLease(topicId: string, partition: number): Promise<CleaningLease | null>;
  /** The partition's cleaner state, or null when the partition does not exist. */
  cleanerState(topicId: string, partition: number): Promise<CleanerState | null>;
  /**
   * Swaps cleaned batches in, all or nothing: only while `owner` holds an
   * unexpired claim at nowMs, and only if the index still holds exactly
   * `expected` (consecutive entries, each with the same baseOffset, lastOffset,
   * blob, position and length). Then those entries are replaced by
   * `replacement` (entries within the same offset range, in order; fewer,
   * smaller or none: compacted logs have gaps; any wholly below the log start
   * are left out), cleanedThrough is set to `cleanedThrough` (never moved
   * backwards, never past the high watermark), and true is returned; otherwise
   * nothing changes and false. The high watermark, log start, producer state
   * and every other entry are untouched. `expected` may be empty only with an
   * empty `replacement` (cleanedThrough moves alone); arguments breaking these
   * rules are refused with a RangeError.
   */
  replaceIndexEntries(
    topicId: string,
    partition: number,
    owner: string,
    nowMs: number,
    expected: IndexEntry[],
    replacement: IndexEntry[],
    cleanedThrough: number,
  ): Promise<boolean>;
}

/** `length` bytes at `position` of a blob. */
export interface BlobRange {
  blob: string;
  position: number;
  length: number;
}

/**
 * Immutable bytes. A write becomes whatever the backend likes (an object per
 * flush, an append to a segment file); written bytes never change.
 */
export interface LogStore {
  /**
   * True when every write is its own remote object (s3:), so a partition's
   * batches end up spread over many small objects and are worth consolidating
   * (broker/consolidator.ts); absent for stores that append to segments.
   */
  readonly objectPerWrite?: boolean;
  /**
   * True when reads are served from this machine's memory (memory:, or file:
   * through the OS page cache): the broker's blob cache would only hold a
   * second copy of what is already there, so it keeps none.
   */
  readonly localReads?: boolean;
  /**
   * True when a read returns a view of bytes the store already holds (memory:)
   * rather than a new copy: joining neighbouring reads would then only cost a
   * copy, so readers ask for each range on its own.
   */
  readonly readsAreViews?: boolean;
  /**
   * Reads ranges back to back into one new buffer that belongs to the caller
   * alone, who may change it: a Fetch gets a partition's record set as one
   * chunk, copied once out of the store, and writes each batch's offset into
   * it in place (stores without it are read range by range, and the broker
   * adds each batch's rewritten header as a piece of its own).
   */
  readRanges?(ranges: readonly BlobRange[]): Promise<Uint8Array>;
  /**
   * A hint: these ranges are likely to be read soon (the batches after those
   * a Fetch just answered), so a store whose reads are slow may start them
   * now and keep the bytes for that read. Returns at once; never fails.
   */
  prefetch?(ranges: readonly BlobRange[]): void;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Stores the chunks back to back as one blob and returns its key. */
  write(chunks: Uint8Array[]): Promise<string>;
  /** Reads `length` bytes at `position` of a blob. */
  read(blob: string, position: number, length: number): Promise<Uint8Array>;
  /**
   * Removes what no committed index entry needs: `referenced` holds the live
   * blob keys; anything younger than `graceMs` is kept (its commit may be in
   * flight). Returns how many blobs or segments were removed.
   */
  sweep(referenced: Set<string>, graceMs: number): Promise<number>;
  /** A store with a size bound (`memory:?max-bytes=`) shows it here; others leave it out. */
  readonly space?: LogSpace;
}

/**
 * The size bound of a log store. Before refusing a write that would go past
 * `maxBytes`, the store asks `onFull` (installed by the broker, broker/space.ts)
 * to free at least `neededBytes`; it resolves false when nothing more can go.
 */
export interface LogSpace {
  readonly maxBytes: number;
  usedBytes(): number;
  /** Bytes a blob holds; 0 when it is gone. */
  blobBytes(blob: string): number;
  /** Removes these blobs at once (ones no index entry points to any more); returns the bytes freed. */
  discard(blobs: Iterable<string>): number;
  onFull: ((neededBytes: number) => Promise<boolean>) | null;
}
