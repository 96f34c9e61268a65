/**
 * A running broker: the TCP listener and its connections, the handler table,
 * the operations endpoint and the periodic sweeps, over the broker's services
 * (broker/context.ts). Everything durable is in the stores; this object only
 * holds what can be rebuilt at start.
 */

import { getLogger } from "@logtape/logtape";
import type { LogStore, MetaStore } from "../stores/types.ts";
import { type BrokerConfig, DEFAULT_BROKER_CONFIG } from "../broker/config.ts";
import { type BrokerContext, createBrokerContext } from "../broker/context.ts";
import { type HttpServer, startHttpServer } from "../broker/http.ts";
import { enforceRetention } from "../broker/retention.ts";
import { BrokerRegistry } from "../broker/registry.ts";
import { LogCleaner, type PartitionCleaned } from "../broker/cleaner.ts";
import { watchLogSpace } from "../broker/space.ts";
import { ObjectConsolidator, type PartitionConsolidated } from "../broker/consolidator.ts";
import { handlerTable } from "../handlers/dispatch.ts";
import type { Handler } from "../handlers/types.ts";
import { serveConnection, type ServerContext } from "./connection.ts";
import { type Listener, usesTls } from "../broker/security_config.ts";
import { TlsMaterialWatch } from "./tls.ts";
import { listenTls } from "./listener_tls.ts";
import { ConnectionLimits } from "./connection_limits.ts";
import { BufferBudget } from "./buffer_budget.ts";
import { ConnectionWatch } from "./connection_watch.ts";
import { leftOut, LogBudget } from "./log_budget.ts";

const log = getLogger(["skb", "broker"]);

/** How to start a broker in-process. */
export interface BrokerOptions extends Partial<BrokerConfig> {
  meta: MetaStore;
  log: LogStore;
  /** Bytes of recent log data kept in memory for tail readers (default 64 MiB). */
  blobCacheBytes?: number;
  /** How often unreferenced log data is swept (default 60 s; 0 = never). */
  sweepIntervalMs?: number;
  /** How often the log cleaner looks at compacted topics (default 15 s, log.cleaner.backoff.ms; 0 = never). */
  cleanerIntervalMs?: number;
  /** How long a broker's claim on a partition it cleans lasts without renewal (default 60 s). */
  cleanerLeaseMs?: number;
  /**
   * How often small objects of per-object log stores (s3:) are consolidated
   * (default 60 s; 0 = never; other stores never need it).
   */
  consolidateIntervalMs?: number;
  /** Only offsets below a high watermark seen this long ago are consolidated (default 60 s). */
  consolidateMinAgeMs?: number;
  /** Port of the operations endpoint (/metrics, /healthz, /readyz); off when null or unset. */
  httpPort?: number | null;
  /** Address of the operations endpoint (default: the broker's host). */
  httpHost?: string;
  /** How long /readyz waits for a store ping (default 2000 ms). */
  readyTimeoutMs?: number;
  /** A transaction ending (Prepare*) left this long is finished by any broker (default 10 s). */
  txnTakeoverMs?: number;
  /**
   * Test-only: the transaction coordinator stops for good right after EndTxn's
   * Prepare write ("prepared") or after an ending's markers ("markers"),
   * printing `skb test pause: <point> <transactional id>` to stderr, so a
   * test can SIGKILL the broker inside that window (main.ts reads it from
   * SKB_TEST_TXN_PAUSE). Never set it in production.
   */
  txnTestPause?: "prepared" | "markers" | null;
  /** How often the TLS files' mtimes are checked for a new certificate (default 5 s; 0 = never). */
  tlsPollMs?: number;
}

/** A listener that is serving (the real port when 0 was asked for). */
export interface ListenerAddress {
  name: string;
  protocol: Listener["protocol"];
  hostname: string;
  port: number;
}

interface OpenListener extends ListenerAddress {
  /** Stops accepting. */
  close(): void;
  /** Resolves when the accept loop has ended. */
  accepting: Promise<void>;
  /** Ends sockets the connection loops do not own (TLS handshakes in progress). */
  destroy(): void;
}

