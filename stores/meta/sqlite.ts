/**
 * `sqlite:` meta store on node:sqlite (built into Deno, so `deno compile` needs
 * no native library). Several broker processes on one host may share the file:
 * WAL mode lets readers run beside the one writer, every change is one
 * `BEGIN IMMEDIATE` transaction, and a busy timeout waits out the other
 * process's writes instead of failing.
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
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
import { WalCheckpointer } from "./sqlite_checkpoint.ts";
import { checkReplacement, sameEntry } from "./cleaning.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS topics (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, partitions INTEGER NOT NULL, configs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS partitions (
  topic_id TEXT NOT NULL, partition INTEGER NOT NULL,
  log_start INTEGER NOT NULL, high_watermark INTEGER NOT NULL, last_stable INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  topic_id TEXT NOT NULL, partition INTEGER NOT NULL, base_offset INTEGER NOT NULL,
  last_offset INTEGER NOT NULL, blob TEXT NOT NULL, position INTEGER NOT NULL,
  length INTEGER NOT NULL, max_timestamp INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition, base_offset)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_by_blob ON batches (blob);
CREATE TABLE IF NOT EXISTS producer_partitions (
  producer_id INTEGER NOT NULL, topic_id TEXT NOT NULL, partition INTEGER NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (topic_id, partition, producer_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS producers (producer_id INTEGER PRIMARY KEY, epoch INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS brokers (
  node_id INTEGER PRIMARY KEY, host TEXT NOT NULL, port INTEGER NOT NULL, rack TEXT,
  expires_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
  group_id TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS group_heartbeats (
  group_id TEXT NOT NULL, member_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
  PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS committed_offsets (
  group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
  committed_offset INTEGER NOT NULL, leader_epoch INTEGER NOT NULL, metadata TEXT,
  commit_timestamp INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entity_configs (
  entity_type TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, configs TEXT NOT NULL,
  PRIMARY KEY (entity_type, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cleaner (
  topic_id TEXT NOT NULL, partition INTEGER NOT NULL,
  owner TEXT, lease_until INTEGER NOT NULL,
  cleaned_through INTEGER NOT NULL, clean_bytes INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS transactional_ids (
  transactional_id TEXT PRIMARY KEY, producer_id INTEGER NOT NULL, epoch INTEGER NOT NULL
);
-- Open transactions (KIP-98), one row per producer with one open in a partition; the
-- first_offset is also in the producer's state, and here for the last stable offset's MIN.
CREATE TABLE IF NOT EXISTS open_transactions (
  topic_id TEXT NOT NULL, partition INTEGER NOT NULL, producer_id INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition, producer_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS open_transactions_by_first
  ON open_transactions (topic_id, partition, first_offset);
-- Aborted ranges, keyed by their marker's offset: a fetch's range query scans from
-- the first marker at or after its start.
CREATE TABLE IF NOT EXISTS aborted_transactions (
  topic_id TEXT NOT NULL, partition INTEGER NOT NULL, last_offset INTEGER NOT NULL,
  first_offset INTEGER NOT NULL, producer_id INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition, last_offset)
) WITHOUT ROWID;
-- Share-partition records (KIP-932), versioned like groups.
CREATE TABLE IF NOT EXISTS share_states (
  group_id TEXT NOT NULL, topic_id TEXT NOT NULL, partition INTEGER NOT NULL,
  version INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (group_id, topic_id, partition)
);
-- Transaction coordinator records, versioned like groups.
CREATE TABLE IF NOT EXISTS transactions (
  transactional_id TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL
);
`;

type Row = Record<string, unknown>;

/** How often the worker checkpoints the WAL (see sqlite_checkpoint.ts). */
const CHECKPOINT_INTERVAL_MS = 200;
/** Log pages (4 KiB) past which a commit checkpoints by itself (SQLite's default is 1000). */
const WRITER_CHECKPOINT_PAGES = 8000;

/** readIndex reads index rows this many at a time, and at most INDEX_MAX_ROWS per call. */
const INDEX_PAGE = 128;
const INDEX_MAX_ROWS = 512;

