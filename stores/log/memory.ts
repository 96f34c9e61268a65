/**
 * `memory:` log store: blobs in this process's memory, gone at exit. A blob
 * keeps the chunks it was written from (views of the request frames) instead
 * of copying them together: fetches read batch-aligned ranges, which lie
 * within one chunk and come back as views without a copy. Written bytes are
 * never changed, by the store or by the broker that handed them over.
 */

import type { LogStore } from "../types.ts";

interface Blob {
  chunks: Uint8Array[];
  /** Start of each chunk within the blob. */
  starts: number[];
  size: number;
  createdMs: number;
}

/** The memory log store. */
export class MemoryLogStore implements LogStore {
  private blobs = new Map<string, Blob>();
  private next = 0;

  ping(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.blobs.clear();
    return Promise.resolve();
  }

  write(chunks: Uint8Array[]): Promise<string> {
    const starts: number[] = [];
    let size = 0;
    for (const c of chunks) {
      starts.push(size);
      size += c.length;
    }
    const key = `m${this.next++}`;
    this.blobs.set(key, { chunks: [...chunks], starts, size, createdMs: Date.now() });
    return Promise.resolve(key);
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

  sweep(referenced: Set<string>, graceMs: number): Promise<number> {
    const cutoff = Date.now() - graceMs;
    let removed = 0;
    for (const [key, b] of this.blobs) {
      if (!referenced.has(key) && b.createdMs <= cutoff) {
        this.blobs.delete(key);
        removed++;
      }
    }
    return Promise.resolve(removed);
  }
}
