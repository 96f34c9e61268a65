/**
 * `memory:` log store: blobs in this process's memory, gone at exit. A blob
 * keeps the chunks it was written from (views of the request frames) instead
 * of copying them together: fetches read batch-aligned ranges, which lie
 * within one chunk and come back as views without a copy. Written bytes are
 * never changed, by the store or by the broker that handed them over.
 *
 * With `maxBytes` (`memory:?max-bytes=64m`) the store is bounded: a write
 * that would go past the bound first asks the broker to free space (see
 * {@link LogSpace}; broker/space.ts drops the oldest batches of delete-policy
 * topics), and fails only when nothing more can be freed.
 */

import type { BlobRange, LogSpace, LogStore } from "../types.ts";
import { frameBuffer } from "../../protocol/frame_pool.ts";

/** Settings of the memory log store (from its URL's query). */
export interface MemoryLogOptions {
  /** Bytes the store may hold (a positive integer); unbounded when unset. */
  maxBytes?: number;
}

interface Blob {
  chunks: Uint8Array[];
  /** Start of each chunk within the blob. */
  starts: number[];
  size: number;
  createdMs: number;
}

/** The memory log store. */
export class MemoryLogStore implements LogStore {
  readonly localReads = true;
  readonly readsAreViews = true;
  private blobs = new Map<string, Blob>();
  private next = 0;
  private used = 0;
  /** The space reclaim running now; writers that also need room wait for it. */
  private reclaiming: Promise<void> | null = null;
  /** Present only with a bound. */
  readonly space?: LogSpace;

  constructor(opts: MemoryLogOptions = {}) {
    const maxBytes = opts.maxBytes;
    if (maxBytes === undefined) return;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new RangeError(`max-bytes ${JSON.stringify(maxBytes)} is not a positive integer`);
    }
    this.space = {
      maxBytes,
      usedBytes: () => this.used,
      blobBytes: (blob) => this.blobs.get(blob)?.size ?? 0,
      discard: (blobs) => {
        let freed = 0;
        for (const key of blobs) freed += this.remove(key);
        return freed;
      },
      onFull: null,
    };
  }

  private remove(key: string): number {
    const b = this.blobs.get(key);
    if (!b) return 0;
    this.blobs.delete(key);
    this.used -= b.size;
    return b.size;
  }

  /** Waits until `size` more bytes fit under the bound, asking for space as needed. */
  private async makeRoom(size: number, space: LogSpace): Promise<void> {
    const full = (what: string) =>
      new Error(
        `memory: log store is full (max-bytes=${space.maxBytes}): ${what}; raise max-bytes or use file:`,
      );
    if (size > space.maxBytes) throw full(`a write of ${size} bytes can never fit`);
    while (this.used + size > space.maxBytes) {
      if (this.reclaiming !== null) {
        await this.reclaiming;
        continue;
      }
      if (space.onFull === null) throw full("nothing frees space in it");
      let freed = false;
      const run = space.onFull(this.used + size - space.maxBytes).then((f) => {
        freed = f;
      }).finally(() => {
        this.reclaiming = null;
      });
      this.reclaiming = run.catch(() => {});
      // A reclaim that fails fails this write with its error.
      await run;
      if (!freed) throw full("nothing more can be freed");
    }
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.blobs.clear();
    this.used = 0;
    return Promise.resolve();
  }

  async write(chunks: Uint8Array[]): Promise<string> {
    const held = [...chunks];
    const starts: number[] = [];
    let size = 0;
    for (const c of held) {
      starts.push(size);
      size += c.length;
    }
    if (this.space !== undefined && this.used + size > this.space.maxBytes) {
      await this.makeRoom(size, this.space);
    }
    const key = `m${this.next++}`;
    this.blobs.set(key, { chunks: held, starts, size, createdMs: Date.now() });
    this.used += size;
    return key;
  }

  read(blob: string, position: number, length: number): Promise<Uint8Array> {
    const b = this.blobs.get(blob);
    if (!b || position < 0 || length < 0 || position + length > b.size) {
      return Promise.reject(new Error(`Blob ${blob} has no bytes ${position}+${length}`));
    }
    // The last chunk starting at or before `position`.
    let lo = 0;
    let hi = b.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (b.starts[mid] <= position) lo = mid;
      else hi = mid - 1;
    }
    const first = b.chunks[lo];
    const offset = position - b.starts[lo];
    if (offset + length <= first.length) {
      return Promise.resolve(first.subarray(offset, offset + length));
    }
    const out = new Uint8Array(length);
    let got = 0;
    for (let i = lo; got < length; i++) {
      const c = b.chunks[i];
      const from = i === lo ? offset : 0;
      const take = Math.min(c.length - from, length - got);
      out.set(c.subarray(from, from + take), got);
      got += take;
    }
    return Promise.resolve(out);
  }

  /**
   * The ranges copied back to back into one buffer (pooled when large: a
   * Fetch answer gives it back once written). The copy is the one the
   * connection would make anyway to stage many small pieces; made here, the
   * fetch rewrites batch headers in place and writes one piece.
   */
  async readRanges(ranges: readonly BlobRange[]): Promise<Uint8Array> {
    const out = frameBuffer(ranges.reduce((n, r) => n + r.length, 0));
    let at = 0;
    for (const r of ranges) {
      out.set(await this.read(r.blob, r.position, r.length), at);
      at += r.length;
    }
    return out;
  }

  sweep(referenced: Set<string>, graceMs: number): Promise<number> {
    const cutoff = Date.now() - graceMs;
    let removed = 0;
    for (const [key, b] of this.blobs) {
      if (!referenced.has(key) && b.createdMs <= cutoff) {
        this.remove(key);
        removed++;
      }
    }
    return Promise.resolve(removed);
  }
}
