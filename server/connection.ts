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
import { concatChunks } from "../protocol/writer.ts";
import { decodeRequestHeaderPrefix } from "../protocol/header.ts";
import {
  encodeGatheredResponseFrame,
  encodeResponseFrame,
  FrameReader,
  FramingError,
  type GatheredFrame,
  responseHeaderFlexible,
} from "../protocol/frame.ts";
import { FRAME_POOL } from "../protocol/frame_pool.ts";
import type { Writer } from "../protocol/writer.ts";
import type { BrokerContext } from "../broker/context.ts";
import type { ConnectionInfo, Handler, RequestContext } from "../handlers/types.ts";
import { API_VERSIONS_KEY, apiVersionsFallback } from "../handlers/api_versions.ts";
import { shareConnectionClosed } from "../handlers/_share.ts";
import { refusal } from "./refusal.ts";
import { CloseConnection } from "../protocol/errors.ts";
import { type Listener, usesSasl } from "../broker/security_config.ts";
import { SASL_MAX_RECEIVE_SIZE, SaslSession } from "../broker/sasl/session.ts";
import { exchange } from "../broker/sasl/exchange.ts";
import { BufferBudget, type Stop } from "./buffer_budget.ts";
import type { ConnectionWatch } from "./connection_watch.ts";
import { leftOut, type LogBudget } from "./log_budget.ts";

const log = getLogger(["skb", "connection"]);

/** Responses finished together are copied into one write up to this many bytes. */
const COALESCE_BYTES = 64 * 1024;

/** Why a connection is closed by us. */
class ProtocolViolation extends Error {}

/** What the connection loop serves with: the broker's services and its handler table. */
export interface ServerContext {
  broker: BrokerContext;
  handlers: ReadonlyMap<number, Handler>;
  /** Open connections' drain functions: each stops reading, answers what it read, and closes. */
  connections: Set<() => Promise<void>>;
  /** Bytes held broker-wide for requests and unwritten responses (queued.max.request.bytes). */
  budget: BufferBudget;
  /** The one timer that closes idle, stalled and overdue connections. */
  watch: ConnectionWatch;
  /** Bounds the info lines clients can cause (refusals, closed connections). */
  logs: LogBudget;
}

/** A request being handled: its response once settled, in request order. */
interface Slot {
  promise: Promise<unknown>;
  settled: boolean;
  value: Uint8Array | GatheredFrame | null;
  error: unknown;
  /** Bytes this request holds in the budgets: its frame, then its response too. */
  held: number;
  /**
   * Bytes its response may take, held in the connection's budget until it is
   * built (a Fetch's max_bytes), so that a client cannot pipeline requests
   * whose answers together exceed the bound before the first one is built.
   */
  reserved: number;
  released: boolean;
  /** performance.now() past which the request is overdue (--request-timeout-ms plus its own wait). */
  deadlineAt: number;
  /** The API's name once the header is read, for the overdue warning. */
  api: string;
}

/** A wait's way out that settles once, when the connection closes. */
class Closing implements Stop {
  stopped = false;
  readonly promise: Promise<void>;
  private resolve!: () => void;
  constructor() {
    this.promise = new Promise<void>((r) => (this.resolve = r));
  }
  stop(): void {
    this.stopped = true;
    this.resolve();
  }
}

async function writeAll(conn: Transport, data: Uint8Array, progress: () => void): Promise<void> {
  let off = 0;
  while (off < data.length) {
    off += await conn.write(data.subarray(off));
    progress();
  }
}

/** Pieces at least this large are written as they are; smaller ones are staged together. */
const DIRECT_WRITE_BYTES = 512 * 1024;
/** The staging buffer for a gathered frame's small pieces. */
const STAGE_BYTES = 1024 * 1024;

/**
 * Writes a frame, then gives its buffers back to the frame pool. A gathered
 * frame's large pieces (stored record chunks) go to the socket as they are;
 * runs of smaller ones are copied into one staging buffer per write, since
 * Deno has no vectored write and a write per small piece costs more than the
 * copy. The frame leaves as it is read, in at most STAGE_BYTES at a time.
 */
