/**
 * Recently read log bytes, bounded by size, so the consumers that follow the
 * first one at the tail of a partition are served from memory. Stored bytes never
 * change, so a cached range can never be stale.
 */

import type { BlobRange, LogStore } from "../stores/types.ts";

/** A size-bounded LRU of byte ranges, keyed by blob and position. */
export class BlobCache {
  private entries = new Map<string, Uint8Array>();
  private bytes = 0;

  /**
   * The store's LogStore.readRanges, where it has one: what it returns is the
   * caller's own, so it bypasses this cache (a store with it either reads
   * locally or keeps its own cache of what it fetched, as s3: does).
   */
  readonly readRanges: ((ranges: readonly BlobRange[]) => Promise<Uint8Array>) | null;
  /** The store's LogStore.prefetch, where it has one. */
  readonly prefetch: ((ranges: readonly BlobRange[]) => void) | null;

  constructor(private readonly log: LogStore, private readonly maxBytes: number) {
    this.readRanges = log.readRanges ? log.readRanges.bind(log) : null;
    this.prefetch = log.prefetch ? log.prefetch.bind(log) : null;
  }

  private static key(blob: string, position: number, length: number): string {
    return `${blob}:${position}:${length}`;
  }

  /** Remembers bytes just read, so the next readers of the same range need not go to the store. */
  put(blob: string, position: number, data: Uint8Array): void {
    if (this.maxBytes <= 0 || data.length > this.maxBytes / 4 || this.log.localReads) return;
    const k = BlobCache.key(blob, position, data.length);
    if (this.entries.has(k)) return;
    this.entries.set(k, data);
    this.bytes += data.length;
    while (this.bytes > this.maxBytes) {
      const [oldKey, old] = this.entries.entries().next().value!;
      this.entries.delete(oldKey);
      this.bytes -= old.length;
    }
  }

  async read(blob: string, position: number, length: number): Promise<Uint8Array> {
    const k = BlobCache.key(blob, position, length);
    const hit = this.entries.get(k);
    if (hit) {
      this.entries.delete(k);
      this.entries.set(k, hit);
      return hit;
    }
    const data = await this.log.read(blob, position, length);
    this.put(blob, position, data);
    return data;
  }

  /** Whether the store's reads are views of what it holds (LogStore.readsAreViews). */
  get readsAreViews(): boolean {
    return this.log.readsAreViews === true;
  }

  /** Bytes held now (for metrics). */
  get size(): number {
    return this.bytes;
  }
}
