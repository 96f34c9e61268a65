/**
 * Kafka's framing, in one place: every request and response is an int32 size
 * followed by that many bytes, a header, then the body. Request headers are v1
 * (classic) or v2 (flexible, KIP-482: tagged fields after the client id);
 * response headers are v0 or v1 likewise, except that ApiVersions responses
 * always use header v0, so that a client that does not yet know our versions
 * can read the answer (KIP-511). Used by the broker's connection loop, the test
 * wire client and the golden-frame tools.
 */

import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";
import { FRAME_POOL, POOLED_MIN_BYTES } from "./frame_pool.ts";
import { encodeRequestHeader, encodeResponseHeader, type RequestHeader } from "./header.ts";

/** Bytes of the size prefix. */
export const SIZE_PREFIX_BYTES = 4;

/** The API key of ApiVersions, whose responses always use header v0 (KIP-511). */
export const API_VERSIONS_KEY = 18;

/** What framing needs to know of an API's codec (see protocol/generated/). */
export interface FramedApi {
  readonly apiKey: number;
  /** First version whose request uses KIP-482 flexible encodings (-1: none). */
  readonly requestFlexibleFrom: number;
  /** First version whose response uses KIP-482 flexible encodings (-1: none). */
  readonly responseFlexibleFrom: number;
}

/** A generated codec for one API. */
export interface ApiCodec<Req, Resp> extends FramedApi {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  decodeRequest(r: Reader, version: number): Req;
  encodeRequest(w: Writer, m: Req, version: number): void;
  decodeResponse(r: Reader, version: number): Resp;
  encodeResponse(w: Writer, m: Resp, version: number): void;
}

/** True when requests of this version carry header v2. */
export function requestHeaderFlexible(api: FramedApi, version: number): boolean {
  return api.requestFlexibleFrom >= 0 && version >= api.requestFlexibleFrom;
}

/** True when responses of this version carry header v1 (never for ApiVersions, KIP-511). */
export function responseHeaderFlexible(api: FramedApi, version: number): boolean {
  return api.apiKey !== API_VERSIONS_KEY && api.responseFlexibleFrom >= 0 &&
    version >= api.responseFlexibleFrom;
}

/** A whole frame, size prefix included: `body` writes what follows the header. */
function frame(header: (w: Writer) => void, body: (w: Writer) => void): Uint8Array {
  const w = new Writer(256);
  const sizeAt = w.reserveInt32();
  header(w);
  body(w);
  w.patchInt32(sizeAt, w.pos - SIZE_PREFIX_BYTES);
  return w.bytes();
}

/** Encodes a request frame. */
export function encodeRequestFrame<Req>(
  api: ApiCodec<Req, unknown>,
  header: RequestHeader,
  body: Req,
): Uint8Array {
  return frame(
    (w) => encodeRequestHeader(w, header, requestHeaderFlexible(api, header.apiVersion)),
    (w) => api.encodeRequest(w, body, header.apiVersion),
  );
}

/**
 * Encodes a response frame. `flexibleHeader` defaults to what the API and
 * version call for; ApiVersions' KIP-511 fallback passes false explicitly.
 * Answers with record sets go through {@link encodeGatheredResponseFrame}.
 */
export function encodeResponseFrame(
  correlationId: number,
  flexibleHeader: boolean,
  body: (w: Writer) => void,
): Uint8Array {
  return frame((w) => encodeResponseHeader(w, correlationId, flexibleHeader), body);
}

/**
 * A response frame in pieces (size prefix first): small fields encoded into
 * one buffer, large record sets the very chunks the stores returned. Written
 * piece by piece (server/connection.ts), never joined into one array.
 */
export class GatheredFrame {
  constructor(readonly parts: Uint8Array[], readonly length: number) {}
}

/** The most of a gathered frame's own buffer allocated up front: record sets are kept aside. */
const GATHERED_FIRST_BYTES = 1024 * 1024;

/**
 * Encodes a response frame whose large record sets (GATHER_MIN_BYTES or more,
 * protocol/writer.ts) are kept by reference: a plain frame when there were none. `sizeHint`
 * estimates the whole frame (Handler.responseBytes), records included.
 */
export function encodeGatheredResponseFrame(
  correlationId: number,
  flexibleHeader: boolean,
  body: (w: Writer) => void,
  sizeHint: number,
): Uint8Array | GatheredFrame {
  const first = Math.min(sizeHint, GATHERED_FIRST_BYTES);
  const w = first >= POOLED_MIN_BYTES
    ? new Writer(0, FRAME_POOL.take(first))
    : new Writer(Math.max(64, first));
  w.gather();
  const sizeAt = w.reserveInt32();
  encodeResponseHeader(w, correlationId, flexibleHeader);
  body(w);
  const parts = w.gathered();
  // The size goes into the first piece, whichever buffer it is a view of.
  const head = parts[0];
  new DataView(head.buffer, head.byteOffset + sizeAt, SIZE_PREFIX_BYTES)
    .setInt32(0, w.length - SIZE_PREFIX_BYTES);
  return parts.length === 1 ? head : new GatheredFrame(parts, w.length);
}