/** A broker that is serving. */
export interface Broker {
  /** Where the first listener listens (the real port when 0 was asked for). */
  readonly hostname: string;
  readonly port: number;
  /** Every listener, in the order of --listeners. */
  readonly listeners: readonly ListenerAddress[];
  readonly clusterId: string;
  /** Where the operations endpoint listens, or null when it is off. */
  readonly httpPort: number | null;
  readonly context: BrokerContext;
  /** The handler table this broker serves (ApiVersions lists exactly it). */
  readonly handlers: ReadonlyMap<number, Handler>;
  /**
   * Stops accepting, finishes the requests in flight, flushes, and closes the
   * stores. Gives up waiting after `timeoutMs`.
   */
  close(timeoutMs?: number): Promise<void>;
  /** Removes log data no index entry points to; returns how many blobs went. */
  sweep(graceMs?: number): Promise<number>;
  /** One log-cleaner pass over the compacted topics; what it cleaned. */
  clean(): Promise<PartitionCleaned[]>;
  /** One consolidation pass over the partitions (s3: only; nothing elsewhere); what it did. */
  consolidate(): Promise<PartitionConsolidated[]>;
}

/** Starts a broker on the given stores; they are pinged first. */
export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const config: BrokerConfig = { ...DEFAULT_BROKER_CONFIG };
  for (const [k, v] of Object.entries(opts)) {
    if (k in config && v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  }
  const closing = new AbortController();
  const ctx = await createBrokerContext(config, {
    meta: opts.meta,
    log: opts.log,
    blobCacheBytes: opts.blobCacheBytes ?? 64 * 1024 * 1024,
    closing: closing.signal,
  });
  const { meta, log: logStore, metrics, pipeline } = ctx;
  if (opts.txnTakeoverMs !== undefined) ctx.transactions.cfg.takeoverMs = opts.txnTakeoverMs;
  const pauseAt = opts.txnTestPause ?? null;
  if (pauseAt !== null) {
    ctx.transactions.cfg.testPause = (point, tid) => {
      if (point !== pauseAt) return Promise.resolve();
      console.error(`skb test pause: ${point} ${tid}`);
      return new Promise<void>(() => {});
    };
  }
  // A bounded log store (memory:?max-bytes=) frees space through the meta store when full.
  watchLogSpace(opts.log, meta, metrics);
  const server: ServerContext = {
    broker: ctx,
    handlers: handlerTable(),
    connections: new Set(),
    budget: new BufferBudget(config.queuedMaxRequestBytes),
    watch: new ConnectionWatch(
      ConnectionWatch.periodFor(config.connectionsMaxIdleMs, config.requestTimeoutMs),
    ),
    // Ten lines per kind per ten seconds: a broker under attack must not flood its log.
    logs: new LogBudget(10, 10_000),
  };
  metrics.queuedBytes = () => server.budget.held;

  const serving = new Set<Promise<void>>();
  const limits = new ConnectionLimits(config.maxConnections, config.maxConnectionsPerIp);
  const serve = (conn: Parameters<typeof serveConnection>[0], l: Listener) => {
    metrics.connectionsAccepted++;
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    const over = limits.admit(address);
    if (over !== null) {
      metrics.connectionsRefused++;
      server.logs.maybe(
        "refused-connection",
        (left) =>
          log.warn("Closing a new connection from {address}: {over}{more}", {
            address,
            over,
            more: leftOut(left),
          }),
      );
      try {
        conn.close();
      } catch { /* closed already */ }
      return;
    }
    const p = serveConnection(conn, server, l).finally(() => {
      limits.release(address);
      serving.delete(p);
    });
    serving.add(p);
  };
  const specs: Listener[] = config.security.listeners.length > 0
    ? config.security.listeners
    : [{ name: "PLAINTEXT", protocol: "PLAINTEXT", host: config.host, port: config.port }];
  let tlsWatch: TlsMaterialWatch | null = null;
  if (specs.some((l) => usesTls(l.protocol))) {
    if (config.security.tls === null) {
      throw new Error("SSL and SASL_SSL listeners need --tls-cert and --tls-key (PEM files)");
    }
    tlsWatch = new TlsMaterialWatch(config.security.tls, opts.tlsPollMs ?? 5000);
  }
  const opened: OpenListener[] = [];
  const closeListeners = () => {
    for (const l of opened) l.close();
  };
  try {
    for (const spec of specs) {
      opened.push(await openListener(spec, tlsWatch, serve, closing.signal));
    }
  } catch (e) {
    closeListeners();
    tlsWatch?.stop();
    throw e;
  }
  const first = opened[0];
  const listener = { close: closeListeners };
  if (config.clusterShape === "addressable") {
    const endpoints: Record<string, { host: string; port: number }> = {};
    for (const l of opened) {
      const e = advertisedEndpoint(config, l);
      if (e === null) {
        listener.close();
        tlsWatch?.stop();
        throw new Error(
          `The addressable cluster shape needs an advertised address for listener ${l.name} (--advertised-listeners, or --advertised-host for PLAINTEXT): other brokers list this one by it, and ${l.hostname} is not an address clients can use`,
        );
      }
      endpoints[l.name] = e;
    }
    ctx.registry = new BrokerRegistry(meta, {
      nodeId: config.nodeId,
      // The lease keeps one address, the one older brokers (PLAINTEXT only) list.
      ...(endpoints.PLAINTEXT ?? endpoints[first.name]),
      rack: config.rack,
      endpoints,
    });
    try {
      await ctx.registry.start();
    } catch (e) {
      listener.close();
      throw e;
    }
  }
  let http: HttpServer | null = null;
  if (opts.httpPort !== undefined && opts.httpPort !== null) {
    const httpHost = opts.httpHost ?? config.host;
    try {
      http = startHttpServer({
        hostname: httpHost,
        port: opts.httpPort,
        metrics,
        meta,
        log: logStore,
        readyTimeoutMs: opts.readyTimeoutMs ?? 2000,
        closing: closing.signal,
        // The addressable shape also needs a live lease in the broker registry.
        registered: () => ctx.registry?.registered ?? null,
      });
    } catch (e) {
      listener.close();
      tlsWatch?.stop();
      await ctx.registry?.stop();
      if (e instanceof Deno.errors.AddrInUse) {
        throw new Error(
          `HTTP port ${opts.httpPort} on ${httpHost} is already in use; stop the other process or pass --http-port`,
        );
      }
      throw e;
    }
  }
  const accepting = Promise.all(opened.map((l) => l.accepting));

  const sweep = async (graceMs = 5 * 60 * 1000) => {
    await enforceRetention(meta, Date.now());
    const referenced = await meta.referencedBlobs();
    return await logStore.sweep(referenced, graceMs);
  };
  const sweepEvery = opts.sweepIntervalMs ?? 60_000;
  const sweeper = sweepEvery > 0
    ? setInterval(() => {
      sweep().then((n) => {
        if (n > 0) log.info("Swept {n} unreferenced log blobs", { n });
      }).catch((e) => log.warn("Sweep failed: {error}", { error: e }));
    }, sweepEvery)
    : null;
  // Compacted topics (any broker may clean any partition; a lease keeps it to one at a time).
  const cleaner = new LogCleaner({
    meta,
    log: logStore,
    metrics,
    owner: `${config.nodeId}-${crypto.randomUUID()}`,
  }, { leaseMs: opts.cleanerLeaseMs ?? 60_000, windowBytes: 16 * 1024 * 1024 });
  // One pass at a time; close() waits for the one running.
  let cleaning: Promise<unknown> | null = null;
  const clean = async () => {
    while (cleaning !== null) await cleaning;
    const pass = cleaner.runOnce();
    const running = pass.catch(() => {}).finally(() => {
      if (cleaning === running) cleaning = null;
    });
    cleaning = running;
    return await pass;
  };
  const cleanEvery = opts.cleanerIntervalMs ?? 15_000;
  const cleanerTimer = cleanEvery > 0
    ? setInterval(() => {
      if (cleaning !== null) return;
      clean().then((done) => {
        for (const r of done) {
          log.info("Cleaned {topic}-{partition}: {removed} records removed", {
            topic: r.topic,
            partition: r.partition,
            removed: r.recordsRemoved,
          });
        }
      }).catch((e) => log.warn("Cleaner pass failed: {error}", { error: e }));
    }, cleanEvery)
    : null;
  // Small objects of s3: logs, under the cleaner's lease (its own owner id, so the
  // two never hold one partition at once even in one process).
  const consolidator = new ObjectConsolidator({
    meta,
    log: logStore,
    owner: `${config.nodeId}-${crypto.randomUUID()}-consolidator`,
  }, { leaseMs: opts.cleanerLeaseMs ?? 60_000, minAgeMs: opts.consolidateMinAgeMs });
  let consolidating: Promise<unknown> | null = null;
  const consolidate = async () => {
    while (consolidating !== null) await consolidating;
    const pass = consolidator.runOnce();
    const running = pass.catch(() => {}).finally(() => {
      if (consolidating === running) consolidating = null;
    });
    consolidating = running;
    return await pass;
  };
  const consolidateEvery = opts.consolidateIntervalMs ?? 60_000;
  const consolidatorTimer = consolidateEvery > 0 && consolidator.applies
    ? setInterval(() => {
      if (consolidating !== null) return;
      consolidate().then((done) => {
        for (const r of done) {
          log.info("Consolidated {topic}-{partition}: {pieces} objects into {runs}", {
            topic: r.topic,
            partition: r.partition,
            pieces: r.piecesMerged,
            runs: r.runs,
          });
        }
      }).catch((e) => log.warn("Consolidation pass failed: {error}", { error: e }));
    }, consolidateEvery)
    : null;
  // Session expiry and rebalance deadlines of groups nobody is talking to (any broker may).
  const groupSweeper = setInterval(() => {
    ctx.groups.sweep().catch((e) => log.warn("Group sweep failed: {error}", { error: e }));
    // Transactions past their timeout, and endings a broker left half done (any broker may).
    ctx.transactions.sweep().catch((e) =>
      log.warn("Transaction sweep failed: {error}", { error: e })
    );
  }, 1000);

  let closed: Promise<void> | null = null;
  const close = (timeoutMs = 30_000) => {
    closed ??= (async () => {
      if (sweeper !== null) clearInterval(sweeper);
      if (cleanerTimer !== null) clearInterval(cleanerTimer);
      if (consolidatorTimer !== null) clearInterval(consolidatorTimer);
      clearInterval(groupSweeper);
      closing.abort();
      listener.close();
      tlsWatch?.stop();
      await ctx.registry?.stop();
      await accepting;
      const graceful = (async () => {
        // Flush what is buffered now rather than after the linger time.
        const flushing = pipeline.drain();
        await Promise.all([...server.connections].map((d) => d()));
        await flushing;
        await Promise.all(serving);
        await pipeline.drain();
        for (const l of opened) l.destroy();
      })();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        log.warn("Shutdown deadline of {ms} ms passed; closing anyway", { ms: timeoutMs });
      }
      await http?.close();
      await cleaning;
      await consolidating;
      await logStore.close();
      await meta.close();
    })();
    return closed;
  };

  return {
    hostname: first.hostname,
    port: first.port,
    listeners: opened.map(({ name, protocol, hostname, port }) => ({
      name,
      protocol,
      hostname,
      port,
    })),
    clusterId: ctx.clusterId,
    httpPort: http?.port ?? null,
    context: ctx,
    handlers: server.handlers,
    close,
    sweep,
    clean,
    consolidate,
  };
}

