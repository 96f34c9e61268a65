/**
 * Object consolidation for per-object log stores (s3:): a flush is one object
 * holding a few batches of many partitions, so a partition's log ends up spread
 * over thousands of small objects and a consumer catching up from the start
 * pays one GET per flush. In the background, runs of a partition's batches that
 * live in small, different objects are copied (byte for byte: same batches,
 * same offsets) into one new object per run, and the run's index entries are
 * swapped for ones pointing into it, as WarpStream's and Inkless's object
 * compaction do. Fetches coalesce adjacent entries of one object into one
 * ranged read, so a consolidated run costs one GET per fetch instead of one per
 * flush.
 *
 * Safety is the log cleaner's (cleaner.ts), and so is the lease:
 *
 * 1. The partition is claimed with meta.claimCleaning, the cleaner's lease, so
 *    the cleaner and the consolidator (of any broker) never work on one
 *    partition at once; the claim is renewed before every run.
 * 2. Each run is swapped with meta.replaceIndexEntries, which only succeeds if
 *    the run's entries are all still there unchanged (not removed by
 *    DeleteRecords or retention, not rewritten by a cleaner that held an
 *    expired lease) and the lease is still ours; cleanedThrough is passed as it
 *    is. A refused swap changes nothing and leaves the new object unreferenced.
 * 3. The old objects stay until the log store's sweep finds them unreferenced
 *    and older than its grace period, so a fetch that read the old entries
 *    still finds their bytes; a new object whose swap failed goes the same way.
 *
 * Only the closed part of a log is touched: offsets below the high watermark
 * this broker saw at least `minAgeMs` ago (a minute by default). The head is
 * left alone because tail readers are served from the blob cache by the
 * objects they were just written to (consolidating them would only turn
 * cache hits into GETs), and because fresh flushes keep arriving there; a
 * minute is long past any tail reader, short against the time a log is kept
 * and read back. The high watermarks seen are remembered per process, so the
 * first pass after a start only looks (nothing durable is needed).
 *
 * Memory is bounded by one run (`targetBytes`), work per pass by
 * `maxBytesPerPass`.
 */

import { getLogger } from "@logtape/logtape";
import type { IndexEntry, LogStore, MetaStore, TopicInfo } from "../stores/types.ts";

const log = getLogger(["skb", "consolidator"]);

/** What the consolidator needs. */
export interface ConsolidatorDeps {
  meta: MetaStore;
  log: LogStore;
  /** This broker process's lease owner id (the cleaner's: the same lease). */
  owner: string;
}

/** Tunables. */
export interface ConsolidatorOptions {
  /** How long a claim lasts without renewal (renewed before every run). */
  leaseMs: number;
  /** Bytes of one new object (and of memory held): runs are cut there (default 8 MiB). */
  targetBytes?: number;
  /** A piece (adjacent batches of one object) this large is left where it is (default targetBytes / 2). */
  largePieceBytes?: number;
  /** A run is copied only if it gathers at least this many pieces (objects), default 8. */
  minPieces?: number;
  /** Only offsets below a high watermark seen this long ago are touched (default 60 s). */
  minAgeMs?: number;
  /** Bytes copied per pass over all partitions, at most about (default 256 MiB). */
  maxBytesPerPass?: number;
  now?: () => number;
}

/** What consolidating one partition did. */
export interface PartitionConsolidated {
  topic: string;
  partition: number;
  /** Runs swapped in, objects (pieces) they gathered, bytes copied. */
  runs: number;
  piecesMerged: number;
  bytesCopied: number;
  /** False when a swap was refused (the log changed meanwhile, or the lease was lost). */
  completed: boolean;
}

/** A partition's batches stored adjacently in one object: one ranged read. */
interface Piece {
  entries: IndexEntry[];
  bytes: number;
}

const MiB = 1024 * 1024;
/** Ranged reads of one run in flight at once. */
const READ_CONCURRENCY = 8;

