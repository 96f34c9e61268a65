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
import { decodeRequestHeaderPrefix } from "../protocol/header.ts";
import {
  encodeResponseFrame,
  FrameReader,
  FramingError,
  responseHeaderFlexible,
} from "../protocol/frame.ts";
import type { BrokerContext } from "../broker/context.ts";
import type { ConnectionInfo, Handler, RequestContext } from "../handlers/types.ts";
import { API_VERSIONS_KEY, apiVersionsFallback } from "../handlers/api_versions.ts";
import { refusal } from "./refusal.ts";
import { CloseConnection } from "../protocol/errors.ts";
import { type Listener, usesSasl } from "../broker/security_config.ts";
import { SASL_MAX_RECEIVE_SIZE, SaslSession } from "../broker/sasl/session.ts";
import { exchange } from "../broker/sasl/exchange.ts";

const log = getLogger(["skb", "connection"]);

/** Why a connection is closed by us. */
class ProtocolViolation extends Error {}

/** What the connection loop serves with: the broker's services and its handler table. */
export interface ServerContext {
  broker: BrokerContext;
  handlers: ReadonlyMap<number, Handler>;
  /** Open connections' drain functions: each stops reading, answers what it read, and closes. */
  connections: Set<() => Promise<void>>;
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

async function writeAll(conn: Transport, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/**
 * A byte stream to a client: a TCP connection, or TLS over one. `peerPrincipal`
 * is the client certificate's principal when TLS verified one.
 */
export interface Transport {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  readonly localAddr: Deno.Addr;
  readonly remoteAddr: Deno.Addr;
  readonly peerPrincipal?: string | null;
}

/** Serves one client connection until it closes or the broker shuts down. */
export async function serveConnection(
  conn: Transport,
  server: ServerContext,
  listener: Listener,
): Promise<void> {
  const { broker } = server;
  const local = conn.localAddr as Deno.NetAddr;
  const remote = conn.remoteAddr as Deno.NetAddr;
  const info: ConnectionInfo = {
    localHost: local.hostname,
    localPort: local.port,
    remote: `${remote.hostname}:${remote.port}`,
    remoteHost: remote.hostname,
    listenerName: listener.name,
    securityProtocol: listener.protocol,
    principal: conn.peerPrincipal ?? "User:ANONYMOUS",
    sasl: usesSasl(listener.protocol)
      ? new SaslSession(
        broker.config.security.connectionsMaxReauthMs,
        server.handlers.get(API_VERSIONS_KEY)?.maxVersion ?? 0,
        (k) => server.handlers.get(k)?.api.name ?? `API key ${k}`,
      )
      : null,
    produceOrder: Promise.resolve(),
  };
  broker.metrics.connections++;
  const reader = new FrameReader(conn);
  const maxBytes = broker.config.socketRequestMaxBytes;
  const checkSize = (size: number) => {
    // A raw SASL token after SaslHandshake v0 has no request header (KIP-43).
    if ((size < 8 && info.sasl?.raw !== true) || size > maxBytes) {
      throw new ProtocolViolation(
        `Frame length ${size} is outside 8..${maxBytes} (socket.request.max.bytes)`,
      );
    }
    // Kafka's sasl.server.max.receive.size bounds what an unauthenticated client may send.
    if (size > SASL_MAX_RECEIVE_SIZE && info.sasl !== null && !info.sasl.authenticated) {
      throw new ProtocolViolation(
        `Frame length ${size} before SASL authentication is over ${SASL_MAX_RECEIVE_SIZE} (sasl.server.max.receive.size)`,
      );
    }
  };
  const inFlight: Slot[] = [];
  let writerError: unknown = null;
  let wake = null as (() => void) | null;
  let done = false;
  /** When a request last arrived whole or a response left (connections.max.idle.ms). */
  let lastActive = performance.now();

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
        lastActive = performance.now();
        broker.metrics.bytesOut += out.length;
      }
      if (failure !== null) throw failure;
    }
  })().catch((e) => {
    writerError = e;
    if (isViolation(e)) {
      log.info("Closing connection from {remote}: {message}", {
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
  server.connections.add(drain);
  // connections.max.idle.ms: only complete requests and written responses count as activity,
  // so a sender trickling one frame forever (slowloris) is closed like an idle client.
  const idleMs = broker.config.connectionsMaxIdleMs;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const checkIdle = () => {
    const quiet = performance.now() - lastActive;
    if (inFlight.length > 0 || quiet < idleMs) {
      if (inFlight.length > 0) lastActive = performance.now();
      idleTimer = setTimeout(checkIdle, Math.max(idleMs - quiet, 10));
      return;
    }
    broker.metrics.connectionsIdleClosed++;
    log.info(
      "Closing connection from {remote}: no complete request for {ms} ms (connections.max.idle.ms)",
      {
        remote: info.remote,
        ms: Math.round(quiet),
      },
    );
    done = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  idleTimer = setTimeout(checkIdle, idleMs);
  try {
    while (!done && writerError === null) {
      const frame = await reader.next(checkSize);
      if (frame === null || done) break;
      lastActive = performance.now();
      broker.metrics.bytesIn += frame.length + 4;
      // SASL listeners: before authentication one request at a time, in order (KIP-43).
      const sasl = info.sasl;
      if (sasl !== null) {
        // After SaslHandshake v0 every frame is a raw token, served in order like the rest.
        const admitted = sasl.raw ? "serial" : sasl.admit(
          (frame[0] << 8 | frame[1]) << 16 >> 16,
          frame[2] << 8 | frame[3],
          Date.now(),
        );
        if (admitted === "serial") {
          const slot = track(
            sasl.raw ? rawSaslToken(frame, sasl, broker, info) : handleFrame(frame, server, info),
          );
          inFlight.push(slot);
          wake?.();
          await slot.promise.catch(() => {});
          // The failure's own info line says the connection closes.
          if (sasl.closeAfterResponse) break;
          continue;
        }
        if (admitted !== "concurrent") throw new ProtocolViolation(admitted);
      }
      inFlight.push(track(handleFrame(frame, server, info)));
      wake?.();
      // Backpressure: stop reading while too many requests are waiting.
      if (inFlight.length >= broker.config.maxInFlightPerConnection) {
        await inFlight[0].promise.catch(() => {});
      }
    }
  } catch (e) {
    if (isViolation(e)) {
      log.info("Closing connection from {remote}: {message}", {
        remote: info.remote,
        message: (e as Error).message,
      });
    } else if (!isDisconnect(e) && !done) {
      log.error("Connection from {remote} failed: {error}", { remote: info.remote, error: e });
    }
  } finally {
    clearTimeout(idleTimer);
    done = true;
    wake?.();
    // Answer what was read before the end (or the violation), then close.
    await writer;
    server.connections.delete(drain);
    try {
      conn.close();
    } catch { /* already closed */ }
    broker.metrics.connections--;
  }
}

/**
 * A raw SASL token after SaslHandshake v0 (KIP-43): answered with the
 * mechanism's token, length-prefixed; a failure is answered by closing, as
 * Kafka does for clients that cannot read SaslAuthenticate errors.
 */
async function rawSaslToken(
  token: Uint8Array,
  sasl: SaslSession,
  broker: BrokerContext,
  info: ConnectionInfo,
): Promise<Uint8Array | null> {
  const r = await exchange(sasl, token, broker, info);
  if (r.failed) return null;
  const out = new Uint8Array(4 + r.response.length);
  new DataView(out.buffer).setInt32(0, r.response.length);
  out.set(r.response, 4);
  return out;
}

function isViolation(e: unknown): boolean {
  return e instanceof ProtocolViolation || e instanceof DecodeError || e instanceof FramingError;
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
 * no response is due. Throws (closing the connection) on a frame we cannot
 * read, an API or version we do not serve, or a handler that failed: Kafka
 * closes the connection in the same cases. Every refusal leaves one info line.
 */
async function handleFrame(
  frame: Uint8Array,
  server: ServerContext,
  conn: ConnectionInfo,
): Promise<Uint8Array | null> {
  const { broker, handlers } = server;
  const started = performance.now();
  const r = new Reader(frame);
  const header = decodeRequestHeaderPrefix(r);
  const who = {
    remote: conn.remote,
    clientId: header.clientId,
    correlationId: header.correlationId,
  };
  const handler = handlers.get(header.apiKey);
  if (!handler) {
    throw new ProtocolViolation(
      `Unknown API key ${header.apiKey} from client ${header.clientId} (correlation id ${header.correlationId})`,
    );
  }
  const version = header.apiVersion;
  // Exactly the versions ApiVersions advertises for this handler.
  if (version < handler.minVersion || version > handler.maxVersion) {
    // KIP-511: ApiVersions of a version we lack gets a v0 answer listing ours.
    if (header.apiKey === API_VERSIONS_KEY) {
      log.info(
        "ApiVersions v{version} from {remote} client {clientId}: newer than ours, answered with our list in v0 (KIP-511)",
        { ...who, version },
      );
      return encodeResponseFrame(
        header.correlationId,
        false,
        (w) => apiVersionsFallback(w, handlers),
      );
    }
    throw new ProtocolViolation(
      `${handler.api.name} v${version} from client ${header.clientId} is not served (we serve v${handler.minVersion}-${handler.maxVersion})`,
    );
  }
  if (handler.api.requestFlexibleFrom >= 0 && version >= handler.api.requestFlexibleFrom) {
    r.skipTaggedFields();
  }
  const request = handler.api.decodeRequest(r, version);
  const ctx: RequestContext = { broker, header, apiVersion: version, connection: conn, handlers };
  let response: unknown;
  try {
    response = await handler.handle(request, ctx);
  } catch (e) {
    if (e instanceof CloseConnection) throw new ProtocolViolation(e.message);
    broker.metrics.request(
      handler.api.name,
      version,
      performance.now() - started,
      true,
      header.apiKey,
    );
    log.error("{api} v{version} from {remote} client {clientId} failed: {error}", {
      ...who,
      api: handler.api.name,
      version,
      error: e,
    });
    throw new ProtocolViolation(`${handler.api.name} handler failed: ${(e as Error).message}`);
  }
  const ms = performance.now() - started;
  broker.metrics.request(handler.api.name, version, ms, false, header.apiKey);
  if (response !== null && log.isEnabledFor("info")) {
    const refused = refusal(response);
    if (refused !== null) {
      log.info("{api} v{version} from {remote} client {clientId} refused: {reason}", {
        ...who,
        api: handler.api.name,
        version,
        reason: refused,
      });
    }
  }
  // One line per request at debug; nothing is built when debug is off.
  if (log.isEnabledFor("debug")) {
    log.debug(
      "{api} v{version} from {remote} client {clientId} correlation {correlationId} in {ms} ms",
      { ...who, api: handler.api.name, version, ms: Math.round(ms * 1000) / 1000 },
    );
  }
  if (response === null) return null;
  return encodeResponseFrame(
    header.correlationId,
    responseHeaderFlexible(handler.api, version),
    (w) => (handler as Handler).api.encodeResponse(w, response, version),
  );
}
