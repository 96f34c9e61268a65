/**
 * A minimal Kafka client over our own codec, for tests that must send exact
 * bytes (bad frames, chosen versions). Interop tests use real clients instead.
 */

import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { encodeRequestHeader } from "../protocol/header.ts";
import type { ApiCodec } from "../protocol/frame.ts";

/** One TCP connection speaking length-prefixed frames. */
export class WireClient implements AsyncDisposable {
  private correlationId = 1;
  private buffered = new Uint8Array(0);
  /** The last call under way: calls from concurrent tasks take turns on the connection. */
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(readonly conn: Deno.Conn) {}

  /** Speaks over a stream already connected (a TLS connection, say). */
  static over(conn: Deno.Conn): WireClient {
    return new WireClient(conn);
  }

  static async connect(port: number, hostname = "127.0.0.1"): Promise<WireClient> {
    return new WireClient(await Deno.connect({ hostname, port }));
  }

  /** Writes raw bytes as they are. */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Encodes and sends a request; returns its correlation id. */
  async send<Req>(api: ApiCodec<Req, unknown>, version: number, body: Req, clientId = "wire-test") {
    const correlationId = this.correlationId++;
    const w = new Writer(256);
    const at = w.reserveInt32();
    const flexible = api.requestFlexibleFrom >= 0 && version >= api.requestFlexibleFrom;
    encodeRequestHeader(
      w,
      { apiKey: api.apiKey, apiVersion: version, correlationId, clientId },
      flexible,
    );
    api.encodeRequest(w, body, version);
    w.patchInt32(at, w.pos - 4);
    await this.sendRaw(w.bytes());
    return correlationId;
  }

  /** Reads one response frame; null when the broker closed the connection. */
  async readFrame(): Promise<Uint8Array | null> {
    const need = async (n: number) => {
      while (this.buffered.length < n) {
        const chunk = new Uint8Array(65536);
        const got = await this.conn.read(chunk);
        if (got === null) return false;
        const next = new Uint8Array(this.buffered.length + got);
        next.set(this.buffered);
        next.set(chunk.subarray(0, got), this.buffered.length);
        this.buffered = next;
      }
      return true;
    };
    if (!(await need(4))) return null;
    const size = new DataView(this.buffered.buffer, this.buffered.byteOffset).getInt32(0);
    if (!(await need(4 + size))) return null;
    const frame = this.buffered.slice(4, 4 + size);
    this.buffered = this.buffered.slice(4 + size);
    return frame;
  }

  /** Reads and decodes the response to a request sent with {@link send}. */
  async receive<Resp>(
    api: ApiCodec<unknown, Resp>,
    version: number,
  ): Promise<{ correlationId: number; body: Resp }> {
    const frame = await this.readFrame();
    if (frame === null) throw new Error("Connection closed before the response");
    const r = new Reader(frame);
    const correlationId = r.int32();
    // ApiVersions responses keep header v0 (KIP-511).
    const flexible = api.apiKey !== 18 && api.responseFlexibleFrom >= 0 &&
      version >= api.responseFlexibleFrom;
    if (flexible) r.skipTaggedFields();
    return { correlationId, body: api.decodeResponse(r, version) };
  }

  /**
   * Sends a request and waits for its response. Calls made at once from
   * several tasks go one after another, so each reads its own response
   * (pipelining is `send` then `receive`).
   */
  call<Req, Resp>(api: ApiCodec<Req, Resp>, version: number, body: Req): Promise<Resp> {
    const run = this.turn.catch(() => {}).then(async () => {
      const id = await this.send(api, version, body);
      const res = await this.receive(api, version);
      if (res.correlationId !== id) {
        throw new Error(`Correlation id ${res.correlationId}, expected ${id}`);
      }
      return res.body;
    });
    this.turn = run;
    return run;
  }

  /** True when the broker has closed this connection (reads end). */
  async closedByPeer(timeoutMs = 5000): Promise<boolean> {
    const timer = setTimeout(() => this.conn.close(), timeoutMs);
    try {
      const buf = new Uint8Array(1024);
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) return true;
      }
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    try {
      this.conn.close();
    } catch { /* closed already */ }
    return Promise.resolve();
  }
}
