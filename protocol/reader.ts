/**
 * Reads Kafka's primitive types from a byte buffer (big-endian, as the protocol
 * guide specifies). Decoding never copies: bytes and records are subarrays of
 * the frame they came from.
 */

/**
 * Strings that are not valid UTF-8 decode with U+FFFD in place of the bad
 * bytes, as Kafka's own decoder does (Java's new String(bytes, UTF_8)): the
 * request is then judged by its content (a topic name with U+FFFD is an
 * invalid name), never by a decoder exception that would close the connection.
 */
const TEXT_DECODER = new TextDecoder("utf-8", { fatal: false });
const TWO_32 = 4294967296;

/** Thrown when a frame ends before the message it should hold. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** A cursor over one frame. */
export class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
    this.end = end;
  }

  /** Bytes left before the end of the frame. */
  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const p = this.pos;
    if (n < 0 || p + n > this.end) {
      throw new DecodeError(
        `Frame ends early: needed ${n} bytes at position ${p}, ${this.end - p} left`,
      );
    }
    this.pos = p + n;
    return p;
  }

  int8(): number {
    return this.view.getInt8(this.need(1));
  }
  bool(): boolean {
    return this.view.getInt8(this.need(1)) !== 0;
  }
  int16(): number {
    return this.view.getInt16(this.need(2));
  }
  uint16(): number {
    return this.view.getUint16(this.need(2));
  }
  int32(): number {
    return this.view.getInt32(this.need(4));
  }
  uint32(): number {
    return this.view.getUint32(this.need(4));
  }
  /** int64 as a JavaScript number: exact within +/-2^53, which covers offsets and timestamps. */
  int64(): number {
    const p = this.need(8);
    return this.view.getInt32(p) * TWO_32 + this.view.getUint32(p + 4);
  }
  float64(): number {
    return this.view.getFloat64(this.need(8));
  }

  /** Unsigned LEB128 varint, as used by compact encodings (KIP-482). */
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.buf[this.need(1)];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new DecodeError("Varint is longer than 5 bytes");
  }
  /** Zig-zag signed varint, as used inside record batches. */
  varint(): number {
    const u = this.uvarint();
    return (u & 1) ? -((u + 1) / 2) : u / 2;
  }
  /** Zig-zag signed varlong (up to 10 bytes). */
  varlong(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.need(1)];
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        return result % 2 === 1 ? -((result + 1) / 2) : result / 2;
      }
      mul *= 128;
    }
    throw new DecodeError("Varlong is longer than 10 bytes");
  }

  uuid(): string {
    const p = this.need(16);
    return uuidToString(this.buf.subarray(p, p + 16));
  }

  private text(len: number): string {
    const p = this.need(len);
    return TEXT_DECODER.decode(this.buf.subarray(p, p + len));
  }
  string(): string {
    const len = this.int16();
    if (len < 0) throw new DecodeError(`String length ${len} is negative`);
    return this.text(len);
  }
  nullableString(): string | null {
    const len = this.int16();
    return len < 0 ? null : this.text(len);
  }
  compactString(): string {
    const len = this.uvarint() - 1;
    if (len < 0) throw new DecodeError("Compact string is null where a value is required");
    return this.text(len);
  }
  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.text(len);
  }

  private slice(len: number): Uint8Array {
    const p = this.need(len);
    return this.buf.subarray(p, p + len);
  }
  bytes(): Uint8Array {
    const len = this.int32();
    if (len < 0) throw new DecodeError(`Bytes length ${len} is negative`);
    return this.slice(len);
  }
  nullableBytes(): Uint8Array | null {
    const len = this.int32();
    return len < 0 ? null : this.slice(len);
  }
  compactBytes(): Uint8Array {
    const len = this.uvarint() - 1;
    if (len < 0) throw new DecodeError("Compact bytes are null where a value is required");
    return this.slice(len);
  }
  compactNullableBytes(): Uint8Array | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.slice(len);
  }
  /** Raw bytes of a known length. */
  raw(len: number): Uint8Array {
    return this.slice(len);
  }

  /** Array length: classic int32 (-1 = null) or compact uvarint (0 = null). */
  arrayLength(compact: boolean): number {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n > this.remaining) {
      throw new DecodeError(`Array length ${n} exceeds the ${this.remaining} bytes left`);
    }
    return n;
  }

  /** Skips a tagged-field section we do not know (KIP-482 lets readers ignore unknown tags). */
  skipTaggedFields(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.need(this.uvarint());
    }
  }
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Kafka prints UUIDs as URL-safe base64 without padding; we keep that form everywhere. */
export function uuidToString(b: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < 16; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Inverse of {@link uuidToString}. */
export function uuidFromString(s: string): Uint8Array {
  const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/") + "==");
  if (bin.length !== 16) throw new DecodeError(`UUID ${JSON.stringify(s)} is not 16 bytes`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The all-zero UUID Kafka uses for "no topic id". */
export const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

/** Hex form of bytes, for logs and tests. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}