/** Background consolidation of small objects; see the module doc. */
export class ObjectConsolidator {
  private readonly now: () => number;
  private readonly targetBytes: number;
  private readonly largePieceBytes: number;
  private readonly minPieces: number;
  private readonly minAgeMs: number;
  private readonly maxBytesPerPass: number;
  /** Per partition, the high watermarks seen and when (oldest first). */
  private readonly seen = new Map<string, { at: number; hwm: number }[]>();

  constructor(private readonly d: ConsolidatorDeps, private readonly opts: ConsolidatorOptions) {
    this.now = opts.now ?? Date.now;
    this.targetBytes = opts.targetBytes ?? 8 * MiB;
    this.largePieceBytes = Math.min(opts.largePieceBytes ?? this.targetBytes / 2, this.targetBytes);
    this.minPieces = Math.max(2, opts.minPieces ?? 8);
    this.minAgeMs = opts.minAgeMs ?? 60_000;
    this.maxBytesPerPass = opts.maxBytesPerPass ?? 256 * MiB;
  }

  /** True when the log store keeps one object per write (there is something to consolidate). */
  get applies(): boolean {
    return this.d.log.objectPerWrite === true;
  }

  /** One pass over every partition of every topic; what was consolidated. */
  async runOnce(): Promise<PartitionConsolidated[]> {
    const done: PartitionConsolidated[] = [];
    if (!this.applies) return done;
    let budget = this.maxBytesPerPass;
    const live = new Set<string>();
    for (const topic of await this.d.meta.listTopics()) {
      for (let p = 0; p < topic.partitions; p++) {
        live.add(`${topic.id}:${p}`);
        if (budget <= 0) continue; // still remember what partitions exist
        try {
          const r = await this.consolidatePartition(topic, p, budget);
          if (r) {
            done.push(r);
            budget -= r.bytesCopied;
          }
        } catch (e) {
          log.warn("Consolidating {topic}-{partition} failed: {error}", {
            topic: topic.name,
            partition: p,
            error: e,
          });
        }
      }
    }
    for (const k of this.seen.keys()) if (!live.has(k)) this.seen.delete(k);
    return done;
  }

  /**
   * The closed part's end: the newest high watermark seen at least minAgeMs
   * ago (remembering the current one for later passes).
   */
  private closedBelow(topicId: string, partition: number, hwm: number): number {
    const now = this.now();
    const k = `${topicId}:${partition}`;
    const seen = this.seen.get(k) ?? [];
    this.seen.set(k, seen);
    if (seen.length === 0 || seen[seen.length - 1].hwm !== hwm) seen.push({ at: now, hwm });
    let closed = 0;
    let keepFrom = 0;
    for (let i = 0; i < seen.length; i++) {
      if (now - seen[i].at >= this.minAgeMs) {
        closed = seen[i].hwm;
        keepFrom = i;
      }
    }
    // Older sightings than the one in use are never needed again.
    if (keepFrom > 0) seen.splice(0, keepFrom);
    return closed;
  }

