/**
 * `file:` log store: each broker process appends its flushes to its own
 * segment files in one directory (never a file per flush), so several processes
 * may share the directory without interleaving writes. A blob's key is
 * `<segment>@<start>`; a segment is removed once no committed blob lives in it.
 */

import { type FileHandle, open } from "node:fs/promises";
import { readSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { BlobRange, LogStore } from "../types.ts";
import { concatChunks } from "../../protocol/writer.ts";
import { frameBuffer } from "../../protocol/frame_pool.ts";

const SEGMENT_SUFFIX = ".seg";
/** Ranges of one segment at most this far apart are read together (the gap is read and dropped). */
const MERGE_GAP = 64 * 1024;
/** The most one merged read covers. */
const MAX_MERGED_READ = 8 * 1024 * 1024;

/** A read waiting to be served together with the reads asked for beside it. */
interface QueuedRead {
  start: number;
  end: number;
  resolve: (data: Uint8Array) => void;
  reject: (e: unknown) => void;
}

/** Options for {@link FileLogStore}. */
export interface FileLogStoreOptions {
  /** Roll to a new segment once the active one reaches this size. */
  segmentBytes?: number;
  /** fsync after every flush (off by default, like Kafka's log.flush.interval.messages). */
  fsync?: boolean;
}

/** The file log store. */
export class FileLogStore implements LogStore {
  readonly localReads = true;
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly fsync: boolean;
  /** Names this process's segments: several processes may share the directory. */
  private readonly writerId = crypto.randomUUID().slice(0, 8);
  private segmentSeq = 0;
  private active: { name: string; handle: FileHandle; size: number } | null = null;
  private readers = new Map<string, Promise<FileHandle>>();
  private writeChain: Promise<unknown> = Promise.resolve();
  /** Reads asked for and not yet started, by segment (see read()). */
  private queuedReads = new Map<string, QueuedRead[]>();
  private readsScheduled = false;

  constructor(dir: string, opts: FileLogStoreOptions = {}) {
    this.dir = dir;
    this.segmentBytes = opts.segmentBytes ?? 256 * 1024 * 1024;
    this.fsync = opts.fsync ?? false;
  }

  async ping(): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    const probe = join(this.dir, `.probe-${this.writerId}`);
    await Deno.writeFile(probe, new Uint8Array([1]));
    await Deno.remove(probe);
  }

  async close(): Promise<void> {
    await this.writeChain.catch(() => {});
    if (this.active) await this.active.handle.close();
    this.active = null;
    for (const h of this.readers.values()) await (await h).close().catch(() => {});
    this.readers.clear();
  }

  private async roll(): Promise<{ name: string; handle: FileHandle; size: number }> {
    if (this.active) await this.active.handle.close();
    const name = `${Date.now().toString().padStart(15, "0")}-${this.writerId}-${
      String(this.segmentSeq++).padStart(6, "0")
    }${SEGMENT_SUFFIX}`;
    const handle = await open(join(this.dir, name), "wx");
    this.active = { name, handle, size: 0 };
    return this.active;
  }

  write(chunks: Uint8Array[]): Promise<string> {
    // Writes are chained so each one's position is known before it starts.
    const run = async () => {
      let seg = this.active;
      if (!seg || seg.size >= this.segmentBytes) seg = await this.roll();
      const start = seg.size;
      let size = 0;
      for (const c of chunks) size += c.length;
      // A synchronous write: it only copies into the page cache, which costs less
      // than handing the chunks to a worker thread and waiting for it (no fsync here).
      let written = 0;
      while (written < size) {
        const rest = sliceChunks(chunks, written);
        // One chunk goes as it is; several are gathered into one buffer and one write (the
        // runtime's writevSync gathers them too, through Buffer conversions that cost more).
        const out = concatChunks(rest);
        written += writeSync(seg.handle.fd, out, 0, out.length, start + written);
      }
      if (this.fsync) await seg.handle.datasync();
      seg.size = start + size;
      return `${seg.name}@${start}`;
    };
    const p = this.writeChain.then(run, run);
    this.writeChain = p.catch(() => {});
    return p;
  }

  private reader(segment: string): Promise<FileHandle> {
    let h = this.readers.get(segment);
    if (!h) {
      if (segment.includes("/") || segment.includes("\\") || !segment.endsWith(SEGMENT_SUFFIX)) {
        return Promise.reject(new Error(`Blob segment ${JSON.stringify(segment)} is not ours`));
      }
      h = open(join(this.dir, segment), "r");
      this.readers.set(segment, h);
      h.catch(() => this.readers.delete(segment));
    }
    return h;
  }

  /**
   * Reads asked for together (before the caller first waits, as a fetch asks
   * for all its ranges at once) are served together: ranges of one segment
   * that touch or nearly touch become one file read. A consumer's fetch spans
   * many small blobs, one per flush, lying back to back in a segment.
   */
  read(blob: string, position: number, length: number): Promise<Uint8Array> {
    let segment: string, start: number;
    try {
      [segment, start] = locate({ blob, position, length });
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      let queue = this.queuedReads.get(segment);
      if (!queue) this.queuedReads.set(segment, queue = []);
      queue.push({ start, end: start + length, resolve, reject });
      if (!this.readsScheduled) {
        this.readsScheduled = true;
        queueMicrotask(() => this.startReads());
      }
    });
  }

  private startReads(): void {
    this.readsScheduled = false;
    const queued = this.queuedReads;
    this.queuedReads = new Map();
    for (const [segment, reads] of queued) {
      reads.sort((a, b) => a.start - b.start);
      let first = 0;
      let end = reads[0].end;
      for (let i = 1; i <= reads.length; i++) {
        if (
          i < reads.length && reads[i].start <= end + MERGE_GAP &&
          Math.max(end, reads[i].end) - reads[first].start <= MAX_MERGED_READ
        ) {
          end = Math.max(end, reads[i].end);
          continue;
        }
        this.readRun(segment, reads.slice(first, i), end);
        if (i < reads.length) {
          first = i;
          end = reads[i].end;
        }
      }
    }
  }

  /** One file read covering `reads` (sorted by start, ending at `end`), shared out as views. */
  private async readRun(segment: string, reads: QueuedRead[], end: number): Promise<void> {
    const from = reads[0].start;
    let out: Uint8Array;
    let got = 0;
    try {
      const handle = await this.reader(segment);
      // A large run read for one reader goes into a pooled buffer: a Fetch answer
      // keeps the bytes by reference and gives the buffer back once written
      // (protocol/frame_pool.ts). A run shared by several readers is their own.
      out = reads.length === 1 ? frameBuffer(end - from) : new Uint8Array(end - from);
      // Synchronously: what consumers read was written moments ago and is in
      // the page cache, and a worker-thread round trip per read cost more
      // than the copy itself (as on the write path).
      while (got < out.length) {
        const bytesRead = readSync(handle.fd, out, got, out.length - got, from + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (e) {
      for (const r of reads) r.reject(e);
      return;
    }
    for (const r of reads) {
      if (r.end - from <= got) r.resolve(out.subarray(r.start - from, r.end - from));
      else r.reject(new Error(`Segment ${segment} ends before byte ${r.end}`));
    }
  }

  /**
   * The ranges back to back in one buffer (pooled when large: a Fetch answer
   * gives it back once written), with one file read per run of ranges that
   * lie end to end in a segment. Synchronous, as in readRun.
   */
  async readRanges(ranges: readonly BlobRange[]): Promise<Uint8Array> {
    const located = ranges.map(locate);
    const out = frameBuffer(ranges.reduce((n, r) => n + r.length, 0));
    let at = 0;
    for (let i = 0; i < ranges.length;) {
      const [segment, start] = located[i];
      let end = start + ranges[i].length;
      let j = i + 1;
      while (j < ranges.length && located[j][0] === segment && located[j][1] === end) {
        end += ranges[j].length;
        j++;
      }
      const handle = await this.reader(segment);
      const want = end - start;
      let got = 0;
      while (got < want) {
        const n = readSync(handle.fd, out, at + got, want - got, start + got);
        if (n === 0) throw new Error(`Segment ${segment} ends before byte ${end}`);
        got += n;
      }
      at += want;
      i = j;
    }
    return out;
  }

  async sweep(referenced: Set<string>, graceMs: number): Promise<number> {
    const live = new Set<string>();
    for (const key of referenced) live.add(key.slice(0, key.lastIndexOf("@")));
    const cutoff = Date.now() - graceMs;
    let removed = 0;
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.isFile || !e.name.endsWith(SEGMENT_SUFFIX)) continue;
      if (live.has(e.name) || e.name === this.active?.name) continue;
      const path = join(this.dir, e.name);
      const st = await Deno.stat(path);
      if ((st.mtime?.getTime() ?? Date.now()) > cutoff) continue;
      // Another process may still be appending to its active segment: its mtime
      // is recent, so the grace period protects it.
      const r = this.readers.get(e.name);
      this.readers.delete(e.name);
      if (r) await (await r).close().catch(() => {});
      await Deno.remove(path).catch(() => {});
      removed++;
    }
    return removed;
  }
}

/** A range's segment and its first byte there; a blob key not of this store is refused. */
function locate({ blob, position, length }: BlobRange): [string, number] {
  const at = blob.lastIndexOf("@");
  const start = Number(blob.slice(at + 1)) + position;
  if (at < 0 || !Number.isSafeInteger(start) || position < 0 || !(length >= 0)) {
    throw new Error(`No bytes ${position}+${length} in blob ${blob}`);
  }
  return [blob.slice(0, at), start];
}

/** The chunks from byte `skip` on (after a short write). */

function sliceChunks(chunks: Uint8Array[], skip: number): Uint8Array[] {
  if (skip === 0) return chunks;
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    out.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return out;
}