/** The SQLite meta store. */
export class SqliteMetaStore implements MetaStore {
  readonly db: DatabaseSync;
  private stmts = new Map<string, StatementSync>();
  private checkpointer: WalCheckpointer | null = null;

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec("PRAGMA busy_timeout = 10000");
    this.db.exec("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode survives a process crash; like Kafka's default, it does
    // not fsync every commit (documented in the README).
    this.db.exec("PRAGMA synchronous = NORMAL");
    this.db.exec(SCHEMA);
    if (path !== ":memory:" && path !== "") {
      // Checkpoints (and their fsyncs) run in a worker thread; a commit checkpoints
      // only past this many log pages, when the worker cannot rewind the log under load.
      this.db.exec(`PRAGMA wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
      this.checkpointer = new WalCheckpointer(path, CHECKPOINT_INTERVAL_MS);
    }
  }

  private q(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Runs fn in one write transaction taken up front (no upgrade deadlocks between processes). */
  private tx<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.db.exec("COMMIT");
      return out;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  ping(): Promise<void> {
    this.q("SELECT 1").get();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    if (this.db.isOpen) this.db.close();
  }

  clusterId(proposed: string): Promise<string> {
    return Promise.resolve(this.tx(() => {
      this.q("INSERT OR IGNORE INTO settings (key, value) VALUES ('cluster_id', ?)").run(proposed);
      return String(
        (this.q("SELECT value FROM settings WHERE key = 'cluster_id'").get() as Row).value,
      );
    }));
  }

  private topicFromRow(r: Row | undefined): TopicInfo | null {
    if (!r) return null;
    return {
      id: String(r.id),
      name: String(r.name),
      partitions: Number(r.partitions),
      configs: JSON.parse(String(r.configs)),
    };
  }

  createTopic(t: NewTopic): Promise<TopicInfo | null> {
    return Promise.resolve(this.tx(() => {
      if (this.q("SELECT 1 FROM topics WHERE name = ?").get(t.name)) return null;
      const id = newTopicId();
      this.q("INSERT INTO topics (id, name, partitions, configs) VALUES (?, ?, ?, ?)")
        .run(id, t.name, t.partitions, JSON.stringify(t.configs));
      const ins = this.q(
        "INSERT INTO partitions (topic_id, partition, log_start, high_watermark, last_stable) VALUES (?, ?, 0, 0, 0)",
      );
      for (let p = 0; p < t.partitions; p++) ins.run(id, p);
      return { id, name: t.name, partitions: t.partitions, configs: { ...t.configs } };
    }));
  }

  deleteTopic(name: string): Promise<boolean> {
    return Promise.resolve(this.tx(() => {
      const r = this.q("SELECT id FROM topics WHERE name = ?").get(name) as Row | undefined;
      if (!r) return false;
      for (
        const table of [
          "batches",
          "partitions",
          "producer_partitions",
          "cleaner",
          "open_transactions",
          "aborted_transactions",
        ]
      ) {
        this.q(`DELETE FROM ${table} WHERE topic_id = ?`).run(String(r.id));
      }
      this.q("DELETE FROM topics WHERE id = ?").run(String(r.id));
      return true;
    }));
  }

  createPartitions(name: string, count: number): Promise<TopicInfo | null> {
    return Promise.resolve(this.tx(() => {
      const t = this.topicFromRow(this.q("SELECT * FROM topics WHERE name = ?").get(name) as Row);
      if (!t) return null;
      const ins = this.q(
        "INSERT INTO partitions (topic_id, partition, log_start, high_watermark, last_stable) VALUES (?, ?, 0, 0, 0)",
      );
      for (let p = t.partitions; p < count; p++) ins.run(t.id, p);
      const partitions = Math.max(count, t.partitions);
      this.q("UPDATE topics SET partitions = ? WHERE id = ?").run(partitions, t.id);
      return { ...t, partitions };
    }));
  }

  setTopicConfigs(name: string, configs: Record<string, string>): Promise<boolean> {
    const r = this.q("UPDATE topics SET configs = ? WHERE name = ?")
      .run(JSON.stringify(configs), name);
    return Promise.resolve(Number(r.changes) > 0);
  }

  getTopic(name: string): Promise<TopicInfo | null> {
    return Promise.resolve(
      this.topicFromRow(this.q("SELECT * FROM topics WHERE name = ?").get(name) as Row),
    );
  }
  getTopicById(id: string): Promise<TopicInfo | null> {
    return Promise.resolve(
      this.topicFromRow(this.q("SELECT * FROM topics WHERE id = ?").get(id) as Row),
    );
  }
  listTopics(): Promise<TopicInfo[]> {
    const rows = this.q("SELECT * FROM topics ORDER BY name").all() as Row[];
    return Promise.resolve(rows.map((r) => this.topicFromRow(r)!));
  }

  commitBatches(blob: string, batches: BatchToCommit[]): Promise<CommitResult[]> {
    return Promise.resolve(this.tx(() => {
      // Partition and producer states are read once per flush and written back once.
      const states = new Map<string, PartitionState | null>();
      const producers = new Map<string, ProducerPartitionState | null>();
      const dirtyProducers = new Set<string>();
      const getState = (b: BatchToCommit) => {
        const k = `${b.topicId}/${b.partition}`;
        if (!states.has(k)) {
          const r = this.q(
            "SELECT log_start, high_watermark, last_stable FROM partitions WHERE topic_id = ? AND partition = ?",
          ).get(b.topicId, b.partition) as Row | undefined;
          states.set(
            k,
            r
              ? {
                logStartOffset: Number(r.log_start),
                highWatermark: Number(r.high_watermark),
                lastStableOffset: Number(r.last_stable),
              }
              : null,
          );
        }
        return states.get(k)!;
      };
      const insert = this.q(
        "INSERT INTO batches (topic_id, partition, base_offset, last_offset, blob, position, length, max_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
      const results: CommitResult[] = [];
      for (const b of batches) {
        const st = getState(b);
        if (!st) {
          results.push({
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            baseOffset: -1,
            logStartOffset: -1,
            duplicate: false,
          });
          continue;
        }
        const baseOffset = st.highWatermark;
        let recordCount = b.recordCount;
        const pk = `${b.topicId}/${b.partition}/${b.producerId}`;
        const prior = () => {
          if (!producers.has(pk)) {
            const r = this.q(
              "SELECT state FROM producer_partitions WHERE topic_id = ? AND partition = ? AND producer_id = ?",
            ).get(b.topicId, b.partition, b.producerId) as Row | undefined;
            producers.set(pk, r ? JSON.parse(String(r.state)) : null);
          }
          return producers.get(pk)!;
        };
        const refuse = (errorCode: number, baseOffset: number, duplicate: boolean) =>
          results.push({ errorCode, baseOffset, logStartOffset: st.logStartOffset, duplicate });
        if (b.isControl) {
          // A transaction marker: one offset, no sequence (see MetaStore.commitBatches).
          const before = b.producerId >= 0 ? prior() : null;
          const v = checkMarker(before, b.producerEpoch);
          if (v.kind === "error") {
            refuse(v.errorCode, -1, false);
            continue;
          }
          const next = afterMarker(before, b.producerEpoch, b.maxTimestamp, v.kind === "append");
          if (next !== null && next !== before) {
            producers.set(pk, next);
            dirtyProducers.add(pk);
          }
          if (v.kind === "duplicate") {
            refuse(ErrorCode.NONE, -1, true);
            continue;
          }
          if ((b.controlType ?? 0) === 0) {
            this.q(
              "INSERT INTO aborted_transactions (topic_id, partition, last_offset, first_offset, producer_id) VALUES (?, ?, ?, ?, ?)",
            ).run(b.topicId, b.partition, baseOffset, v.firstOffset, b.producerId);
          }
          recordCount = 1;
        } else if (b.producerId >= 0) {
          const before = prior();
          const v = checkSequence(before, b.producerEpoch, b.baseSequence, b.recordCount);
          if (v.kind === "error") {
            refuse(v.errorCode, -1, false);
            continue;
          }
          if (v.kind === "duplicate") {
            refuse(ErrorCode.NONE, v.baseOffset, true);
            continue;
          }
          producers.set(
            pk,
            afterAppend(
              before,
              b.producerEpoch,
              b.baseSequence,
              b.recordCount,
              baseOffset,
              b.isTransactional,
              b.maxTimestamp,
            ),
          );
          dirtyProducers.add(pk);
        }
        insert.run(
          b.topicId,
          b.partition,
          baseOffset,
          baseOffset + recordCount - 1,
          blob,
          b.position,
          b.length,
          b.maxTimestamp,
        );
        st.highWatermark += recordCount;
        refuse(ErrorCode.NONE, baseOffset, false);
      }
      // Producer states (and the open transactions they hold) first, then the
      // last stable offsets computed from them.
      const ups = this.q(
        "INSERT OR REPLACE INTO producer_partitions (producer_id, topic_id, partition, state) VALUES (?, ?, ?, ?)",
      );
      const openIns = this.q(
        "INSERT OR REPLACE INTO open_transactions (topic_id, partition, producer_id, first_offset) VALUES (?, ?, ?, ?)",
      );
      const openDel = this.q(
        "DELETE FROM open_transactions WHERE topic_id = ? AND partition = ? AND producer_id = ?",
      );
      for (const pk of dirtyProducers) {
        const [topicId, partition, producerId] = pk.split("/");
        const state = producers.get(pk)!;
        ups.run(Number(producerId), topicId, Number(partition), JSON.stringify(state));
        const start = txnStartOf(state);
        if (start >= 0) openIns.run(topicId, Number(partition), Number(producerId), start);
        else openDel.run(topicId, Number(partition), Number(producerId));
      }
      for (const [k, st] of states) {
        if (!st) continue;
        const [topicId, partition] = k.split("/");
        st.lastStableOffset = this.lastStable(topicId, Number(partition), st);
      }
      const upd = this.q(
        "UPDATE partitions SET high_watermark = ?, last_stable = ? WHERE topic_id = ? AND partition = ?",
      );
      for (const [k, st] of states) {
        if (!st) continue;
        const [topicId, partition] = k.split("/");
        upd.run(st.highWatermark, st.lastStableOffset, topicId, Number(partition));
      }
      return results;
    }));
  }

  /** The last stable offset from the open transactions table (inside a write transaction). */
  private lastStable(topicId: string, partition: number, st: PartitionState): number {
    const r = this.q(
      "SELECT MIN(first_offset) AS first FROM open_transactions WHERE topic_id = ? AND partition = ?",
    ).get(topicId, partition) as Row | undefined;
    const first = r?.first === null || r?.first === undefined ? [] : [Number(r.first)];
    return lastStableOffsetOf(st.logStartOffset, st.highWatermark, first);
  }

  partitionState(topicId: string, partition: number): Promise<PartitionState | null> {
    const r = this.q(
      "SELECT log_start, high_watermark, last_stable FROM partitions WHERE topic_id = ? AND partition = ?",
    ).get(topicId, partition) as Row | undefined;
    return Promise.resolve(
      r
        ? {
          logStartOffset: Number(r.log_start),
          highWatermark: Number(r.high_watermark),
          lastStableOffset: Number(r.last_stable),
        }
        : null,
    );
  }

  private entryFromRow(r: Row): IndexEntry {
    return {
      baseOffset: Number(r.base_offset),
      lastOffset: Number(r.last_offset),
      blob: String(r.blob),
      position: Number(r.position),
      length: Number(r.length),
      maxTimestamp: Number(r.max_timestamp),
    };
  }

  readIndex(
    topicId: string,
    partition: number,
    fromOffset: number,
    maxBytes: number,
  ): Promise<IndexEntry[]> {
    // One read transaction: every page sees the same index, even while another
    // process swaps cleaned entries in (replaceIndexEntries).
    this.db.exec("BEGIN");
    try {
      return Promise.resolve(this.readIndexPages(topicId, partition, fromOffset, maxBytes));
    } finally {
      this.db.exec("COMMIT");
    }
  }

  private readIndexPages(
    topicId: string,
    partition: number,
    fromOffset: number,
    maxBytes: number,
  ): IndexEntry[] {
    // The entry holding fromOffset starts at or before it, so look from the last start <= fromOffset
    // (in a gap of a compacted log, that entry ends before fromOffset and is skipped).
    // Rows come in pages until maxBytes is reached: most fetches need far fewer rows than
    // the cap, and SQLite hands over a short page much faster.
    let rows = this.q(
      `SELECT base_offset, last_offset, blob, position, length, max_timestamp FROM batches
       WHERE topic_id = ? AND partition = ? AND base_offset >= COALESCE(
         (SELECT MAX(base_offset) FROM batches WHERE topic_id = ? AND partition = ? AND base_offset <= ?), 0)
       ORDER BY base_offset LIMIT ${INDEX_PAGE}`,
    ).all(topicId, partition, topicId, partition, fromOffset) as Row[];
    const out: IndexEntry[] = [];
    let bytes = 0;
    let scanned = 0;
    for (;;) {
      for (const r of rows) {
        const e = this.entryFromRow(r);
        if (e.lastOffset < fromOffset) continue;
        if (out.length > 0 && bytes + e.length > maxBytes) return out;
        out.push(e);
        bytes += e.length;
      }
      scanned += rows.length;
      if (rows.length < INDEX_PAGE || scanned >= INDEX_MAX_ROWS) break;
      rows = this.q(
        `SELECT base_offset, last_offset, blob, position, length, max_timestamp FROM batches
         WHERE topic_id = ? AND partition = ? AND base_offset > ?
         ORDER BY base_offset LIMIT ${INDEX_PAGE}`,
      ).all(topicId, partition, Number(rows[rows.length - 1].base_offset)) as Row[];
    }
    return out;
  }

  findByTimestamp(topicId: string, partition: number, ts: number): Promise<IndexEntry | null> {
    const r = this.q(
      `SELECT b.* FROM batches b JOIN partitions p ON p.topic_id = b.topic_id AND p.partition = b.partition
       WHERE b.topic_id = ? AND b.partition = ? AND b.max_timestamp >= ? AND b.last_offset >= p.log_start
       ORDER BY b.base_offset LIMIT 1`,
    ).get(topicId, partition, ts) as Row | undefined;
    return Promise.resolve(r ? this.entryFromRow(r) : null);
  }

  maxTimestampEntry(topicId: string, partition: number): Promise<IndexEntry | null> {
    const r = this.q(
      `SELECT b.* FROM batches b JOIN partitions p ON p.topic_id = b.topic_id AND p.partition = b.partition
       WHERE b.topic_id = ? AND b.partition = ? AND b.last_offset >= p.log_start
       ORDER BY b.max_timestamp DESC, b.base_offset ASC LIMIT 1`,
    ).get(topicId, partition) as Row | undefined;
    return Promise.resolve(r ? this.entryFromRow(r) : null);
  }

  advanceLogStart(topicId: string, partition: number, offset: number): Promise<number> {
    return Promise.resolve(this.tx(() => {
      const st = this.q(
        "SELECT log_start, high_watermark FROM partitions WHERE topic_id = ? AND partition = ?",
      ).get(topicId, partition) as Row | undefined;
      if (!st) return -1;
      const target = Math.min(offset, Number(st.high_watermark));
      if (target <= Number(st.log_start)) return Number(st.log_start);
      this.q("UPDATE partitions SET log_start = ? WHERE topic_id = ? AND partition = ?")
        .run(target, topicId, partition);
      // The cleaner's count of clean bytes loses the clean entries that go.
      this.q(
        `UPDATE cleaner SET clean_bytes = clean_bytes - (
           SELECT COALESCE(SUM(b.length), 0) FROM batches b
           WHERE b.topic_id = cleaner.topic_id AND b.partition = cleaner.partition
             AND b.base_offset < ? AND b.last_offset < ? AND b.last_offset < cleaner.cleaned_through)
         WHERE topic_id = ? AND partition = ?`,
      ).run(target, target, topicId, partition);
      this.q(
        "DELETE FROM batches WHERE topic_id = ? AND partition = ? AND base_offset < ? AND last_offset < ?",
      ).run(topicId, partition, target, target);
      this.q(
        "DELETE FROM aborted_transactions WHERE topic_id = ? AND partition = ? AND last_offset < ?",
      ).run(topicId, partition, target);
      const lastStable = this.lastStable(topicId, partition, {
        logStartOffset: target,
        highWatermark: Number(st.high_watermark),
        lastStableOffset: 0,
      });
      this.q("UPDATE partitions SET last_stable = ? WHERE topic_id = ? AND partition = ?")
        .run(lastStable, topicId, partition);
      return target;
    }));
  }

  abortedTransactions(
    topicId: string,
    partition: number,
    fromOffset: number,
    toOffset: number,
  ): Promise<AbortedTransaction[]> {
    const rows = this.q(
      `SELECT producer_id, first_offset, last_offset FROM aborted_transactions
       WHERE topic_id = ? AND partition = ? AND last_offset >= ? AND first_offset < ?
       ORDER BY first_offset, last_offset`,
    ).all(topicId, partition, fromOffset, toOffset) as Row[];
    return Promise.resolve(rows.map((r) => ({
      producerId: Number(r.producer_id),
      firstOffset: Number(r.first_offset),
      lastOffset: Number(r.last_offset),
    })));
  }

  producerStates(topicId: string, partition: number): Promise<ProducerOnPartition[]> {
    const rows = this.q(
      "SELECT producer_id, state FROM producer_partitions WHERE topic_id = ? AND partition = ? ORDER BY producer_id",
    ).all(topicId, partition) as Row[];
    return Promise.resolve(
      rows.map((r) => producerOnPartition(Number(r.producer_id), JSON.parse(String(r.state)))),
    );
  }

  /**
   * Sums the index rows, one range of the primary key per topic: advanceLogStart
   * deletes the rows wholly below the log start, so every row left counts. A
   * running count would need a schema change for existing databases, and
   * DescribeLogDirs is rare.
   */
  partitionSizes(topicId: string, partitions: number): Promise<number[]> {
    const out = new Array<number>(partitions).fill(0);
    const rows = this.q(
      "SELECT partition, SUM(length) AS bytes FROM batches WHERE topic_id = ? GROUP BY partition",
    ).all(topicId) as Row[];
    for (const r of rows) {
      const p = Number(r.partition);
      if (p >= 0 && p < partitions) out[p] = Number(r.bytes);
    }
    return Promise.resolve(out);
  }

  initProducerId(input: InitProducerIdInput): Promise<ProducerIdentity> {
    return Promise.resolve(this.tx((): ProducerIdentity => {
      const allocate = (): number => {
        this.q("INSERT OR IGNORE INTO settings (key, value) VALUES ('next_producer_id', '1000')")
          .run();
        const id = Number(
          (this.q("SELECT value FROM settings WHERE key = 'next_producer_id'").get() as Row).value,
        );
        this.q("UPDATE settings SET value = ? WHERE key = 'next_producer_id'").run(String(id + 1));
        this.q("INSERT OR REPLACE INTO producers (producer_id, epoch) VALUES (?, 0)").run(id);
        return id;
      };
      const bump = (producerId: number, epoch: number): ProducerIdentity => {
        if (epoch >= 32766) return { errorCode: 0, producerId: allocate(), producerEpoch: 0 };
        this.q("UPDATE producers SET epoch = ? WHERE producer_id = ?").run(epoch + 1, producerId);
        return { errorCode: 0, producerId, producerEpoch: epoch + 1 };
      };
      if (input.transactionalId === null) {
        if (input.producerId >= 0) {
          const r = this.q("SELECT epoch FROM producers WHERE producer_id = ?")
            .get(input.producerId) as Row | undefined;
          if (!r || Number(r.epoch) !== input.producerEpoch) {
            return {
              errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
              producerId: -1,
              producerEpoch: -1,
            };
          }
          return bump(input.producerId, Number(r.epoch));
        }
        return { errorCode: 0, producerId: allocate(), producerEpoch: 0 };
      }
      const r = this.q(
        "SELECT producer_id, epoch FROM transactional_ids WHERE transactional_id = ?",
      )
        .get(input.transactionalId) as Row | undefined;
      const out = r
        ? bump(Number(r.producer_id), Number(r.epoch))
        : { errorCode: 0, producerId: allocate(), producerEpoch: 0 };
      this.q(
        "INSERT OR REPLACE INTO transactional_ids (transactional_id, producer_id, epoch) VALUES (?, ?, ?)",
      ).run(input.transactionalId, out.producerId, out.producerEpoch);
      return out;
    }));
  }

  referencedBlobs(): Promise<Set<string>> {
    const rows = this.q("SELECT DISTINCT blob FROM batches").all() as Row[];
    return Promise.resolve(new Set(rows.map((r) => String(r.blob))));
  }

  registerBroker(reg: BrokerRegistration): Promise<void> {
    this.q(
      "INSERT OR REPLACE INTO brokers (node_id, host, port, rack, expires_at_ms) VALUES (?, ?, ?, ?, ?)",
    ).run(reg.nodeId, reg.host, reg.port, reg.rack, reg.expiresAtMs);
    return Promise.resolve();
  }

  unregisterBroker(nodeId: number): Promise<void> {
    this.q("DELETE FROM brokers WHERE node_id = ?").run(nodeId);
    return Promise.resolve();
  }

  liveBrokers(nowMs: number): Promise<BrokerRegistration[]> {
    const rows = this.q("SELECT * FROM brokers WHERE expires_at_ms > ? ORDER BY node_id")
      .all(nowMs) as Row[];
    return Promise.resolve(rows.map((r) => ({
      nodeId: Number(r.node_id),
      host: String(r.host),
      port: Number(r.port),
      rack: r.rack === null ? null : String(r.rack),
      expiresAtMs: Number(r.expires_at_ms),
    })));
  }

  getTransaction(transactionalId: string): Promise<VersionedTransaction | null> {
    const r = this.q("SELECT version, state FROM transactions WHERE transactional_id = ?")
      .get(transactionalId) as Row | undefined;
    return Promise.resolve(r ? { version: Number(r.version), state: String(r.state) } : null);
  }

  putTransaction(
    transactionalId: string,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null> {
    return Promise.resolve(this.tx(() => {
      const r = this.q("SELECT version FROM transactions WHERE transactional_id = ?")
        .get(transactionalId) as Row | undefined;
      const current = r ? Number(r.version) : 0;
      if (current !== expectedVersion) return null;
      if (state === null) {
        this.q("DELETE FROM transactions WHERE transactional_id = ?").run(transactionalId);
      } else {
        this.q(
          "INSERT OR REPLACE INTO transactions (transactional_id, version, state) VALUES (?, ?, ?)",
        ).run(transactionalId, current + 1, state);
      }
      return current + 1;
    }));
  }

  listTransactions(): Promise<{ transactionalId: string; transaction: VersionedTransaction }[]> {
    const rows = this.q(
      "SELECT transactional_id, version, state FROM transactions ORDER BY transactional_id",
    ).all() as Row[];
    return Promise.resolve(rows.map((r) => ({
      transactionalId: String(r.transactional_id),
      transaction: { version: Number(r.version), state: String(r.state) },
    })));
  }

  getShareState(
    groupId: string,
    topicId: string,
    partition: number,
  ): Promise<VersionedShareState | null> {
    const r = this.q(
      "SELECT version, state FROM share_states WHERE group_id = ? AND topic_id = ? AND partition = ?",
    ).get(groupId, topicId, partition) as Row | undefined;
    return Promise.resolve(r ? { version: Number(r.version), state: String(r.state) } : null);
  }

  putShareState(
    groupId: string,
    topicId: string,
    partition: number,
    expectedVersion: number,
    state: string | null,
  ): Promise<number | null> {
    return Promise.resolve(this.tx(() => {
      const r = this.q(
        "SELECT version FROM share_states WHERE group_id = ? AND topic_id = ? AND partition = ?",
      ).get(groupId, topicId, partition) as Row | undefined;
      const current = r ? Number(r.version) : 0;
      if (current !== expectedVersion) return null;
      if (state === null) {
        this.q("DELETE FROM share_states WHERE group_id = ? AND topic_id = ? AND partition = ?")
          .run(groupId, topicId, partition);
      } else {
        this.q(
          "INSERT OR REPLACE INTO share_states (group_id, topic_id, partition, version, state) VALUES (?, ?, ?, ?, ?)",
        ).run(groupId, topicId, partition, current + 1, state);
      }
      return current + 1;
    }));
  }

  listShareStates(
    groupId: string,
  ): Promise<{ topicId: string; partition: number; share: VersionedShareState }[]> {
    const rows = this.q(
      "SELECT topic_id, partition, version, state FROM share_states WHERE group_id = ? ORDER BY topic_id, partition",
    ).all(groupId) as Row[];
    return Promise.resolve(rows.map((r) => ({
      topicId: String(r.topic_id),
      partition: Number(r.partition),
      share: { version: Number(r.version), state: String(r.state) },
    })));
  }

  getGroup(groupId: string): Promise<VersionedGroup | null> {
    const r = this.q("SELECT version, state FROM groups WHERE group_id = ?").get(groupId) as
      | Row
      | undefined;
    return Promise.resolve(r ? { version: Number(r.version), state: String(r.state) } : null);
  }

  putGroup(groupId: string, expectedVersion: number, state: string | null): Promise<number | null> {
    return Promise.resolve(this.tx(() => {
      const r = this.q("SELECT version FROM groups WHERE group_id = ?").get(groupId) as
        | Row
        | undefined;
      const current = r ? Number(r.version) : 0;
      if (current !== expectedVersion) return null;
      if (state === null) {
        for (const table of ["groups", "group_heartbeats", "committed_offsets"]) {
          this.q(`DELETE FROM ${table} WHERE group_id = ?`).run(groupId);
        }
        return current + 1;
      }
      this.q("INSERT OR REPLACE INTO groups (group_id, version, state) VALUES (?, ?, ?)")
        .run(groupId, current + 1, state);
      return current + 1;
    }));
  }

  listGroups(): Promise<{ groupId: string; group: VersionedGroup }[]> {
    const rows = this.q("SELECT group_id, version, state FROM groups ORDER BY group_id")
      .all() as Row[];
    return Promise.resolve(rows.map((r) => ({
      groupId: String(r.group_id),
      group: { version: Number(r.version), state: String(r.state) },
    })));
  }

  touchMember(groupId: string, memberId: string, atMs: number): Promise<void> {
    this.q("INSERT OR REPLACE INTO group_heartbeats (group_id, member_id, at_ms) VALUES (?, ?, ?)")
      .run(groupId, memberId, atMs);
    return Promise.resolve();
  }

  memberHeartbeats(groupId: string): Promise<Map<string, number>> {
    const rows = this.q("SELECT member_id, at_ms FROM group_heartbeats WHERE group_id = ?")
      .all(groupId) as Row[];
    return Promise.resolve(new Map(rows.map((r) => [String(r.member_id), Number(r.at_ms)])));
  }

  forgetMembers(groupId: string, memberIds: string[]): Promise<void> {
    if (memberIds.length === 0) return Promise.resolve();
    this.tx(() => {
      const del = this.q("DELETE FROM group_heartbeats WHERE group_id = ? AND member_id = ?");
      for (const id of memberIds) del.run(groupId, id);
    });
    return Promise.resolve();
  }

  commitOffsets(groupId: string, offsets: CommittedOffset[]): Promise<void> {
    this.tx(() => {
      const ins = this.q(
        `INSERT OR REPLACE INTO committed_offsets
         (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_timestamp)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const o of offsets) {
        ins.run(
          groupId,
          o.topic,
          o.partition,
          o.offset,
          o.leaderEpoch,
          o.metadata,
          o.commitTimestamp,
        );
      }
    });
    return Promise.resolve();
  }

  private offsetFromRow(r: Row): CommittedOffset {
    return {
      topic: String(r.topic),
      partition: Number(r.partition),
      offset: Number(r.committed_offset),
      leaderEpoch: Number(r.leader_epoch),
      metadata: r.metadata === null ? null : String(r.metadata),
      commitTimestamp: Number(r.commit_timestamp),
    };
  }

  fetchOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<CommittedOffset[]> {
    if (partitions === null) {
      const rows = this.q(
        "SELECT * FROM committed_offsets WHERE group_id = ? ORDER BY topic, partition",
      )
        .all(groupId) as Row[];
      return Promise.resolve(rows.map((r) => this.offsetFromRow(r)));
    }
    const one = this.q(
      "SELECT * FROM committed_offsets WHERE group_id = ? AND topic = ? AND partition = ?",
    );
    const out: CommittedOffset[] = [];
    for (const p of partitions) {
      const r = one.get(groupId, p.topic, p.partition) as Row | undefined;
      if (r) out.push(this.offsetFromRow(r));
    }
    return Promise.resolve(out);
  }

  deleteOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[],
  ): Promise<void> {
    this.tx(() => {
      const del = this.q(
        "DELETE FROM committed_offsets WHERE group_id = ? AND topic = ? AND partition = ?",
      );
      for (const p of partitions) del.run(groupId, p.topic, p.partition);
    });
    return Promise.resolve();
  }

  entityConfigs(entityType: string, names: string[] | null): Promise<EntityConfigs[]> {
    const rows = names === null
      ? this.q("SELECT * FROM entity_configs WHERE entity_type = ? ORDER BY name").all(entityType)
      : [...new Set(names)].sort().map((n) =>
        this.q("SELECT * FROM entity_configs WHERE entity_type = ? AND name = ?").get(
          entityType,
          n,
        )
      ).filter((r) => r !== undefined);
    return Promise.resolve((rows as Row[]).map((r) => ({
      name: String(r.name),
      version: Number(r.version),
      configs: JSON.parse(String(r.configs)),
    })));
  }

  alterEntityConfigs(
    entityType: string,
    name: string,
    changes: Record<string, string | null>,
    expectedVersion?: number,
  ): Promise<EntityConfigs | null> {
    return Promise.resolve(this.tx((): EntityConfigs | null => {
      const row = this.q("SELECT * FROM entity_configs WHERE entity_type = ? AND name = ?")
        .get(entityType, name) as Row | undefined;
      const version = row ? Number(row.version) : 0;
      if (expectedVersion !== undefined && expectedVersion !== version) return null;
      const configs: Record<string, string> = row ? JSON.parse(String(row.configs)) : {};
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete configs[k];
        else configs[k] = v;
      }
      if (Object.keys(configs).length === 0) {
        this.q("DELETE FROM entity_configs WHERE entity_type = ? AND name = ?").run(
          entityType,
          name,
        );
        return { name, version: 0, configs: {} };
      }
      this.q(
        "INSERT INTO entity_configs (entity_type, name, version, configs) VALUES (?, ?, ?, ?) " +
          "ON CONFLICT (entity_type, name) DO UPDATE SET version = excluded.version, configs = excluded.configs",
      ).run(entityType, name, version + 1, JSON.stringify(configs));
      return { name, version: version + 1, configs };
    }));
  }

  claimCleaning(
    topicId: string,
    partition: number,
    owner: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<boolean> {
    return Promise.resolve(this.tx(() => {
      const st = this.q(
        "SELECT log_start FROM partitions WHERE topic_id = ? AND partition = ?",
      ).get(topicId, partition) as Row | undefined;
      if (!st) return false;
      const c = this.q(
        "SELECT owner, lease_until FROM cleaner WHERE topic_id = ? AND partition = ?",
      ).get(topicId, partition) as Row | undefined;
      if (c && c.owner !== null && c.owner !== owner && Number(c.lease_until) > nowMs) {
        return false;
      }
      this.q(
        `INSERT INTO cleaner (topic_id, partition, owner, lease_until, cleaned_through, clean_bytes)
         VALUES (?, ?, ?, ?, ?, 0)
         ON CONFLICT (topic_id, partition) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until`,
      ).run(topicId, partition, owner, nowMs + leaseMs, Number(st.log_start));
      return true;
    }));
  }

  releaseCleaning(topicId: string, partition: number, owner: string): Promise<void> {
    this.q(
      "UPDATE cleaner SET owner = NULL, lease_until = 0 WHERE topic_id = ? AND partition = ? AND owner = ?",
    ).run(topicId, partition, owner);
    return Promise.resolve();
  }

  cleaningLease(topicId: string, partition: number): Promise<CleaningLease | null> {
    const c = this.q(
      "SELECT owner, lease_until FROM cleaner WHERE topic_id = ? AND partition = ?",
    ).get(topicId, partition) as Row | undefined;
    return Promise.resolve(
      c?.owner ? { owner: String(c.owner), untilMs: Number(c.lease_until) } : null,
    );
  }

  /** Bytes of the entries holding offsets >= `from` (one indexed range of the dirty part). */
  private bytesFrom(topicId: string, partition: number, from: number): number {
    const r = this.q(
      `SELECT COALESCE(SUM(length), 0) AS bytes FROM batches
       WHERE topic_id = ? AND partition = ? AND last_offset >= ? AND base_offset >= COALESCE(
         (SELECT MAX(base_offset) FROM batches WHERE topic_id = ? AND partition = ? AND base_offset <= ?), 0)`,
    ).get(topicId, partition, from, topicId, partition, from) as Row;
    return Number(r.bytes);
  }

  /** Bytes of the entries that end in [from, to) (one indexed range). */
  private bytesBetween(topicId: string, partition: number, from: number, to: number): number {
    const r = this.q(
      `SELECT COALESCE(SUM(length), 0) AS bytes FROM batches
       WHERE topic_id = ? AND partition = ? AND last_offset >= ? AND last_offset < ? AND base_offset < ?
         AND base_offset >= COALESCE(
           (SELECT MAX(base_offset) FROM batches WHERE topic_id = ? AND partition = ? AND base_offset <= ?), 0)`,
    ).get(topicId, partition, from, to, to, topicId, partition, from) as Row;
    return Number(r.bytes);
  }

  /**
   * The clean side is the cleaner row's running count (kept by
   * replaceIndexEntries and advanceLogStart); the dirty side is summed from
   * cleanedThrough on, which the next clean reads anyway.
   */
  cleanerState(topicId: string, partition: number): Promise<CleanerState | null> {
    this.db.exec("BEGIN");
    try {
      const st = this.q(
        "SELECT log_start FROM partitions WHERE topic_id = ? AND partition = ?",
      ).get(topicId, partition) as Row | undefined;
      if (!st) return Promise.resolve(null);
      const c = this.q(
        "SELECT cleaned_through, clean_bytes FROM cleaner WHERE topic_id = ? AND partition = ?",
      ).get(topicId, partition) as Row | undefined;
      const cleanedThrough = Math.max(Number(c?.cleaned_through ?? 0), Number(st.log_start));
      return Promise.resolve({
        cleanedThrough,
        cleanBytes: Number(c?.clean_bytes ?? 0),
        dirtyBytes: this.bytesFrom(topicId, partition, cleanedThrough),
      });
    } finally {
      this.db.exec("COMMIT");
    }
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
    return Promise.resolve(this.tx(() => {
      const st = this.q(
        "SELECT log_start, high_watermark FROM partitions WHERE topic_id = ? AND partition = ?",
      ).get(topicId, partition) as Row | undefined;
      const c = this.q(
        "SELECT owner, lease_until, cleaned_through, clean_bytes FROM cleaner WHERE topic_id = ? AND partition = ?",
      ).get(topicId, partition) as Row | undefined;
      if (!st || !c || c.owner !== owner || Number(c.lease_until) <= nowMs) return false;
      const ls = Number(st.log_start);
      const ct = Math.max(Number(c.cleaned_through), ls);
      let cleanBytes = Number(c.clean_bytes);
      if (expected.length > 0) {
        const first = expected[0].baseOffset;
        const last = expected[expected.length - 1].baseOffset;
        const rows = this.q(
          `SELECT base_offset, last_offset, blob, position, length, max_timestamp FROM batches
           WHERE topic_id = ? AND partition = ? AND base_offset >= ? AND base_offset <= ?
           ORDER BY base_offset`,
        ).all(topicId, partition, first, last) as Row[];
        if (rows.length !== expected.length) return false;
        for (let i = 0; i < rows.length; i++) {
          if (!sameEntry(this.entryFromRow(rows[i]), expected[i])) return false;
        }
        this.q(
          "DELETE FROM batches WHERE topic_id = ? AND partition = ? AND base_offset >= ? AND base_offset <= ?",
        ).run(topicId, partition, first, last);
        const insert = this.q(
          "INSERT INTO batches (topic_id, partition, base_offset, last_offset, blob, position, length, max_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        );
        for (const e of expected) if (e.lastOffset < ct) cleanBytes -= e.length;
        for (const e of replacement) {
          if (e.lastOffset < ls) continue;
          insert.run(
            topicId,
            partition,
            e.baseOffset,
            e.lastOffset,
            e.blob,
            e.position,
            e.length,
            e.maxTimestamp,
          );
          if (e.lastOffset < ct) cleanBytes += e.length;
        }
      }
      const next = Math.max(ct, Math.min(cleanedThrough, Number(st.high_watermark)));
      if (next > ct) {
        // Entries ending in [ct, next) become clean.
        cleanBytes += this.bytesBetween(topicId, partition, ct, next);
      }
      this.q(
        "UPDATE cleaner SET cleaned_through = ?, clean_bytes = ? WHERE topic_id = ? AND partition = ?",
      ).run(next, cleanBytes, topicId, partition);
      return true;
    }));
  }
}
