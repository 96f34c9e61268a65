/**
 * Writes Kafka's primitive types into a growable buffer. A response is built in
 * one buffer whose first four bytes are reserved for the frame length.
 */

import { uuidFromString } from "./reader.ts";

const TEXT_ENCODER = new TextEncoder();
const TWO_32 = 4294967296;

/**
 * Record sets of at least this many bytes are kept by reference in a
 * gathering Writer rather than copied into its buffer.
 */
export const GATHER_MIN_BYTES = 64 * 1024;

/** A growable big-endian byte buffer. */
export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  /**
   * In a gathering Writer (see gather()), the pieces so far: cut buffer
   * pieces and record chunks kept by reference, in order.
   */
  private parts: Uint8Array[] | null = null;
  /** Where the buffer's next piece starts. */
  private pieceStart = 0;
  /** Bytes of the record chunks kept by reference. */
  private refBytes = 0;

  /** `buf`, when given, is written from its start (a pooled frame buffer, protocol/frame_pool.ts). */
  constructor(initialSize = 1024, buf?: Uint8Array) {
    this.buf = buf ?? new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Makes room for n more bytes and returns where they start. */
  private room(n: number): number {
    const p = this.pos;
    if (p + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < p + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, p));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.pos = p + n;
    return p;
  }

  /** The bytes written so far (a view, not a copy); not for a gathering Writer. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /**
   * From now on large record sets (GATHER_MIN_BYTES or more) are kept by
   * reference, not copied: what was written becomes a list of pieces, read
   * with gathered(). The record chunks must not change until it is written.
   */
  gather(): void {
    this.parts ??= [];
  }

  /** Bytes written, the record sets kept by reference included. */
  get length(): number {
    return this.pos + this.refBytes;
  }

  /**
   * Everything written, in order: views of the buffer and the record chunks
   * kept by reference (a single view when none was).
   */
  gathered(): Uint8Array[] {
    const tail = this.buf.subarray(this.pieceStart, this.pos);
    if (this.parts === null || this.parts.length === 0) return [tail];
    return tail.length > 0 ? [...this.parts, tail] : [...this.parts];
  }

  int8(v: number): void {
    const p = this.room(1);
    this.view.setInt8(p, v);
  }
  bool(v: boolean): void {
    const p = this.room(1);
    this.view.setInt8(p, v ? 1 : 0);
  }
  int16(v: number): void {
    const p = this.room(2);
    this.view.setInt16(p, v);
  }
  uint16(v: number): void {
    const p = this.room(2);
    this.view.setUint16(p, v);
  }
  int32(v: number): void {
    const p = this.room(4);
    this.view.setInt32(p, v);
  }
  uint32(v: number): void {
    const p = this.room(4);
    this.view.setUint32(p, v);
  }
  int64(v: number): void {
    const p = this.room(8);
    const hi = Math.floor(v / TWO_32);
    this.view.setInt32(p, hi);
    this.view.setUint32(p + 4, v - hi * TWO_32);
  }
  float64(v: number): void {
    const p = this.room(8);
    this.view.setFloat64(p, v);
  }
  uvarint(v: number): void {
    while (v >= 0x80) {
      const p = this.room(1);
      this.buf[p] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    const p = this.room(1);
    this.buf[p] = v;
  }
  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  varlong(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  uuid(v: string): void {
    const p = this.room(16);
    this.buf.set(uuidFromString(v), p);
  }

  /** Writes raw bytes with no length prefix. */
  raw(b: Uint8Array): void {
    const p = this.room(b.length);
    this.buf.set(b, p);
  }

  private text(s: string, lengthPrefix: (n: number) => void): void {
    // ASCII fast path: most names are ASCII, and encodeInto needs the size up front.
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      lengthPrefix(s.length);
      const p = this.room(s.length);
      for (let i = 0; i < s.length; i++) this.buf[p + i] = s.charCodeAt(i);
      return;
    }
    const encoded = TEXT_ENCODER.encode(s);
    lengthPrefix(encoded.length);
    this.raw(encoded);
  }
  string(s: string): void {
    this.text(s, (n) => this.int16(n));
  }
  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.string(s);
  }
  compactString(s: string): void {
    this.text(s, (n) => this.uvarint(n + 1));
  }
  compactNullableString(s: string | null): void {
    if (s === null) this.uvarint(0);
    else this.compactString(s);
  }
  bytes_(b: Uint8Array): void {
    this.int32(b.length);
    this.raw(b);
  }
  nullableBytes(b: Uint8Array | null): void {
    if (b === null) this.int32(-1);
    else this.bytes_(b);
  }
  compactBytes(b: Uint8Array): void {
    this.uvarint(b.length + 1);
    this.raw(b);
  }
  compactNullableBytes(b: Uint8Array | null): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b);
  }

  /** Record sets may arrive as several chunks (a patched header, then the stored bytes). */
  records(r: RecordsValue, compact: boolean): void {
    if (r === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
      return;
    }
    const chunks = r instanceof Uint8Array ? [r] : r;
    let total = 0;
    for (const c of chunks) total += c.length;
    if (compact) this.uvarint(total + 1);
    else this.int32(total);
    if (this.parts !== null && total >= GATHER_MIN_BYTES) {
      // The buffer so far is final but for patches at its start (the frame size),
      // which the first piece, a view of this very buffer, still sees.
      this.parts.push(this.buf.subarray(this.pieceStart, this.pos));
      for (const c of chunks) if (c.length > 0) this.parts.push(c);
      this.pieceStart = this.pos;
      this.refBytes += total;
      return;
    }
    const p = this.room(total);
    let at = p;
    for (const c of chunks) {
      this.buf.set(c, at);
      at += c.length;
    }
  }

  arrayLength(n: number | null, compact: boolean): void {
    if (n === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
    } else if (compact) this.uvarint(n + 1);
    else this.int32(n);
  }

  /** Reserves a 4-byte slot and returns its position (for frame or tag sizes). */
  reserveInt32(): number {
    return this.room(4);
  }
  patchInt32(at: number, v: number): void {
    this.view.setInt32(at, v);
  }
}

/** A record set: one byte array, several chunks to be written back to back, or null. */
export type RecordsValue = Uint8Array | Uint8Array[] | null;

/** Size in bytes of a record set value. */
export function recordsSize(r: RecordsValue): number {
  if (r === null) return 0;
  if (r instanceof Uint8Array) return r.length;
  let n = 0;
  for (const c of r) n += c.length;
  return n;
}

/** The chunks back to back in one array (the chunk itself when there is only one). */
export function concatChunks(parts: Uint8Array[], total = recordsSize(parts)): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
