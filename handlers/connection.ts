/**
 * The connection loop: reads length-prefixed frames, decodes the request
 * header, dispatches to the handler table, and writes responses in request
 * order. Requests on one connection are handled concurrently; at most
 * `maxInFlightPerConnection` are read ahead before reading pauses.
 *
 * A frame that cannot be understood (bad length, truncated header, unknown API
 * key or version) closes this connection only: Kafka does the same, and every
 * other connection carries on.
 */

import { getLogger } from "@logtape/logtape";
import { DecodeError, Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { decodeRequestHeaderPrefix, encodeResponseHeader } from "../protocol/header.ts";
import type { BrokerContext, ConnectionInfo, Handler, RequestContext } from "./types.ts";
import { API_VERSIONS_KEY, apiVersionsFallback } from "./api_versions.ts";

const log = getLogger(["skb", "connection"]);

/** Why a connection is closed by us. */
class ProtocolViolation extends Error {}

const READ_CHUNK = 256 * 1024;

/** Reads exactly `out.length` bytes, taking first what is left in `pending`. */
class FrameReader {
  private buf = new Uint8Array(READ_CHUNK);
  private start = 0;
  private end = 0;

  constructor(private readonly conn: Deno.Conn) {}

  /** Fills `out` completely; false on a clean end of stream before any byte. */
  async readExact(out: Uint8Array): Promise<boolean> {
    let got = Math.min(out.length, this.end - this.start);
    out.set(this.buf.subarray(this.start, this.start + got));
    this.start += got;
    if (got === out.length) return true;
    // Large remainders go straight into `out`; small ones through the chunk buffer.
    while (got < out.length) {
      const need = out.length - got;
      if (need >= READ_CHUNK / 2) {
        const n = await this.conn.read(out.subarray(got));
        if (n === null) return this.eof(got);
        got += n;
        continue;
      }
      this.start = 0;
      this.end = 0;
      const n = await this.conn.read(this.buf);
      if (n === null) return this.eof(got);
      this.end = n;
      const take = Math.min(need, n);
      out.set(this.buf.subarray(0, take), got);
      this.start = take;
      got += take;
    }
    return true;
  }

  private eof(got: number): boolean {
    if (got === 0) return false;
    throw new ProtocolViolation(`Connection closed in the middle of a frame (${got} bytes read)`);
  }
}

/** A request being handled: its response once settled, in request order. */
interface Slot {
  promise: Promise<unknown>;
  settled: boolean;
  value: Uint8Array | null;
  error: unknown;
}

function track(p: Promise<Uint8Array | null>): Slot {
  const slot: Slot = { promise: p, settled: false, value: null, error: null };
  slot.promise = p.then(
    (v) => {
      slot.settled = true;
      slot.value = v;
    },
    (e) => {
      slot.settled = true;
      slot.error = e ?? new Error("Request failed");
      throw e;
    },
  );
  return slot;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Serves one client connection until it closes or the broker shuts down. */
export async function serveConnection(conn: Deno.TcpConn, broker: BrokerContext): Promise<void> {
  const local = conn.localAddr as Deno.NetAddr;
  const remote = conn.remoteAddr as Deno.NetAddr;
  const info: ConnectionInfo = {
    localHost: local.hostname,
    localPort: local.port,
    remote: `${remote.hostname}:${remote.port}`,
    produceOrder: Promise.resolve(),
  };
  broker.metrics.connections++;
  const reader = new FrameReader(conn);
  const sizeBuf = new Uint8Array(4);
  const sizeView = new DataView(sizeBuf.buffer);
  const inFlight: Slot[] = [];
  let writerError: unknown = null;
  let wake = null as (() => void) | null;
  let done = false;

  // Responses leave in request order.
  const writer = (async () => {
    while (!done || inFlight.length > 0) {
      if (inFlight.length === 0) {
        await new Promise<void>((r) => (wake = r));
        wake = null;
        continue;
      }
      await inFlight[0].promise;
      // Every response already finished behind this one leaves in the same write:
      // pipelined requests often complete in the same flush.
      const ready: Uint8Array[] = [];
      let failure: unknown = null;
      while (inFlight.length > 0 && inFlight[0].settled) {
        const slot = inFlight.shift()!;
        if (slot.error !== null) {
          failure = slot.error;
          break;
        }
        if (slot.value !== null) ready.push(slot.value);
      }
      const out = ready.length === 1 ? ready[0] : concat(ready);
      if (out.length > 0) {
        await writeAll(conn, out);
        broker.metrics.bytesOut += out.length;
      }
      if (failure !== null) throw failure;
    }
  })().catch((e) => {
    writerError = e;
    if (e instanceof ProtocolViolation || e instanceof DecodeError) {
      log.warn("Closing connection from {remote}: {message}", {
        remote: info.remote,
        message: (e as Error).message,
      });
    } else if (!isDisconnect(e)) {
      log.error("Writing to {remote} failed: {error}", { remote: info.remote, error: e });
    }
    try {
      conn.close();
    } catch { /* already closed */ }
  });

  // Shutdown: stop reading, let the requests already read finish, then close.
  const drain = async () => {
    done = true;
    wake?.();
    await writer;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  broker.connections.add(drain);
  try {
    while (!done && writerError === null) {
      if (!(await reader.readExact(sizeBuf))) break;
      const size = sizeView.getInt32(0);
      if (size < 8 || size > broker.config.socketRequestMaxBytes) {
        throw new ProtocolViolation(
          `Frame length ${size} is outside 8..${broker.config.socketRequestMaxBytes} (socket.request.max.bytes)`,
        );
      }
      const frame = new Uint8Array(size);
      if (!(await reader.readExact(frame))) {
        throw new ProtocolViolation("Connection closed in the middle of a frame");
      }
      if (done) break;
      broker.metrics.bytesIn += size + 4;
      inFlight.push(track(handleFrame(frame, broker, info)));
      wake?.();
      // Backpressure: stop reading while too many requests are waiting.
      if (inFlight.length >= broker.config.maxInFlightPerConnection) {
        await inFlight[0].promise.catch(() => {});
      }
    }
  } catch (e) {
    if (e instanceof ProtocolViolation || e instanceof DecodeError) {
      log.warn("Closing connection from {remote}: {message}", {
        remote: info.remote,
        message: (e as Error).message,
      });
    } else if (!isDisconnect(e) && !done) {
      log.error("Connection from {remote} failed: {error}", { remote: info.remote, error: e });
    }
  } finally {
    done = true;
    wake?.();
    // Answer what was read before the end (or the violation), then close.
    await writer;
    broker.connections.delete(drain);
    try {
      conn.close();
    } catch { /* already closed */ }
    broker.metrics.connections--;
  }
}

function isDisconnect(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.NotConnected;
}

/**
 * Decodes and handles one frame; resolves to the response frame, or null when
 * no response is due. Throws (closing the connection) on a frame we cannot read.
 */
async function handleFrame(
  frame: Uint8Array,
  broker: BrokerContext,
  conn: ConnectionInfo,
): Promise<Uint8Array | null> {
  const started = performance.now();
  const r = new Reader(frame);
  const header = decodeRequestHeaderPrefix(r);
  const handler = broker.handlers.get(header.apiKey);
  if (!handler) {
    throw new ProtocolViolation(
      `Unknown API key ${header.apiKey} (correlation id ${header.correlationId})`,
    );
  }
  const version = header.apiVersion;
  if (version < handler.api.minVersion || version > handler.api.maxVersion) {
    // KIP-511: ApiVersions of a version we lack gets a v0 answer listing ours.
    if (header.apiKey === API_VERSIONS_KEY) {
      return encodeFrame(header.correlationId, false, (w) => apiVersionsFallback(w, broker));
    }
    throw new ProtocolViolation(
      `${handler.api.name} version ${version} is not supported (we serve ${handler.minVersion}-${handler.maxVersion})`,
    );
  }
  const requestFlexible = handler.api.requestFlexibleFrom >= 0 &&
    version >= handler.api.requestFlexibleFrom;
  if (requestFlexible) r.skipTaggedFields();
  const request = handler.api.decodeRequest(r, version);
  const ctx: RequestContext = { broker, header, apiVersion: version, connection: conn };
  let response: unknown;
  let failed = false;
  try {
    response = await handler.handle(request, ctx);
  } catch (e) {
    failed = true;
    broker.metrics.request(
      handler.api.name,
      version,
      performance.now() - started,
      true,
      header.apiKey,
    );
    log.error("{api} v{version} from {remote} failed: {error}", {
      api: handler.api.name,
      version,
      remote: conn.remote,
      error: e,
    });
    throw new ProtocolViolation(`${handler.api.name} handler failed: ${(e as Error).message}`);
  }
  if (!failed) {
    const ms = performance.now() - started;
    broker.metrics.request(handler.api.name, version, ms, false, header.apiKey);
    // One line per request at debug; nothing is built when debug is off.
    if (log.isEnabledFor("debug")) {
      log.debug(
        "{api} v{version} from {remote} client {clientId} correlation {correlationId} in {ms} ms",
        {
          api: handler.api.name,
          version,
          remote: conn.remote,
          clientId: header.clientId,
          correlationId: header.correlationId,
          ms: Math.round(ms * 1000) / 1000,
        },
      );
    }
  }
  if (response === null) return null;
  // ApiVersions responses keep header v0 even in flexible versions (KIP-511).
  const responseFlexible = header.apiKey !== API_VERSIONS_KEY &&
    handler.api.responseFlexibleFrom >= 0 && version >= handler.api.responseFlexibleFrom;
  return encodeFrame(header.correlationId, responseFlexible, (w) => {
    (handler as Handler).api.encodeResponse(w, response, version);
  });
}

function encodeFrame(
  correlationId: number,
  flexibleHeader: boolean,
  body: (w: Writer) => void,
): Uint8Array {
  const w = new Writer(256);
  const sizeAt = w.reserveInt32();
  encodeResponseHeader(w, correlationId, flexibleHeader);
  body(w);
  w.patchInt32(sizeAt, w.pos - 4);
  return w.bytes();
}