async function writeFrame(
  conn: Transport,
  frame: Uint8Array | GatheredFrame,
  progress: () => void,
): Promise<void> {
  if (frame instanceof Uint8Array) {
    await writeAll(conn, frame, progress);
    FRAME_POOL.give(frame);
    return;
  }
  const stage = FRAME_POOL.take(STAGE_BYTES).subarray(0, STAGE_BYTES);
  let staged = 0;
  const flush = async () => {
    if (staged === 0) return;
    await writeAll(conn, stage.subarray(0, staged), progress);
    staged = 0;
  };
  for (const part of frame.parts) {
    if (part.length >= DIRECT_WRITE_BYTES) {
      await flush();
      await writeAll(conn, part, progress);
      continue;
    }
    let at = 0;
    while (at < part.length) {
      const take = Math.min(part.length - at, STAGE_BYTES - staged);
      stage.set(part.subarray(at, at + take), staged);
      staged += take;
      at += take;
      if (staged === STAGE_BYTES) await flush();
    }
  }
  await flush();
  // Written (a failed write keeps its buffers from the pool): the staging buffer and the
  // frame's own go back; stored chunks are not the pool's and are ignored.
  FRAME_POOL.give(stage);
  for (const part of frame.parts) FRAME_POOL.give(part);
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
  const config = broker.config;
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
        config.security.connectionsMaxReauthMs,
        server.handlers.get(API_VERSIONS_KEY)?.maxVersion ?? 0,
        (k) => server.handlers.get(k)?.api.name ?? `API key ${k}`,
      )
      : null,
    produceOrder: Promise.resolve(),
  };
  broker.metrics.connections++;
  const closing = new Closing();
  /** Closes at once: reads and writes fail, waits give up, what is in flight is dropped. */
  const closeNow = () => {
    done = true;
    closing.stop();
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const closeLine = (kind: string, message: string) =>
    server.logs.maybe(
      `close:${kind}`,
      (left) =>
        log.info("Closing connection from {remote}: {message}{more}", {
          remote: info.remote,
          message,
          more: leftOut(left),
        }),
    );

  // Memory held by this connection counts against its own budget and the broker's.
  const own = new BufferBudget(config.connectionQueuedMaxBytes);
  const take = (n: number) => {
    own.take(n);
    server.budget.take(n);
  };
  const give = (n: number) => {
    own.give(n);
    server.budget.give(n);
  };
  /** Bytes allocated for the frame being read, not yet handed to a slot. */
  let reading = 0;
  const reader = new FrameReader(conn, (n) => {
    reading += n;
    take(n);
  });
  const release = (slot: Slot) => {
    if (slot.released) return;
    slot.released = true;
    give(slot.held);
  };
  const maxBytes = config.socketRequestMaxBytes;
  const admitFrame = (size: number): Promise<void> | undefined => {
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
    // queued.max.request.bytes: a frame is read once both budgets have room; it may then take
    // them past their bound (its bytes are allocated as they arrive), so a large frame never
    // waits forever for room it could never have.
    if (own.hasRoom() && server.budget.hasRoom()) return undefined;
    // Waiting for room is the broker's doing, not idleness.
    waitingForRoom = true;
    return own.room(closing).then(() => server.budget.room(closing)).finally(() => {
      waitingForRoom = false;
      lastActive = performance.now();
    });
  };
  const inFlight: Slot[] = [];
  let writerError: unknown = null;
  let wake = null as (() => void) | null;
  let done = false;
  /** When a request last arrived whole or a response left (connections.max.idle.ms). */
  let lastActive = performance.now();
  let waitingForRoom = false;
  /** When the write under way last made progress; null when none is under way. */
  let writingSince: number | null = null;

  // Responses leave in request order.
  const writer = (async () => {
    while (!closing.stopped && (!done || inFlight.length > 0)) {
      if (inFlight.length === 0) {
        await Promise.race([new Promise<void>((r) => (wake = r)), closing.promise]);
        wake = null;
        continue;
      }
      await Promise.race([inFlight[0].promise, closing.promise]);
      if (closing.stopped) break;
      // Every response already finished behind this one leaves in the same write:
      // pipelined requests often complete in the same flush.
      const ready: (Uint8Array | GatheredFrame)[] = [];
      const written: Slot[] = [];
      let failure: unknown = null;
      while (inFlight.length > 0 && inFlight[0].settled) {
        const slot = inFlight.shift()!;
        written.push(slot);
        if (slot.error !== null) {
          failure = slot.error;
          break;
        }
        if (slot.value !== null) ready.push(slot.value);
      }
      // Small answers leave in one write; large ones one by one rather than copied together.
      let total = 0;
      for (const r of ready) total += r.length;
      const writes = ready.length > 1 && total <= COALESCE_BYTES &&
          ready.every((r) => r instanceof Uint8Array)
        ? [concatChunks(ready as Uint8Array[], total)]
        : ready;
      try {
        for (const out of writes) {
          writingSince = performance.now();
          await writeFrame(conn, out, () => (writingSince = performance.now()));
          lastActive = performance.now();
          broker.metrics.bytesOut += out.length;
        }
      } finally {
        writingSince = null;
        for (const slot of written) release(slot);
      }
      if (failure !== null) throw failure;
    }
  })().catch((e) => {
    writerError = e;
    if (isViolation(e)) {
      closeLine("violation", (e as Error).message);
    } else if (!isDisconnect(e) && !closing.stopped) {
      server.logs.maybe(
        "write-failed",
        (left) =>
          log.error("Writing to {remote} failed: {error}{more}", {
            remote: info.remote,
            error: e,
            more: leftOut(left),
          }),
      );
    }
    closeNow();
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
  // so a sender trickling one frame forever (slowloris) is closed like an idle client, and so
  // is one that stops reading its responses. A request past its deadline closes it too.
  const idleMs = config.connectionsMaxIdleMs;
  const watched = {
    check(now: number) {
      if (closing.stopped) return;
      if (writingSince !== null) {
        if (now - writingSince < idleMs) return;
        broker.metrics.connectionsStalledClosed++;
        closeLine(
          "stalled",
          `it read no response bytes for ${
            Math.round(now - writingSince)
          } ms (connections.max.idle.ms)`,
        );
        closeNow();
        return;
      }
      const head = inFlight[0];
      if (waitingForRoom) lastActive = now;
      if (head !== undefined) {
        lastActive = now;
        if (head.settled || now <= head.deadlineAt) return;
        broker.metrics.requestsTimedOut++;
        server.logs.maybe("overdue", (left) =>
          log.warn(
            "Closing connection from {remote}: {api} unanswered past its deadline (--request-timeout-ms {timeout} beyond its own wait){more}",
            {
              remote: info.remote,
              api: head.api,
              timeout: config.requestTimeoutMs,
              more: leftOut(left),
            },
          ));
        closeNow();
        return;
      }
      const quiet = now - lastActive;
      if (quiet < idleMs) return;
      broker.metrics.connectionsIdleClosed++;
      closeLine(
        "idle",
        `no complete request for ${Math.round(quiet)} ms (connections.max.idle.ms)`,
      );
      closeNow();
    },
  };
  server.watch.add(watched);
  const newSlot = (frame: Uint8Array): Slot => {
    const slot: Slot = {
      promise: Promise.resolve(),
      settled: false,
      value: null,
      error: null,
      held: frame.length,
      reserved: 0,
      released: false,
      deadlineAt: performance.now() + config.requestTimeoutMs,
      api: "a request",
    };
    reading -= frame.length;
    return slot;
  };
  const reserveFor = (slot: Slot) => (bytes: number) => {
    // More than the bound would only fill it: the next frame waits either way.
    slot.reserved = Math.min(
      bytes,
      config.connectionQueuedMaxBytes || config.socketRequestMaxBytes,
    );
    own.take(slot.reserved);
  };
  const track = (slot: Slot, p: Promise<Uint8Array | GatheredFrame | null>): Slot => {
    slot.promise = p.then(
      (v) => {
        slot.settled = true;
        slot.value = v;
        own.give(slot.reserved);
        slot.reserved = 0;
        if (v !== null) {
          take(v.length);
          slot.held += v.length;
        }
        if (slot.released) give(v?.length ?? 0);
      },
      (e) => {
        slot.settled = true;
        own.give(slot.reserved);
        slot.reserved = 0;
        slot.error = e ?? new Error("Request failed");
        throw e;
      },
    );
    return slot;
  };
  try {
    while (!done && writerError === null) {
      const frame = await reader.next(admitFrame);
      if (frame === null || done) break;
      lastActive = performance.now();
      broker.metrics.bytesIn += frame.length + 4;
      const slot = newSlot(frame);
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
          track(
            slot,
            sasl.raw
              ? rawSaslToken(frame, sasl, broker, info)
              : handleFrame(frame, server, info, slot, reserveFor(slot)),
          );
          inFlight.push(slot);
          wake?.();
          await Promise.race([slot.promise.catch(() => {}), closing.promise]);
          // The failure's own info line says the connection closes.
          if (sasl.closeAfterResponse) break;
          continue;
        }
        if (admitted !== "concurrent") {
          release(slot);
          throw new ProtocolViolation(admitted);
        }
      }
      inFlight.push(track(slot, handleFrame(frame, server, info, slot, reserveFor(slot))));
      wake?.();
      // Backpressure: stop reading while too many requests are waiting.
      if (inFlight.length >= config.maxInFlightPerConnection) {
        await Promise.race([inFlight[0].promise.catch(() => {}), closing.promise]);
      }
    }
  } catch (e) {
    if (isViolation(e)) {
      closeLine("violation", (e as Error).message);
    } else if (!isDisconnect(e) && !done) {
      server.logs.maybe(
        "read-failed",
        (left) =>
          log.error("Connection from {remote} failed: {error}{more}", {
            remote: info.remote,
            error: e,
            more: leftOut(left),
          }),
      );
    }
  } finally {
    server.watch.delete(watched);
    done = true;
    wake?.();
    // Answer what was read before the end (or the violation), then close.
    await writer;
    server.connections.delete(drain);
    try {
      conn.close();
    } catch { /* already closed */ }
    // What was never written gives its bytes back once its handler is done with them.
    give(reading);
    reading = 0;
    const pending = inFlight.splice(0);
    for (const slot of pending) {
      slot.promise.then(() => release(slot), () => release(slot));
    }
    broker.metrics.connections--;
    // KIP-932: once its requests are done, the share sessions this connection opened end and
    // what their members held goes back at once (Kafka's share session cache on a disconnect).
    Promise.allSettled(pending.map((slot) => slot.promise))
      .then(() => shareConnectionClosed(broker, info))
      .catch(() => {});
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
  slot: Slot,
  reserve: (bytes: number) => void,
): Promise<Uint8Array | GatheredFrame | null> {
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
      server.logs.maybe("api-versions-fallback", (left) =>
        log.info(
          "ApiVersions v{version} from {remote} client {clientId}: newer than ours, answered with our list in v0 (KIP-511){more}",
          { ...who, version, more: leftOut(left) },
        ));
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
  slot.api = `${handler.api.name} v${version}`;
  slot.deadlineAt += ownWaitMs(request);
  reserve(responseBytesAskedFor(request));
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
    server.logs.maybe(
      `failed:${handler.api.name}`,
      (left) =>
        log.error("{api} v{version} from {remote} client {clientId} failed: {error}{more}", {
          ...who,
          api: handler.api.name,
          version,
          error: e,
          more: leftOut(left),
        }),
    );
    throw new ProtocolViolation(`${handler.api.name} handler failed: ${(e as Error).message}`);
  }
  const ms = performance.now() - started;
  broker.metrics.request(handler.api.name, version, ms, false, header.apiKey);
  if (response !== null && log.isEnabledFor("info")) {
    const refused = refusal(response);
    if (refused !== null) {
      server.logs.maybe(
        `refused:${handler.api.name}`,
        (left) =>
          log.info("{api} v{version} from {remote} client {clientId} refused: {reason}{more}", {
            ...who,
            api: handler.api.name,
            version,
            reason: refused,
            more: leftOut(left),
          }),
      );
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
  const flexible = responseHeaderFlexible(handler.api, version);
  const body = (w: Writer) => (handler as Handler).api.encodeResponse(w, response, version);
  // Answers with record sets keep the stored chunks by reference (written by writeFrame).
  return handler.responseBytes
    ? encodeGatheredResponseFrame(
      header.correlationId,
      flexible,
      body,
      handler.responseBytes(response),
    )
    : encodeResponseFrame(header.correlationId, flexible, body);
}

/**
 * How long a request may rightly wait before its answer, by its own fields:
 * Fetch and ShareFetch long polls (max_wait_ms), JoinGroup (the rebalance
 * timeout, or the session timeout before v1), and requests that carry a
 * timeout_ms (Produce with acks=all, CreateTopics, ...).
 */
function ownWaitMs(request: unknown): number {
  if (request === null || typeof request !== "object") return 0;
  const r = request as Record<string, unknown>;
  let wait = 0;
  for (const field of ["maxWaitMs", "rebalanceTimeoutMs", "sessionTimeoutMs", "timeoutMs"]) {
    const v = r[field];
    if (typeof v === "number" && v > wait) wait = v;
  }
  return wait;
}

/**
 * The response size a request asks for at most: Fetch's and ShareFetch's
 * max_bytes (fetch.max.bytes), or for Fetch before v3 the sum of its
 * partitions' max_bytes. Other responses are small next to their requests.
 */
function responseBytesAskedFor(request: unknown): number {
  if (request === null || typeof request !== "object") return 0;
  const r = request as { maxBytes?: unknown; topics?: unknown };
  if (typeof r.maxBytes === "number" && r.maxBytes > 0) return r.maxBytes;
  if (!Array.isArray(r.topics)) return 0;
  let sum = 0;
  for (const t of r.topics as { partitions?: { partitionMaxBytes?: unknown }[] }[]) {
    for (const p of t.partitions ?? []) {
      if (typeof p.partitionMaxBytes === "number" && p.partitionMaxBytes > 0) {
        sum += p.partitionMaxBytes;
      }
    }
  }
  return sum;
}
