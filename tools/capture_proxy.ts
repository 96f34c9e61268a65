/**
 * A recording TCP proxy between Kafka clients and a real broker, for the golden
 * codec fixtures (tests/golden/README.md). Every request and response frame is
 * appended, as it travelled, to DIR/frames.bin, with one JSON line per frame in
 * DIR/frames.jsonl: direction, API key and version (a response's are taken from
 * its request, matched by correlation id on the same connection), correlation
 * id, client id, and where its bytes are in frames.bin.
 *
 *   deno run -A tools/capture_proxy.ts --listen 49192 --upstream 127.0.0.1:49092 --out DIR
 *        [--no-cap | --oldest]
 *
 * So that clients keep talking through the proxy, the broker addresses in
 * Metadata, FindCoordinator and DescribeCluster responses are rewritten to the
 * proxy's own, through our codec: decode, change host and port, encode. Before
 * that, each such response is decoded and encoded unchanged, and any difference
 * from the broker's bytes is written to DIR/findings.jsonl (a codec bug).
 *
 * By default the versions the broker advertises in ApiVersions are capped to
 * what our codec reads (APIs we have no codec for are left alone), so clients
 * use the versions our broker would let them use. An ApiVersions request newer
 * than our codec gets the answer our broker gives (KIP-511: UNSUPPORTED_VERSION
 * in a v0 body listing the capped versions), written by the proxy and marked
 * "synthesized" in the log. --no-cap forwards ApiVersions untouched, to see
 * which versions a client picks against the real broker. --oldest advertises
 * only the lowest version of each API our codec and the broker share (Produce:
 * v3), to capture the oldest versions a client can still speak.
 *
 * The files record the broker's original bytes, never the rewritten ones.
 * SIGINT or SIGTERM stops the proxy; it prints "listening PORT" on stdout once
 * it accepts connections.
 */

import { Writer } from "../protocol/writer.ts";
import {
  type ApiCodec,
  decodeResponseFrame as decodeFramedResponse,
  encodeRequestFrame,
  FrameReader,
  withSizePrefix,
} from "../protocol/frame.ts";
import type {
  ApiVersionsRequest,
  ApiVersionsResponse,
  DescribeClusterResponse,
  FindCoordinatorResponse,
  MetadataResponse,
} from "../protocol/generated/mod.ts";
import {
  API_VERSIONS_KEY,
  codecFor,
  decodeResponseFrame,
  encodeResponseFrame,
  peekCorrelationId,
  peekRequestHeader,
  roundTrip,
} from "./golden_frames.ts";

/** One line of frames.jsonl. */
export interface FrameRecord {
  seq: number;
  conn: number;
  dir: "request" | "response";
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** Byte offset and size of the frame (without its 4-byte size prefix) in frames.bin. */
  offset: number;
  size: number;
  /** Milliseconds since the proxy started. */
  t: number;
  /** Written by the proxy, not by the broker (ApiVersions fallback). */
  synthesized?: boolean;
  /** The proxy changed the frame before passing it on (addresses, capped versions). */
  rewritten?: boolean;
}

/** What the proxy rewrites addresses to. */
interface Endpoint {
  host: string;
  port: number;
}

interface ApiRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/**
 * Caps each API's range to our codec's; APIs without a codec keep Kafka's range.
 * `oldest` narrows each range to its lowest version (Produce: v3, the first that
 * carries v2 record batches, which Kafka 4 requires), so that a client that can
 * speak it has to.
 */