/** A frame given its size prefix. */
export function withSizePrefix(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + SIZE_PREFIX_BYTES);
  new DataView(out.buffer).setInt32(0, frame.length);
  out.set(frame, SIZE_PREFIX_BYTES);
  return out;
}

/** Decodes a response frame (without its size prefix) sent for `version`. */
export function decodeResponseFrame<Resp>(
  api: ApiCodec<unknown, Resp>,
  version: number,
  bytes: Uint8Array,
): { correlationId: number; body: Resp } {
  const r = new Reader(bytes);
  const correlationId = r.int32();
  if (responseHeaderFlexible(api, version)) r.skipTaggedFields();
  return { correlationId, body: api.decodeResponse(r, version) };
}

/** A byte stream frames are read from (a Deno connection, or anything like one). */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}

/** The stream ended inside a frame, or a size prefix was out of bounds. */
export class FramingError extends Error {}

/**
 * The read buffer starts at FIRST_CHUNK and doubles up to READ_CHUNK while
 * reads fill it: thousands of quiet connections then hold 2 KiB each, busy
 * ones cut many small frames from one large read.
 */
const FIRST_CHUNK = 2 * 1024;
const READ_CHUNK = 256 * 1024;

/**
 * A frame's storage starts at most this large and doubles as its bytes
 * arrive, so a frame that announces 100 MB and then trickles (slowloris) holds
 * what it sent, not what it announced.
 */
const FIRST_ALLOCATION = 128 * 1024;
/** A frame whose first this many bytes are already read starts at FLOWING_ALLOCATION. */
const FLOWING_BYTES = 32 * 1024;
const FLOWING_ALLOCATION = 1024 * 1024;

/**
 * Reads size-prefixed frames from a stream with one reusable buffer: small
 * frames are cut from 256 KiB reads, large ones are read straight into their
 * own array.
 */
export class FrameReader {
  private buf = new Uint8Array(FIRST_CHUNK);
  private start = 0;
  private end = 0;
  private growAfter = false;
  private readonly sizeBuf = new Uint8Array(SIZE_PREFIX_BYTES);
  private readonly sizeView = new DataView(this.sizeBuf.buffer);

  /** `allocated` hears of every byte allocated for frames, as it is allocated (a memory budget). */
  constructor(
    private readonly source: ByteSource,
    private readonly allocated?: (bytes: number) => void,
  ) {}

  /**
   * The next frame without its size prefix, or null on a clean end of stream.
   * `check` sees the size first and may throw to refuse it before the frame
   * is read (socket.request.max.bytes), or return a promise to wait on before
   * reading it (a memory budget with no room).
   */
  async next(check?: (size: number) => void | Promise<void>): Promise<Uint8Array | null> {
    if (!(await this.readExact(this.sizeBuf))) return null;
    const size = this.sizeView.getInt32(0);
    const wait = check?.(size);
    if (wait !== undefined) await wait;
    if (size < 0) throw new FramingError(`Frame length ${size} is negative`);
    // Bytes already here say the frame is flowing, not trickling: allocate up to 1 MiB at once.
    const flowing = this.end - this.start >= Math.min(size, FLOWING_BYTES);
    let out = this.allocate(Math.min(size, flowing ? FLOWING_ALLOCATION : FIRST_ALLOCATION));
    let got = 0;
    for (;;) {
      if (!(await this.readExact(out, got))) {
        throw new FramingError("Stream ended between a frame's size and its bytes");
      }
      if (out.length === size) return out;
      got = out.length;
      const grown = this.allocate(Math.min(size, out.length * 2));
      grown.set(out);
      this.allocated?.(-out.length);
      out = grown;
    }
  }

  private allocate(bytes: number): Uint8Array {
    this.allocated?.(bytes);
    return new Uint8Array(bytes);
  }

  /**
   * Fills `out` from `from` on; false on a clean end of stream before any
   * byte of it.
   */
  async readExact(out: Uint8Array, from = 0): Promise<boolean> {
    let got = from + Math.min(out.length - from, this.end - this.start);
    out.set(this.buf.subarray(this.start, this.start + got - from), from);
    this.start += got - from;
    if (got === out.length) return true;
    // Large remainders go straight into `out`; small ones through the chunk buffer.
    while (got < out.length) {
      const need = out.length - got;
      if (need >= this.buf.length / 2) {
        const n = await this.source.read(out.subarray(got));
        if (n === null) return this.eof(got);
        got += n;
        continue;
      }
      this.start = 0;
      this.end = 0;
      const n = await this.source.read(this.buf);
      if (n === null) return this.eof(got);
      this.end = n;
      if (n === this.buf.length && n < READ_CHUNK) this.growAfter = true;
      const take = Math.min(need, n);
      out.set(this.buf.subarray(0, take), got);
      this.start = take;
      got += take;
    }
    // A full read says more was waiting: the next refill reads into a larger buffer.
    if (this.growAfter) {
      this.growAfter = false;
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf.subarray(this.start, this.end));
      this.end -= this.start;
      this.start = 0;
      this.buf = grown;
    }
    return true;
  }

  private eof(got: number): boolean {
    if (got === 0) return false;
    throw new FramingError(`Stream ended in the middle of a frame (${got} bytes read)`);
  }
}