/**
 * Where other brokers list this one on a listener (the addressable shape):
 * its --advertised-listeners entry, else on PLAINTEXT --advertised-host and
 * --advertised-port, else the address it is bound to unless that is a
 * wildcard; null when there is none clients could use.
 */
function advertisedEndpoint(
  config: BrokerConfig,
  l: ListenerAddress,
): { host: string; port: number } | null {
  const advertised = config.security.advertisedListeners.find((a) => a.name === l.name);
  if (advertised !== undefined) return { host: advertised.host, port: advertised.port };
  const short = l.name === "PLAINTEXT";
  const wildcard = l.hostname === "0.0.0.0" || l.hostname === "::";
  const host = (short ? config.advertisedHost : null) ?? (wildcard ? null : l.hostname);
  if (host === null) return null;
  return { host, port: (short ? config.advertisedPort : null) ?? l.port };
}

/** Opens one listener: plain TCP, or TLS for SSL and SASL_SSL. */
async function openListener(
  spec: Listener,
  tlsWatch: TlsMaterialWatch | null,
  serve: (conn: Parameters<typeof serveConnection>[0], l: Listener) => void,
  closing: AbortSignal,
): Promise<OpenListener> {
  if (usesTls(spec.protocol)) {
    const l = await listenTls({
      name: spec.name,
      hostname: spec.host,
      port: spec.port,
      material: tlsWatch!,
      clientAuth: spec.protocol === "SSL",
      onConnection: (t) => serve(t, { ...spec, port: l.port }),
    });
    return {
      name: spec.name,
      protocol: spec.protocol,
      hostname: l.hostname,
      port: l.port,
      close: () => l.close(),
      accepting: Promise.resolve(),
      destroy: () => l.destroy(),
    };
  }
  let tcp: Deno.TcpListener;
  try {
    tcp = Deno.listen({ hostname: spec.host, port: spec.port, transport: "tcp" });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new Error(
        `Port ${spec.port} on ${spec.host} (listener ${spec.name}) is already in use; stop the other process or change --port or --listeners`,
      );
    }
    throw e;
  }
  const addr = tcp.addr as Deno.NetAddr;
  const bound: Listener = { ...spec, port: addr.port };
  const accepting = (async () => {
    try {
      for await (const conn of tcp) {
        conn.setNoDelay(true);
        serve(conn, bound);
      }
    } catch (e) {
      if (!closing.aborted) log.error("Accept loop failed: {error}", { error: e });
    }
  })();
  return {
    name: spec.name,
    protocol: spec.protocol,
    hostname: addr.hostname,
    port: addr.port,
    close: () => {
      try {
        tcp.close();
      } catch { /* already closed */ }
    },
    accepting,
    destroy: () => {},
  };
}