export function capVersions(apiKeys: ApiRange[], oldest = false): ApiRange[] {
  const out: ApiRange[] = [];
  for (const k of apiKeys) {
    const c = codecFor(k.apiKey);
    if (!c) {
      out.push({ ...k });
      continue;
    }
    const min = Math.max(k.minVersion, c.minVersion, oldest && k.apiKey === 0 ? 3 : 0);
    let max = Math.min(k.maxVersion, c.maxVersion);
    // ApiVersions itself keeps its range: clients need it to learn the rest.
    if (oldest && k.apiKey !== API_VERSIONS_KEY) max = Math.min(max, min);
    if (min <= max) out.push({ apiKey: k.apiKey, minVersion: min, maxVersion: max });
  }
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Appends frames and their index lines to the capture directory. */
class CaptureLog {
  private seq = 0;
  private offset = 0;
  private readonly started = performance.now();
  private readonly bin: Deno.FsFile;
  private readonly index: Deno.FsFile;
  private readonly findings: Deno.FsFile;
  private readonly enc = new TextEncoder();

  constructor(dir: string) {
    Deno.mkdirSync(dir, { recursive: true });
    const opts = { create: true, write: true, truncate: true };
    this.bin = Deno.openSync(`${dir}/frames.bin`, opts);
    this.index = Deno.openSync(`${dir}/frames.jsonl`, opts);
    this.findings = Deno.openSync(`${dir}/findings.jsonl`, opts);
  }

  private writeSync(f: Deno.FsFile, data: Uint8Array) {
    let off = 0;
    while (off < data.length) off += f.writeSync(data.subarray(off));
  }

  record(r: Omit<FrameRecord, "seq" | "offset" | "size" | "t">, frame: Uint8Array): void {
    const rec: FrameRecord = {
      seq: this.seq++,
      ...r,
      offset: this.offset,
      size: frame.length,
      t: Math.round(performance.now() - this.started),
    };
    this.writeSync(this.bin, frame);
    this.offset += frame.length;
    this.writeSync(this.index, this.enc.encode(JSON.stringify(rec) + "\n"));
  }

  finding(f: Record<string, unknown>): void {
    console.error(`capture_proxy: FINDING ${JSON.stringify(f)}`);
    this.writeSync(this.findings, this.enc.encode(JSON.stringify(f) + "\n"));
  }

  close(): void {
    for (const f of [this.bin, this.index, this.findings]) {
      try {
        f.close();
      } catch { /* closed */ }
    }
  }
}

export interface ProxyOptions {
  listenPort: number;
  upstream: Endpoint;
  outDir: string;
  cap: boolean;
  /** Advertise only the lowest version of each API (see capVersions). */
  oldest: boolean;
}

/** Rewrites addresses (and, capping, versions) in a response; null when nothing changes. */
function rewriteResponse(
  frame: Uint8Array,
  apiKey: number,
  apiVersion: number,
  opts: ProxyOptions,
  self: Endpoint,
): Uint8Array | null {
  const moved = (host: string, port: number) =>
    port === opts.upstream.port &&
    (host === opts.upstream.host || host === "localhost" || host === "127.0.0.1");
  const d = decodeResponseFrame(frame, apiKey, apiVersion);
  let changed = false;
  switch (apiKey) {
    case 3: {
      const m = d.body as MetadataResponse;
      for (const b of m.brokers) {
        if (moved(b.host, b.port)) [b.host, b.port, changed] = [self.host, self.port, true];
      }
      break;
    }
    case 10: {
      const m = d.body as FindCoordinatorResponse;
      if (moved(m.host, m.port)) [m.host, m.port, changed] = [self.host, self.port, true];
      for (const c of m.coordinators) {
        if (moved(c.host, c.port)) [c.host, c.port, changed] = [self.host, self.port, true];
      }
      break;
    }
    case 60: {
      const m = d.body as DescribeClusterResponse;
      for (const b of m.brokers) {
        if (moved(b.host, b.port)) [b.host, b.port, changed] = [self.host, self.port, true];
      }
      break;
    }
    case API_VERSIONS_KEY: {
      if (!opts.cap) return null;
      const m = d.body as ApiVersionsResponse;
      m.apiKeys = capVersions(m.apiKeys, opts.oldest);
      changed = true;
      break;
    }
  }
  return changed ? encodeResponseFrame(d) : null;
}

const REWRITTEN = new Set([3, 10, 60, API_VERSIONS_KEY]);

/** The ApiVersions v0 fallback our broker sends to a too-new ApiVersions request. */
function apiVersionsFallback(correlationId: number, ranges: ApiRange[]): Uint8Array {
  const codec = codecFor(API_VERSIONS_KEY)!;
  const w = new Writer(512);
  w.int32(correlationId);
  const body: ApiVersionsResponse = {
    errorCode: 35, // UNSUPPORTED_VERSION
    apiKeys: ranges,
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
  codec.encodeResponse(w, body as never, 0);
  return w.bytes().slice();
}

/** Asks the broker for its ApiVersions (v3) once, for the fallback answer. */
async function brokerVersions(upstream: Endpoint): Promise<ApiRange[]> {
  const conn = await Deno.connect({ hostname: upstream.host, port: upstream.port });
  try {
    const codec = codecFor(API_VERSIONS_KEY)! as unknown as ApiCodec<
      ApiVersionsRequest,
      ApiVersionsResponse
    >;
    const request = encodeRequestFrame(codec, {
      apiKey: API_VERSIONS_KEY,
      apiVersion: 3,
      correlationId: 1,
      clientId: "capture-proxy",
    }, {
      clientSoftwareName: "capture-proxy",
      clientSoftwareVersion: "1",
      clusterId: null,
      nodeId: -1,
    });
    await writeAll(conn, request);
    const frame = await new FrameReader(conn).next();
    if (frame === null) throw new Error("broker closed the connection");
    return decodeFramedResponse(codec, 3, frame).body.apiKeys;
  } finally {
    conn.close();
  }
}

/** Runs the proxy until `signal` aborts. */
export async function runProxy(opts: ProxyOptions, signal: AbortSignal): Promise<void> {
  const log = new CaptureLog(opts.outDir);
  const kafkaRanges = await brokerVersions(opts.upstream);
  const capped = capVersions(kafkaRanges, opts.oldest);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: opts.listenPort });
  const self: Endpoint = { host: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port };
  const conns = new Set<Deno.Conn>();
  signal.addEventListener("abort", () => {
    listener.close();
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  });
  console.log(`listening ${self.port}`);
  let connId = 0;
  const sessions: Promise<void>[] = [];
  try {
    for await (const client of listener) {
      const id = connId++;
      sessions.push(session(id, client));
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  }
  await Promise.allSettled(sessions);
  log.close();

  async function session(id: number, client: Deno.Conn): Promise<void> {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: opts.upstream.host, port: opts.upstream.port });
    } catch (e) {
      console.error(`capture_proxy: connection ${id}: upstream connect failed: ${e}`);
      client.close();
      return;
    }
    conns.add(client);
    conns.add(upstream);
    const pending = new Map<
      number,
      { apiKey: number; apiVersion: number; clientId: string | null }
    >();
    // Writes to the client come from two places (the broker, the ApiVersions fallback).
    let toClient = Promise.resolve();
    const sendToClient = (bytes: Uint8Array) => {
      toClient = toClient.then(() => writeAll(client, bytes));
      return toClient;
    };
    const closeBoth = () => {
      for (const c of [client, upstream]) {
        try {
          c.close();
        } catch { /* closed */ }
        conns.delete(c);
      }
    };

    const up = (async () => {
      const reader = new FrameReader(client);
      for (;;) {
        const frame = await reader.next();
        if (frame === null) break;
        const h = peekRequestHeader(frame);
        log.record({ conn: id, dir: "request", ...h }, frame);
        const codec = codecFor(h.apiKey);
        if (
          opts.cap && h.apiKey === API_VERSIONS_KEY && codec && h.apiVersion > codec.maxVersion
        ) {
          const answer = apiVersionsFallback(h.correlationId, capped);
          log.record({
            conn: id,
            dir: "response",
            apiKey: h.apiKey,
            apiVersion: 0,
            correlationId: h.correlationId,
            clientId: h.clientId,
            synthesized: true,
          }, answer);
          await sendToClient(withSizePrefix(answer));
          continue;
        }
        pending.set(h.correlationId, h);
        await writeAll(upstream, withSizePrefix(frame));
      }
    })();

    const down = (async () => {
      const reader = new FrameReader(upstream);
      for (;;) {
        const frame = await reader.next();
        if (frame === null) break;
        const correlationId = peekCorrelationId(frame);
        const req = pending.get(correlationId);
        pending.delete(correlationId);
        if (!req) {
          console.error(
            `capture_proxy: connection ${id}: response ${correlationId} matches no request`,
          );
          log.record({
            conn: id,
            dir: "response",
            apiKey: -1,
            apiVersion: -1,
            correlationId,
            clientId: null,
          }, frame);
          await sendToClient(withSizePrefix(frame));
          continue;
        }
        let out = frame;
        let rewritten = false;
        if (REWRITTEN.has(req.apiKey) && codecFor(req.apiKey)) {
          const c = codecFor(req.apiKey)!;
          const version = req.apiVersion;
          if (req.apiKey === API_VERSIONS_KEY && version > c.maxVersion) {
            // Only with --no-cap (capping, the proxy answers these itself): the broker knows
            // the version and answers in it; there is nothing to rewrite.
          } else if (version >= c.minVersion && version <= c.maxVersion) {
            const rt = roundTrip("response", frame, req.apiKey, version);
            if (!rt.ok) {
              log.finding({
                conn: id,
                apiKey: req.apiKey,
                api: c.name,
                apiVersion: version,
                correlationId,
                clientId: req.clientId,
                problem: rt.problem,
              });
            }
            try {
              const next = rewriteResponse(frame, req.apiKey, version, opts, self);
              if (next !== null) [out, rewritten] = [next, true];
            } catch (e) {
              log.finding({
                conn: id,
                apiKey: req.apiKey,
                api: c.name,
                apiVersion: version,
                problem: `rewrite failed: ${(e as Error).message}`,
              });
            }
          } else {
            log.finding({
              conn: id,
              apiKey: req.apiKey,
              api: c.name,
              apiVersion: version,
              problem: "version outside our codec: addresses not rewritten",
            });
          }
        }
        log.record({
          conn: id,
          dir: "response",
          apiKey: req.apiKey,
          apiVersion: req.apiVersion,
          correlationId,
          clientId: req.clientId,
          ...(rewritten ? { rewritten } : {}),
        }, frame);
        await sendToClient(withSizePrefix(out));
      }
    })();

    await Promise.race([up.catch(() => {}), down.catch(() => {})]);
    closeBoth();
    await Promise.allSettled([up, down, toClient]);
  }
}

function parseArgs(argv: string[]): ProxyOptions {
  const flags = new Map<string, string>();
  let cap = true;
  let oldest = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--no-cap") cap = false;
    else if (argv[i] === "--oldest") oldest = true;
    else if (argv[i].startsWith("--") && i + 1 < argv.length) {
      flags.set(argv[i].slice(2), argv[++i]);
    } else throw new Error(`unexpected argument ${argv[i]}`);
  }
  const upstream = flags.get("upstream") ?? "127.0.0.1:49092";
  const [host, port] = upstream.split(":");
  const out = flags.get("out");
  if (!out) throw new Error("--out DIR is required");
  return {
    listenPort: Number(flags.get("listen") ?? "49192"),
    upstream: { host, port: Number(port) },
    outDir: out,
    cap,
    oldest,
  };
}

if (import.meta.main) {
  const opts = parseArgs(Deno.args);
  const ac = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => ac.abort());
  }
  await runProxy(opts, ac.signal);
  Deno.exit(0);
}
