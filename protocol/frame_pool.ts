/**
 * Reusable buffers for large response frames (Fetch and ShareFetch answers).
 * A fresh Uint8Array of a megabyte costs its zeroing and a page fault on the
 * first touch of each page: in a consume profile that cost more than copying
 * the records into it. A frame of POOLED_MIN_BYTES or more is encoded into a
 * buffer taken from here, and the connection gives the buffer back once the
 * frame has been written to the socket, so the next answer reuses warm pages.
 *
 * A buffer handed out is never handed out again before it is given back, and
 * it is given back at most once (a second give is ignored): two answers can
 * never share bytes. Every byte of a frame is written by its encoder before it
 * is sent, so what a reused buffer held before never reaches a client.
 */

/** Frames smaller than this are allocated as usual. */
export const POOLED_MIN_BYTES = 128 * 1024;

export class FramePool {
  /** Free buffers by size class. */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;
  /** Buffers handed out and not yet given back. */
  private readonly lent = new WeakSet<ArrayBuffer>();

  /**
   * `maxFreeBytes` bounds what the pool keeps while no frame uses it;
   * frames larger than `maxPooledBytes` get a buffer of their own, which
   * the allocator maps and unmaps whole, so it costs no resident memory
   * once written.
   */
  constructor(readonly maxFreeBytes: number, readonly maxPooledBytes = maxFreeBytes / 2) {}

  /** A buffer of at least `size` bytes (at most a quarter more), its contents undefined. */
  take(size: number): Uint8Array {
    const cls = sizeClass(size);
    if (cls > this.maxPooledBytes) return new Uint8Array(size);
    const list = this.free.get(cls);
    let buf = list?.pop();
    if (buf) this.freeBytes -= cls;
    else buf = new ArrayBuffer(cls);
    if (list?.length === 0) this.free.delete(cls);
    this.lent.add(buf);
    return new Uint8Array(buf);
  }

  /** Whether `frame` lies in a buffer this pool has handed out and not taken back. */
  isLent(frame: Uint8Array): boolean {
    return this.lent.has(frame.buffer as ArrayBuffer);
  }

  /** Gives back the buffer under `frame` once nothing reads it any more; other frames are ignored. */
  give(frame: Uint8Array): void {
    const buf = frame.buffer as ArrayBuffer;
    if (!this.lent.has(buf)) return;
    this.lent.delete(buf);
    if (this.freeBytes + buf.byteLength > this.maxFreeBytes) return;
    let list = this.free.get(buf.byteLength);
    if (!list) this.free.set(buf.byteLength, list = []);
    list.push(buf);
    this.freeBytes += buf.byteLength;
  }

  /** Bytes held in free buffers. */
  get idleBytes(): number {
    return this.freeBytes;
  }
}

/**
 * The size class of a request: the next of 2^k times 1, 1.25, 1.5 or 1.75
 * at or above it, so a buffer wastes at most a quarter of its size.
 */
export function sizeClass(size: number): number {
  const n = Math.max(POOLED_MIN_BYTES, Math.ceil(size));
  const power = 2 ** Math.floor(Math.log2(n));
  const step = power / 4;
  return Math.ceil(n / step) * step;
}

/**
 * The process's pool: 16 MiB of idle buffers at most, for frames up to 8 MiB
 * (a Fetch of 1 MiB partitions, or a few): what it keeps counts in the
 * broker's resident memory (issue 15 bounds it).
 */
export const FRAME_POOL = new FramePool(16 * 1024 * 1024, 8 * 1024 * 1024);

/**
 * A buffer of exactly `size` bytes for a frame or a record set headed for one:
 * from FRAME_POOL when large enough to be worth it (the connection gives it
 * back once written), else a fresh one.
 */
export function frameBuffer(size: number): Uint8Array {
  return size >= POOLED_MIN_BYTES ? FRAME_POOL.take(size).subarray(0, size) : new Uint8Array(size);
}