  /** Consolidates one partition's closed part if it has runs worth it; null when left alone. */
  async consolidatePartition(
    topic: TopicInfo,
    partition: number,
    budget = this.maxBytesPerPass,
  ): Promise<PartitionConsolidated | null> {
    if (!this.applies) return null;
    const { meta } = this.d;
    const st = await meta.partitionState(topic.id, partition);
    if (!st) return null;
    const closed = Math.min(
      this.closedBelow(topic.id, partition, st.highWatermark),
      st.highWatermark,
    );
    if (closed <= st.logStartOffset) return null;
    const runs = await this.findRuns(topic.id, partition, st.logStartOffset, closed, budget);
    if (runs.length === 0) return null;
    if (!await this.claim(topic, partition)) return null;
    const result: PartitionConsolidated = {
      topic: topic.name,
      partition,
      runs: 0,
      piecesMerged: 0,
      bytesCopied: 0,
      completed: false,
    };
    try {
      for (const run of runs) {
        if (!await this.claim(topic, partition)) return result;
        // Read after claiming: with the lease held, no cleaner moves it meanwhile.
        const cs = await meta.cleanerState(topic.id, partition);
        if (!cs) return result;
        const expected = run.flatMap((p) => p.entries);
        const chunks = await this.readPieces(run);
        const blob = await this.d.log.write(chunks);
        const replacement: IndexEntry[] = [];
        let position = 0;
        for (const e of expected) {
          replacement.push({ ...e, blob, position });
          position += e.length;
        }
        const swapped = await meta.replaceIndexEntries(
          topic.id,
          partition,
          this.d.owner,
          this.now(),
          expected,
          replacement,
          cs.cleanedThrough,
        );
        if (!swapped) {
          log.info("Consolidating {topic}-{partition} found the log changed; it is retried later", {
            topic: topic.name,
            partition,
          });
          return result;
        }
        result.runs++;
        result.piecesMerged += run.length;
        result.bytesCopied += position;
      }
      result.completed = true;
      return result;
    } finally {
      await meta.releaseCleaning(topic.id, partition, this.d.owner).catch(() => {});
    }
  }

  /** The pieces' bytes, in order, a few GETs at a time (a run holds at most targetBytes). */
  private async readPieces(run: Piece[]): Promise<Uint8Array[]> {
    const out = new Array<Uint8Array>(run.length);
    let next = 0;
    const worker = async () => {
      while (next < run.length) {
        const i = next++;
        const first = run[i].entries[0];
        out[i] = await this.d.log.read(first.blob, first.position, run[i].bytes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, run.length) }, worker));
    return out;
  }

  private claim(topic: TopicInfo, partition: number): Promise<boolean> {
    return this.d.meta.claimCleaning(
      topic.id,
      partition,
      this.d.owner,
      this.now(),
      this.opts.leaseMs,
    );
  }

  /**
   * Runs of small pieces of the log below `closed`, each of at most
   * targetBytes and at least minPieces pieces, up to `budget` bytes in all.
   * The index is read a page at a time, so only the runs found are held.
   */
  private async findRuns(
    topicId: string,
    partition: number,
    from: number,
    closed: number,
    budget: number,
  ): Promise<Piece[][]> {
    const runs: Piece[][] = [];
    let run: Piece[] = [];
    let runBytes = 0;
    let piece: Piece | null = null;
    let total = 0;
    const endRun = () => {
      if (run.length >= this.minPieces && total < budget) {
        runs.push(run);
        total += runBytes;
      }
      run = [];
      runBytes = 0;
    };
    const endPiece = () => {
      if (piece === null) return;
      const p = piece;
      piece = null;
      if (p.bytes >= this.largePieceBytes) return endRun();
      if (runBytes + p.bytes > this.targetBytes) endRun();
      run.push(p);
      runBytes += p.bytes;
    };
    let next = from;
    let lastSeen = -1;
    const pageBytes = Math.max(this.targetBytes * 4, 1);
    scan: while (next < closed && total < budget) {
      const page = await this.d.meta.readIndex(topicId, partition, next, pageBytes);
      if (page.length === 0) break;
      for (const e of page) {
        if (e.lastOffset >= closed) break scan;
        if (e.baseOffset <= lastSeen) continue; // already seen on the previous page
        lastSeen = e.lastOffset;
        const p = piece as Piece | null;
        const last = p?.entries[p.entries.length - 1];
        if (p && last && e.blob === last.blob && e.position === last.position + last.length) {
          p.entries.push(e);
          p.bytes += e.length;
        } else {
          endPiece();
          piece = { entries: [e], bytes: e.length };
        }
        next = e.lastOffset + 1;
      }
    }
    endPiece();
    endRun();
    return runs;
  }
}
