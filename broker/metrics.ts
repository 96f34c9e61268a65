/**
 * Counters, gauges and histograms the broker keeps, rendered in Prometheus'
 * text exposition format (0.0.4) by `/metrics` (broker/http.ts). Durations are
 * in seconds and sizes in bytes, as Prometheus' naming conventions ask.
 */

import { VERSION } from "../version.ts";

/** Request and store latency buckets, in seconds. */
const SECONDS_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** Finer buckets for the produce path's stages (broker/produce_pipeline.ts), in seconds. */
const STAGE_BUCKETS = [
  0.001,
  0.002,
  0.005,
  0.01,
  0.015,
  0.02,
  0.025,
  0.03,
  0.04,
  0.05,
  0.06,
  0.07,
  0.08,
  0.09,
  0.1,
  0.12,
  0.14,
  0.16,
  0.18,
  0.2,
  0.25,
  0.3,
  0.4,
  0.5,
  0.75,
  1,
  2.5,
  5,
  10,
];

/** Flush size buckets, in bytes (1 KiB to 64 MiB). */
const BYTES_BUCKETS = [1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** A histogram with fixed buckets (non-cumulative counts; cumulated when rendered). */
class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: number[]) {
    this.counts = new Array(buckets.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (v <= this.buckets[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

/** Escapes a label value (backslash, double quote, newline). */
function labelValue(v: string | number): string {
  return String(v).replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** Renders label pairs as `a="x",b="y"`. */
function labels(pairs: Record<string, string | number>): string {
  return Object.entries(pairs).map(([k, v]) => `${k}="${labelValue(v)}"`).join(",");
}

/** A metric's label text and histogram, found once per label pair. */
interface Series {
  key: string;
  histogram: Histogram;
}

function cached(m: Map<string, Series>, k: string, make: () => Series): Series {
  let c = m.get(k);
  if (c === undefined) m.set(k, c = make());
  return c;
}

function bump(m: Map<string, number>, k: string, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/**
 * A gauge read when `/metrics` is scraped: one value, or one value per label
 * set (keys written as `state="Stable"`).
 */
export type GaugeCallback = () => number | Record<string, number>;

/** The broker's metrics. */
export class Metrics {
  /** Requests by `api_key`, `api` and `version` labels. */
  requests: Map<string, number> = new Map();
  /** Requests whose handler failed (the connection was closed), same labels. */
  errors: Map<string, number> = new Map();
  /** Request handling time by `api_key` and `api`. */
  latency: Map<string, Histogram> = new Map();
  bytesIn: number = 0;
  bytesOut: number = 0;
  recordsProduced: number = 0;
  recordsFetched: number = 0;
  connections: number = 0;
  connectionsAccepted: number = 0;
  /** Connections closed on arrival: over --max-connections or --max-connections-per-ip. */
  connectionsRefused: number = 0;
  /** Connections closed after --connections-max-idle-ms without a complete request. */
  connectionsIdleClosed: number = 0;
  /** Connections closed because their client read no response bytes for --connections-max-idle-ms. */
  connectionsStalledClosed: number = 0;
  /** Connections closed because a request went unanswered past its deadline (--request-timeout-ms). */
  requestsTimedOut: number = 0;
  /** Bytes held for requests in flight and responses not yet written (queued.max.request.bytes). */
  queuedBytes: () => number = () => 0;
  /** Store failures a handler turned into a Kafka error code, by store and step. */
  storeErrors: Map<string, number> = new Map();
  private readonly storeKeys = new Map<string, Series>();
  private readonly requestKeys = new Map<string, Series>();
  /** Every store operation's time, by store and operation (timed by the store guard, store_guard.ts). */
  storeLatency: Map<string, Histogram> = new Map();
  /** Store operations that threw or rejected, by store and operation. */
  storeOpErrors: Map<string, number> = new Map();
  /** Flushes of the produce buffer: bytes written, batches, time, failures. */
  flushBytes: Histogram = new Histogram(BYTES_BUCKETS);
  flushDuration: Histogram = new Histogram(SECONDS_BUCKETS);
  flushedBatches: number = 0;
  flushErrors: number = 0;
  /** Where produce requests' time went in the flush buffer, by `stage` label. */
  produceStages: Map<string, Histogram> = new Map();
  /** Flushes by why they started (`reason` label). */
  flushStarts: Map<string, number> = new Map();
  /** The log cleaner (compacted topics): bytes read and written, records removed. */
  cleanerBytesRead: number = 0;
  cleanerBytesWritten: number = 0;
  cleanerRecordsRemoved: number = 0;
  /** When the broker started, in seconds since the epoch. */
  startTime: number = Date.now() / 1000;
  /**
   * Extra gauges read at render time (cache bytes, consumer groups and members,
   * ...). The name is the metric name; set it once at start.
   */
  gauges: Map<string, GaugeCallback> = new Map();
  /** Help lines for entries of {@link gauges} (optional). */
  gaugeHelp: Map<string, string> = new Map();

  /** Counts one request and its handling time in milliseconds. */
  request(api: string, version: number, ms: number, failed: boolean, apiKey = -1): void {
    const c = cached(this.requestKeys, `${apiKey}:${api}:${version}`, () => {
      const hk = labels({ api_key: apiKey, api });
      let h = this.latency.get(hk);
      if (!h) this.latency.set(hk, h = new Histogram(SECONDS_BUCKETS));
      return { key: labels({ api_key: apiKey, api, version }), histogram: h };
    });
    bump(this.requests, c.key);
    if (failed) bump(this.errors, c.key);
    c.histogram.observe(ms / 1000);
  }

  /** Counts a store failure a handler answered with a Kafka error code. */
  storeError(store: string, op: string): void {
    bump(this.storeErrors, labels({ store, op }));
  }

  /** Times one store operation (milliseconds). */
  storeOperation(store: string, op: string, ms: number, failed: boolean): void {
    // Called for every store call: the label text and histogram are looked up once per pair.
    const c = cached(this.storeKeys, `${store}:${op}`, () => {
      const key = labels({ store, op });
      let h = this.storeLatency.get(key);
      if (!h) this.storeLatency.set(key, h = new Histogram(SECONDS_BUCKETS));
      return { key, histogram: h };
    });
    c.histogram.observe(ms / 1000);
    if (failed) bump(this.storeOpErrors, c.key);
  }

  /**
   * Records why a flush started and, per produce request in it, where its time
   * went in the flush buffer (milliseconds by stage, broker/produce_pipeline.ts).
   */
  flushStages(reason: string, requests: Record<string, number>[]): void {
    bump(this.flushStarts, labels({ reason }));
    for (const r of requests) {
      for (const stage in r) {
        let h = this.produceStages.get(stage);
        if (!h) this.produceStages.set(stage, h = new Histogram(STAGE_BUCKETS));
        h.observe(r[stage] / 1000);
      }
    }
  }

  /** Records one flush of the produce buffer. */
  flush(bytes: number, batches: number, ms: number, failed: boolean): void {
    this.flushBytes.observe(bytes);
    this.flushDuration.observe(ms / 1000);
    this.flushedBatches += batches;
    if (failed) this.flushErrors++;
  }

  /** Counts one partition's completed cleaning. */
  cleaned(bytesRead: number, bytesWritten: number, recordsRemoved: number): void {
    this.cleanerBytesRead += bytesRead;
    this.cleanerBytesWritten += bytesWritten;
    this.cleanerRecordsRemoved += recordsRemoved;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    const head = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const counterMap = (name: string, help: string, m: Map<string, number>) => {
      head(name, "counter", help);
      for (const [l, v] of m) out.push(`${name}{${l}} ${v}`);
    };
    const single = (name: string, type: string, help: string, v: number) => {
      head(name, type, help);
      out.push(`${name} ${v}`);
    };
    const histogramLines = (name: string, l: string, h: Histogram) => {
      const sep = l ? "," : "";
      let cum = 0;
      h.buckets.forEach((b, i) => {
        cum += h.counts[i];
        out.push(`${name}_bucket{${l}${sep}le="${b}"} ${cum}`);
      });
      out.push(`${name}_bucket{${l}${sep}le="+Inf"} ${h.count}`);
      out.push(`${name}_sum${l ? `{${l}}` : ""} ${h.sum}`);
      out.push(`${name}_count${l ? `{${l}}` : ""} ${h.count}`);
    };
    const histogramMap = (name: string, help: string, m: Map<string, Histogram>) => {
      head(name, "histogram", help);
      for (const [l, h] of m) histogramLines(name, l, h);
    };

    head("skb_build_info", "gauge", "Version, Deno version and git revision of this build.");
    out.push(
      `skb_build_info{${
        labels({ version: VERSION.version, deno: Deno.version.deno, revision: VERSION.revision })
      }} 1`,
    );
    single(
      "skb_start_time_seconds",
      "gauge",
      "When the broker started, in seconds since the epoch.",
      this.startTime,
    );
    counterMap("skb_requests_total", "Requests handled, by API key and version.", this.requests);
    counterMap(
      "skb_request_errors_total",
      "Requests whose handler failed (the connection was closed), by API key and version.",
      this.errors,
    );
    histogramMap(
      "skb_request_duration_seconds",
      "Request handling time, by API key.",
      this.latency,
    );
    single("skb_bytes_in_total", "counter", "Request bytes read, frames included.", this.bytesIn);
    single(
      "skb_bytes_out_total",
      "counter",
      "Response bytes written, frames included.",
      this.bytesOut,
    );
    single(
      "skb_records_produced_total",
      "counter",
      "Records committed by Produce.",
      this.recordsProduced,
    );
    single("skb_records_fetched_total", "counter", "Records served by Fetch.", this.recordsFetched);
    single("skb_connections", "gauge", "Open client connections.", this.connections);
    single(
      "skb_connections_accepted_total",
      "counter",
      "Client connections accepted.",
      this.connectionsAccepted,
    );
    single(
      "skb_connections_refused_total",
      "counter",
      "Client connections closed on arrival, over --max-connections or --max-connections-per-ip.",
      this.connectionsRefused,
    );
    single(
      "skb_connections_idle_closed_total",
      "counter",
      "Client connections closed after --connections-max-idle-ms without a complete request.",
      this.connectionsIdleClosed,
    );
    single(
      "skb_connections_stalled_closed_total",
      "counter",
      "Client connections closed after --connections-max-idle-ms without reading a response byte.",
      this.connectionsStalledClosed,
    );
    single(
      "skb_requests_timed_out_total",
      "counter",
      "Requests unanswered past --request-timeout-ms beyond their own wait; each closed its connection.",
      this.requestsTimedOut,
    );
    const memory = Deno.memoryUsage();
    single("skb_resident_memory_bytes", "gauge", "The process's resident memory.", memory.rss);
    single("skb_heap_used_bytes", "gauge", "JavaScript heap in use.", memory.heapUsed);
    single(
      "skb_external_memory_bytes",
      "gauge",
      "Memory held outside the JavaScript heap (record bytes, buffers).",
      memory.external,
    );
    single(
      "skb_queued_bytes",
      "gauge",
      "Bytes held for requests in flight and responses not yet written (--queued-max-request-bytes).",
      this.queuedBytes(),
    );
    head("skb_flush_bytes", "histogram", "Bytes written to the log store per flush.");
    histogramLines("skb_flush_bytes", "", this.flushBytes);
    head(
      "skb_flush_duration_seconds",
      "histogram",
      "Time per flush: log store write plus meta store commit.",
    );
    histogramLines("skb_flush_duration_seconds", "", this.flushDuration);
    head(
      "skb_produce_stage_seconds",
      "histogram",
      "Produce requests' time in the flush buffer, by stage: linger, slot (waiting for a write slot), write, commit_wait, commit, total.",
    );
    for (const [stage, h] of this.produceStages) {
      histogramLines("skb_produce_stage_seconds", labels({ stage }), h);
    }
    counterMap(
      "skb_flush_starts_total",
      "Flushes by why they started: bytes, linger, windows (every producer's window waiting), slot (a write slot freed), drain, immediate.",
      this.flushStarts,
    );
    single(
      "skb_flushed_batches_total",
      "counter",
      "Record batches written by flushes.",
      this.flushedBatches,
    );
    single(
      "skb_flush_errors_total",
      "counter",
      "Flushes that failed (producers got a retriable error).",
      this.flushErrors,
    );
    single(
      "skb_cleaner_read_bytes_total",
      "counter",
      "Bytes of record batches the log cleaner read (compacted topics).",
      this.cleanerBytesRead,
    );
    single(
      "skb_cleaner_written_bytes_total",
      "counter",
      "Bytes of record batches the log cleaner wrote again.",
      this.cleanerBytesWritten,
    );
    single(
      "skb_cleaner_removed_records_total",
      "counter",
      "Records the log cleaner removed (older values of a key, expired tombstones).",
      this.cleanerRecordsRemoved,
    );
    histogramMap(
      "skb_store_operation_duration_seconds",
      "Store operation time, by store and operation.",
      this.storeLatency,
    );
    counterMap(
      "skb_store_operation_errors_total",
      "Store operations that failed, by store and operation.",
      this.storeOpErrors,
    );
    counterMap(
      "skb_store_errors_total",
      "Store failures answered with a Kafka error code, by store and handler step.",
      this.storeErrors,
    );
    for (const [name, f] of this.gauges) {
      let v: number | Record<string, number>;
      try {
        v = f();
      } catch {
        continue; // a gauge that cannot be read is left out rather than failing the scrape
      }
      head(name, "gauge", this.gaugeHelp.get(name) ?? `${name.replaceAll("_", " ")}.`);
      if (typeof v === "number") out.push(`${name} ${v}`);
      else for (const [l, x] of Object.entries(v)) out.push(`${name}{${l}} ${x}`);
    }
    return out.join("\n") + "\n";
  }
}
