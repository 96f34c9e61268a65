/**
 * Brokers sharing stores: throughput and latency of one, two and three broker processes on one
 * meta store and one log store (issue 4).
 *
 *   deno task bench:shared               the full run: 3 rounds, medians (about 10 minutes here)
 *   deno task bench:shared --scale 0.1 --repeat 1   a quick one (under 2 minutes)
 *
 * Two store pairs, each with 1, 2 and 3 brokers (`deno run -A main.ts`, the load-balanced shape:
 * every broker answers for itself):
 *
 *   redis-s3      a real redis-server and a real S3-compatible server, started by the test helpers
 *                 (tests/servers/): moto's server by default, MinIO with SKB_S3_SERVER=minio
 *   sqlite-file   one SQLite file and one log directory in a temporary directory
 *
 * The brokers run with their default linger (--linger-ms: 25 ms with an s3: log store, else 0)
 * unless --linger-ms is given. Each configuration is driven by librdkafka (bench/rdkafka_perf.py,
 * confluent-kafka): N brokers get N producers, producer i bootstrapped to broker i, 1 KiB records,
 * acks=all, idempotent, linger.ms=5, on a 6-partition topic. Record counts times --scale:
 *
 *   warm-up      30k records in all, not measured
 *   fixed rate   --rate MiB/s in all (default 5) for --latency-seconds (default 10), the producers
 *                starting together: produce p50/p99 below saturation (the latency target)
 *   saturated    200k records in all, as fast as the producers go, starting together: MB/s and
 *                records/s over the time from the first start to the last delivery, p50/p99
 *                (mostly queueing in the client at saturation)
 *   consume      everything the saturated phase wrote, read through the first broker only
 *
 * During each phase the CPU seconds of every process involved (brokers, redis-server, the S3
 * server, the producers) and of the whole machine (/proc/stat) are taken, and each broker's
 * /metrics gives its flushes (batches per flush, log write and meta commit times).
 *
 * Before the brokers, a meta-store microbenchmark calls RedisMetaStore.commitBatches directly:
 * flushes of 1, 10 and 50 batches (each of 10 records, spread over 6 partitions and 4 idempotent
 * producers), by 1 and 3 concurrent flushers, each with its own connection and one commit at a
 * time like a broker (a broker's commits run one at a time, in flush order), for --micro-seconds
 * each (default 3): committed batches per second, in all and per flusher, and commit p50/p99.
 *
 * Everything runs --repeat times in turn (default 3; the tables show medians, the JSON every
 * round). Writes bench/results/shared_stores.md (or --out) and the figures as JSON beside it.
 * Every child process and server is stopped on exit, also on error or Ctrl-C, and each tool run
 * has a time limit.
 *
 * Flags: --scale 0.1, --out FILE, --pairs redis-s3,sqlite-file, --brokers 1,2,3,
 * --linger-ms N (every broker; default: the broker's own default), --rate MIB_PER_S,
 * --latency-seconds S, --micro-seconds S, --flush-sizes 1,10,50, --flushers 1,3, --skip-micro,
 * --repeat N, --port-base N (default 43092), --profile-catchup DIR (the catch-up broker runs
 * under `deno run --cpu-prof`, its profile in DIR/catchup-PAIR-N; bench/profile_summary.ts), --snapshot (run the brokers from a copy of the
 * working tree taken at the start), --broker-src DIR (run main.ts from another copy, e.g. a
 * patched one, to compare).
 */

import { dirname } from "node:path";
import process from "node:process";
import { startRedisServer } from "../tests/servers/redis_server.ts";
import { startS3Server } from "../tests/servers/s3_server.ts";
import { findProgram } from "../tests/servers/server_util.ts";
import { RedisMetaStore } from "../stores/meta/redis.ts";
import type { BatchToCommit } from "../stores/types.ts";
import {
  atExit,
  benchFlags,
  brokerSource,
  confluentVersion,
  cpuSecondsOf,
  fmt,
  freePort,
  killChild,
  loadAverage,
  machineLine,
  mdTable,
  parseJson,
  ProcStats,
  rdkafka,
  reason,
  ROOT,
  runMain,
  type Running,
  sh,
  start,
  tail,
  tempDir,
} from "./util.ts";

type Pair = "redis-s3" | "sqlite-file";
const PAIR_TITLES: Record<Pair, string> = {
  "redis-s3": "Redis + S3",
  "sqlite-file": "SQLite + file",
};
const RECORD_SIZE = 1024;
const PARTITIONS = 6;
const BUCKET = "skb-bench";

interface Options {
  scale: number;
  lingerMs: number | null;
  rateMiB: number;
  latencySeconds: number;
  /** --profile-catchup: the catch-up broker's CPU profile goes under this directory. */
  profileDir: string | null;
}

function n(base: number, scale: number): number {
  return Math.max(1000, Math.round(base * scale));
}

function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

// ---------------------------------------------------------------- CPU accounting

/** CPU seconds the whole machine spent busy (all CPUs; /proc/stat, USER_HZ = 100). */
function machineBusySeconds(): number {
  try {
    const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal
    return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0)) / 100;
  } catch {
    return NaN;
  }
}

/** The process listening on a TCP port of 127.0.0.1 (the servers the test helpers start). */
async function pidListening(port: number): Promise<number | null> {
  const out = await sh(`ss -Htlnp 'sport = :${port}'`);
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : null;
}

/** CPU seconds of some processes and of the machine between two moments. */
class CpuWindow {
  private t0 = performance.now();
  private machine0 = machineBusySeconds();
  private procs0: Map<string, number>;

  constructor(private readonly pids: Map<string, number>) {
    this.procs0 = this.read();
  }

  private read(): Map<string, number> {
    return new Map([...this.pids].map(([name, pid]) => [name, cpuSecondsOf(pid)]));
  }

  /** Seconds of wall time, machine busy CPU time, and each process's CPU time since the start. */
  end(): { wall: number; machine: number; procs: Record<string, number> } {
    const now = this.read();
    return {
      wall: (performance.now() - this.t0) / 1000,
      machine: machineBusySeconds() - this.machine0,
      procs: Object.fromEntries([...now].map(([k, v]) => [k, v - this.procs0.get(k)!])),
    };
  }
}

// ---------------------------------------------------------------- the meta-store microbenchmark

interface MicroRow {
  flushSize: number;
  flushers: number;
  seconds: number;
  flushes: number;
  batches: number;
  errors: number;
  batchesPerS: number;
  batchesPerSPerFlusher: number;
  flushesPerSPerFlusher: number;
  p50Ms: number | null;
  p99Ms: number | null;
  redisCpu: number;
  benchCpu: number;
}

const MICRO_PRODUCERS = 4;
const MICRO_RECORDS_PER_BATCH = 10;

/** One flusher: a broker's commits, one commitBatches at a time on its own connection. */
class Flusher {
  private producers: { id: number; epoch: number; seq: number[] }[] = [];
  private next = 0;
  private position = 0;

  private constructor(readonly store: RedisMetaStore, private readonly topicId: string) {}

  static async open(url: string, topicId: string): Promise<Flusher> {
    const f = new Flusher(new RedisMetaStore(url), topicId);
    for (let i = 0; i < MICRO_PRODUCERS; i++) {
      const p = await f.store.initProducerId({
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
      });
      f.producers.push({
        id: p.producerId,
        epoch: p.producerEpoch,
        seq: new Array(PARTITIONS).fill(0),
      });
    }
    return f;
  }

  /** Commits one flush of `size` batches; resolves to the batches refused. */
  async flush(size: number): Promise<number> {
    const batches: BatchToCommit[] = [];
    const now = Date.now();
    this.position = 0;
    for (let i = 0; i < size; i++, this.next++) {
      const partition = this.next % PARTITIONS;
      const p = this.producers[Math.floor(this.next / PARTITIONS) % MICRO_PRODUCERS];
      const length = 61 + MICRO_RECORDS_PER_BATCH * (RECORD_SIZE + 10);
      batches.push({
        topicId: this.topicId,
        partition,
        position: this.position,
        length,
        recordCount: MICRO_RECORDS_PER_BATCH,
        baseTimestamp: now,
        maxTimestamp: now,
        producerId: p.id,
        producerEpoch: p.epoch,
        baseSequence: p.seq[partition],
        isTransactional: false,
      });
      p.seq[partition] += MICRO_RECORDS_PER_BATCH;
      this.position += length;
    }
    const results = await this.store.commitBatches(`micro/${crypto.randomUUID()}`, batches);
    return results.filter((r) => r.errorCode !== 0).length;
  }
}

async function microbench(
  url: (prefix: string) => string,
  redisPid: number | null,
  sizes: number[],
  flusherCounts: number[],
  seconds: number,
): Promise<MicroRow[]> {
  const rows: MicroRow[] = [];
  for (const flushers of flusherCounts) {
    for (const size of sizes) {
      const prefix = `micro-${crypto.randomUUID().slice(0, 8)}-${flushers}-${size}:`;
      const setup = new RedisMetaStore(url(prefix));
      const topic = await setup.createTopic({ name: "micro", partitions: PARTITIONS, configs: {} });
      await setup.close();
      if (!topic) throw new Error("microbenchmark: the topic exists already");
      const fs = await Promise.all(
        Array.from({ length: flushers }, () => Flusher.open(url(prefix), topic.id)),
      );
      try {
        // Warm-up: the scripts loaded (EVALSHA), the connections and V8 warm.
        await Promise.all(fs.map(async (f) => {
          for (let i = 0; i < 50; i++) await f.flush(size);
        }));
        const latencies: number[] = [];
        let flushes = 0;
        let errors = 0;
        const redis0 = redisPid ? cpuSecondsOf(redisPid) : NaN;
        const bench0 = process.cpuUsage();
        const t0 = performance.now();
        const deadline = t0 + seconds * 1000;
        await Promise.all(fs.map(async (f) => {
          while (performance.now() < deadline) {
            const s = performance.now();
            errors += await f.flush(size);
            latencies.push(performance.now() - s);
            flushes++;
          }
        }));
        const wall = (performance.now() - t0) / 1000;
        const benchCpu = process.cpuUsage(bench0);
        latencies.sort((a, b) => a - b);
        const batches = flushes * size;
        rows.push({
          flushSize: size,
          flushers,
          seconds: wall,
          flushes,
          batches,
          errors,
          batchesPerS: batches / wall,
          batchesPerSPerFlusher: batches / wall / flushers,
          flushesPerSPerFlusher: flushes / wall / flushers,
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
          redisCpu: redisPid ? cpuSecondsOf(redisPid) - redis0 : NaN,
          benchCpu: (benchCpu.user + benchCpu.system) / 1e6,
        });
        const r = rows[rows.length - 1];
        console.error(
          `bench: microbenchmark ${flushers} flusher(s) x ${size} batches/flush: ` +
            `${fmt(r.batchesPerSPerFlusher)} batches/s per flusher, commit p99 ${fmt(r.p99Ms)} ms`,
        );
      } finally {
        await Promise.all(fs.map((f) => f.store.close()));
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------- brokers

interface Broker {
  bootstrap: string;
  httpPort: number;
  stats: ProcStats;
  running: Running;
}

async function startBroker(
  src: string,
  port: number,
  stores: string[],
  env: Record<string, string>,
  lingerMs: number | null,
  profileDir: string | null = null,
): Promise<Broker> {
  const running = start(
    Deno.execPath(),
    [
      "run",
      "-A",
      ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
      `${src}main.ts`,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--http-port",
      String(port + 1),
      ...stores,
      "--default-partitions",
      String(PARTITIONS),
      "--log-level",
      "warning",
      ...(lingerMs === null ? [] : ["--linger-ms", String(lingerMs)]),
    ],
    3_600_000,
    src,
    env,
  );
  const timer = setTimeout(() => killChild(running.child), 60_000);
  try {
    await running.waitFor("http on ");
  } catch {
    const r = await running.done;
    throw new Error(`a broker did not start:\n${tail(r.stdout + r.stderr)}`);
  } finally {
    clearTimeout(timer);
  }
  return {
    bootstrap: `127.0.0.1:${port}`,
    httpPort: port + 1,
    stats: new ProcStats(running.child.pid),
    running,
  };
}

async function stopBroker(b: Broker): Promise<string | null> {
  b.stats.stop();
  killChild(b.running.child, "SIGTERM");
  const killer = setTimeout(() => killChild(b.running.child), 15_000);
  const r = await b.running.done;
  clearTimeout(killer);
  return r.code === 0 || r.code === 143
    ? null
    : `a broker exited with ${r.code}: ${tail(r.stderr, 3)}`;
}

/** Flush figures of a broker's /metrics. */
type FlushCounters = Record<
  "flushes" | "batches" | "writeS" | "writes" | "commitS" | "commits",
  number
>;

/** A histogram read from /metrics: cumulative counts by upper bound (seconds), sum, count. */
interface Hist {
  le: number[];
  cum: number[];
  sum: number;
  count: number;
}

/** Everything read from the brokers' /metrics about flushes. */
interface FlushFigures {
  counters: FlushCounters;
  /** skb_produce_stage_seconds by stage (linger, slot, write, commit_wait, commit, total). */
  stages: Record<string, Hist>;
  /** skb_flush_starts_total by reason. */
  starts: Record<string, number>;
}

function parseFlushFigures(text: string): FlushFigures {
  const get = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  const stages: Record<string, Hist> = {};
  const stage = (name: string) => stages[name] ??= { le: [], cum: [], sum: 0, count: 0 };
  for (
    const m of text.matchAll(
      /^skb_produce_stage_seconds_bucket\{stage="(\w+)",le="([^"]+)"\} (\S+)$/gm,
    )
  ) {
    const h = stage(m[1]);
    h.le.push(m[2] === "+Inf" ? Infinity : Number(m[2]));
    h.cum.push(Number(m[3]));
  }
  for (
    const m of text.matchAll(/^skb_produce_stage_seconds_(sum|count)\{stage="(\w+)"\} (\S+)$/gm)
  ) {
    stage(m[2])[m[1] as "sum" | "count"] = Number(m[3]);
  }
  const starts: Record<string, number> = {};
  for (const m of text.matchAll(/^skb_flush_starts_total\{reason="(\w+)"\} (\S+)$/gm)) {
    starts[m[1]] = Number(m[2]);
  }
  return {
    counters: {
      flushes: get(/^skb_flush_duration_seconds_count (\S+)$/m),
      batches: get(/^skb_flushed_batches_total (\S+)$/m),
      writeS: get(/^skb_store_operation_duration_seconds_sum\{store="log",op="write"\} (\S+)$/m),
      writes: get(/^skb_store_operation_duration_seconds_count\{store="log",op="write"\} (\S+)$/m),
      commitS: get(
        /^skb_store_operation_duration_seconds_sum\{store="meta",op="commitBatches"\} (\S+)$/m,
      ),
      commits: get(
        /^skb_store_operation_duration_seconds_count\{store="meta",op="commitBatches"\} (\S+)$/m,
      ),
    },
    stages,
    starts,
  };
}

async function flushFigures(b: Broker): Promise<FlushFigures> {
  const text = await fetch(`http://127.0.0.1:${b.httpPort}/metrics`).then((r) => r.text());
  return parseFlushFigures(text);
}

/** `a - b`, histogram by histogram (the same buckets on both sides). */
function subHist(a: Hist, b: Hist | undefined): Hist {
  if (!b) return a;
  return {
    le: a.le,
    cum: a.cum.map((c, i) => c - (b.cum[i] ?? 0)),
    sum: a.sum - b.sum,
    count: a.count - b.count,
  };
}

/** Adds histograms of the same buckets (several brokers'). */
function addHist(a: Hist | undefined, b: Hist): Hist {
  if (!a) return b;
  return {
    le: a.le,
    cum: a.cum.map((c, i) => c + (b.cum[i] ?? 0)),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

/** A quantile of a histogram, interpolated linearly inside its bucket, in milliseconds. */
function histQuantile(h: Hist, q: number): number {
  if (h.count <= 0) return NaN;
  const rank = q * h.count;
  for (let i = 0; i < h.le.length; i++) {
    if (h.cum[i] >= rank) {
      const lo = i === 0 ? 0 : h.le[i - 1];
      const hi = h.le[i] === Infinity ? lo : h.le[i];
      const below = i === 0 ? 0 : h.cum[i - 1];
      const inBucket = h.cum[i] - below;
      return 1000 * (lo + (hi - lo) * (inBucket > 0 ? (rank - below) / inBucket : 1));
    }
  }
  return NaN;
}

/** The brokers' flush figures during a phase: what `after` holds beyond `before`, summed over brokers. */
function phaseFlushFigures(before: FlushFigures[], after: FlushFigures[]): FlushFigures {
  const counters = {} as FlushCounters;
  for (const k of Object.keys(after[0].counters) as (keyof FlushCounters)[]) {
    counters[k] = after.reduce((s, a, i) => s + a.counters[k] - before[i].counters[k], 0);
  }
  const stages: Record<string, Hist> = {};
  const starts: Record<string, number> = {};
  after.forEach((a, i) => {
    for (const [k, h] of Object.entries(a.stages)) {
      stages[k] = addHist(stages[k], subHist(h, before[i].stages[k]));
    }
    for (const [k, v] of Object.entries(a.starts)) {
      starts[k] = (starts[k] ?? 0) + v - (before[i].starts[k] ?? 0);
    }
  });
  return { counters, stages, starts };
}

/** The produce path's stages, in the order a request meets them. */
const STAGES = ["linger", "slot", "write", "commit_wait", "commit", "total"];
const FLUSH_STARTS = ["windows", "linger", "slot", "bytes", "immediate"];

// ---------------------------------------------------------------- one configuration

/** One phase's CPU figures: seconds per process and for the machine. */
interface PhaseCpu {
  wall: number;
  machine: number;
  procs: Record<string, number>;
  producers: number;
}

interface ConfigResult {
  pair: Pair;
  brokers: number;
  lingerMs: number;
  figures: Record<string, number | null>;
  cpu: Record<string, PhaseCpu>;
  notes: string[];
  seconds: number;
  /** Each round's figures, when there were several (--repeat). */
  rounds?: Record<string, number | null>[];
}

interface Servers {
  redisUrl: (prefix: string) => string;
  s3Url: (prefix: string) => string;
  s3Env: Record<string, string>;
  /** The servers' processes, for CPU time. */
  pids: Map<string, number>;
}

let configSeq = 0;

async function runConfig(
  pair: Pair,
  count: number,
  servers: Servers | null,
  opts: Options,
  src: string,
  portBase: number,
): Promise<ConfigResult> {
  const t0 = performance.now();
  const id = `${Date.now().toString(36)}-${++configSeq}`;
  const log = (msg: string) =>
    console.error(`bench [${PAIR_TITLES[pair]} x ${count}] ${msg} (load ${loadAverage()})`);
  const notes: string[] = [];
  const f: Record<string, number | null> = {};
  const cpu: Record<string, PhaseCpu> = {};
  let stores: string[];
  let env: Record<string, string> = {};
  if (pair === "redis-s3") {
    if (!servers) throw new Error("no servers");
    stores = ["--meta", servers.redisUrl(`bench-${id}:`), "--log", servers.s3Url(`run-${id}`)];
    env = servers.s3Env;
  } else {
    const dir = await tempDir("skb-bench-shared-");
    stores = ["--meta", `sqlite://${dir}/meta.db`, "--log", `file://${dir}/log`];
  }
  const lingerMs = opts.lingerMs ?? (pair === "redis-s3" ? 25 : 0);

  log(`starting ${count} broker(s)`);
  const brokers: Broker[] = [];
  const loads: number[] = [];
  const loadSampler = setInterval(() => loads.push(Number(loadAverage().split(" ")[0])), 1000);
  try {
    let port = portBase;
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      port = freePort(port);
      ports.push(port);
      port += 2;
    }
    // One at a time: the first one records the cluster id, and the others find it.
    for (const p of ports) brokers.push(await startBroker(src, p, stores, env, opts.lingerMs));
    const pids = new Map([
      ...brokers.map((b, i) => [`broker${i}`, b.running.child.pid] as [string, number]),
      ...(pair === "redis-s3" && servers ? servers.pids : []),
    ]);

    const topic = (w: string) => `${w}-${id}`;
    const created = await rdkafka([
      "create",
      "--bootstrap",
      brokers[0].bootstrap,
      ...["warm", "lat", "tp"].flatMap((w) => ["--topic", `${topic(w)}:${PARTITIONS}`]),
    ], 60_000).done;
    if (created.code !== 0) throw new Error(`creating topics failed:\n${tail(created.stderr)}`);

    /** N producers, producer i through broker i, started together; their JSON results. */
    const produce = async (w: string, total: number, rate: number | null, phase?: string) => {
      const each = Math.ceil(total / count);
      // Measured phases start together once Python and librdkafka are up (about a second).
      const delay = phase ? 4000 : 0;
      const startAt = (Date.now() + delay) / 1000;
      let cpuWin: CpuWindow | null = null;
      const windowTimer = setTimeout(() => cpuWin = new CpuWindow(pids), delay);
      const timeoutS = 60 + (rate ? total / rate : total / 2000);
      const before = phase ? await Promise.all(brokers.map(flushFigures)) : null;
      const rs = await Promise.all(brokers.map((b) =>
        rdkafka([
          "produce",
          "--bootstrap",
          b.bootstrap,
          "--topic",
          topic(w),
          "--num-records",
          String(each),
          "--record-size",
          String(RECORD_SIZE),
          "--acks",
          "all",
          "--linger-ms",
          "5",
          "--timeout-s",
          String(Math.round(timeoutS)),
          "--start-at",
          String(startAt),
          ...(rate ? ["--throughput", String(rate / count)] : []),
        ], (timeoutS + 30) * 1000).done
      ));
      clearTimeout(windowTimer);
      const js = rs.map((r) => parseJson(r.stdout));
      const w0 = cpuWin as CpuWindow | null;
      if (phase && w0 && before) {
        cpu[phase] = {
          ...w0.end(),
          producers: js.reduce((s, j) => s + (j?.cpu_s ?? NaN), 0),
        };
        const figures = phaseFlushFigures(before, await Promise.all(brokers.map(flushFigures)));
        const d = (k: keyof FlushCounters) => figures.counters[k];
        for (const stage of STAGES) {
          const h = figures.stages[stage];
          if (!h || h.count <= 0) continue;
          f[`${phase}.stage.${stage}.mean`] = h.sum / h.count * 1000;
          f[`${phase}.stage.${stage}.p50`] = histQuantile(h, 0.5);
          f[`${phase}.stage.${stage}.p99`] = histQuantile(h, 0.99);
        }
        for (const why of FLUSH_STARTS) {
          f[`${phase}.starts.${why}`] = (figures.starts[why] ?? 0) / d("flushes");
        }
        f[`${phase}.flushes`] = d("flushes");
        f[`${phase}.flush.batchesPer`] = d("batches") / d("flushes");
        f[`${phase}.flush.perS`] = d("flushes") / cpu[phase].wall;
        f[`${phase}.flush.writeMs`] = d("writeS") / d("writes") * 1000;
        f[`${phase}.flush.commitMs`] = d("commitS") / d("commits") * 1000;
      }
      rs.forEach((r, i) => {
        const j = js[i];
        if (!j || j.records !== each) {
          notes.push(`${w}: producer ${i} delivered ${j?.records ?? 0}/${each}: ${reason(r)}`);
        }
      });
      return js;
    };

    // Warm-up, not measured: V8's JIT in the brokers, the connections, the producers' ids.
    log(`warm-up: ${n(30_000, opts.scale)} records`);
    await produce("warm", n(30_000, opts.scale), null);

    // Fixed rate: latency below saturation.
    const rate = opts.rateMiB * 1024 * 1024 / RECORD_SIZE;
    const latRecords = Math.round(rate * opts.latencySeconds);
    log(`fixed rate: ${opts.rateMiB} MiB/s for ${opts.latencySeconds} s`);
    const lat = await produce("lat", latRecords, rate, "fixed");
    if (lat.every((j) => j)) {
      f["fixed.mb"] = lat.reduce((s, j) => s + j!.mb_per_s, 0);
      f["fixed.p50"] = Math.max(...lat.map((j) => j!.p50_ms));
      f["fixed.p99"] = Math.max(...lat.map((j) => j!.p99_ms));
    }

    // Saturated.
    const total = n(200_000, opts.scale);
    log(`saturated: ${total} records`);
    const sat = await produce("tp", total, null, "saturated");
    let delivered = 0;
    if (sat.every((j) => j)) {
      delivered = sat.reduce((s, j) => s + j!.records, 0);
      const span = Math.max(...sat.map((j) => j!.end_time)) -
        Math.min(...sat.map((j) => j!.start_time));
      f["sat.mb"] = delivered * RECORD_SIZE / span / (1024 * 1024);
      f["sat.rps"] = delivered / span;
      f["sat.sumOfMb"] = sat.reduce((s, j) => s + j!.mb_per_s, 0);
      f["sat.p50"] = Math.max(...sat.map((j) => j!.p50_ms));
      f["sat.p99"] = Math.max(...sat.map((j) => j!.p99_ms));
      f["sat.span"] = span;
    }

    // Consume through the first broker.
    if (delivered > 0) {
      log(`consume: ${delivered} records through one broker`);
      const window = new CpuWindow(pids);
      const r = await rdkafka([
        "consume",
        "--bootstrap",
        brokers[0].bootstrap,
        "--topic",
        topic("tp"),
        "--num-records",
        String(delivered),
        "--timeout-s",
        "120",
      ], 180_000).done;
      const j = parseJson(r.stdout);
      cpu["consume"] = { ...window.end(), producers: j?.cpu_s ?? NaN };
      if (j && j.records === delivered) {
        f["consume.mb"] = j.mb_per_s;
        f["consume.rps"] = j.records_per_s;
      } else notes.push(`consume: read ${j?.records ?? 0}/${delivered}: ${reason(r)}`);

      // Catch-up through a broker started now, which never saw the data: nothing of it is in
      // its caches, so every byte comes from the log store (the case of a consumer that
      // reconnects elsewhere, or a broker added to serve reads).
      log(`catch-up: ${delivered} records through a new broker`);
      const fresh = await startBroker(
        src,
        freePort(port),
        stores,
        env,
        opts.lingerMs,
        opts.profileDir ? `${opts.profileDir}/catchup-${pair}-${count}` : null,
      );
      brokers.push(fresh);
      const w2 = new CpuWindow(new Map([...pids, [`broker${count}`, fresh.running.child.pid]]));
      const c = await rdkafka([
        "consume",
        "--bootstrap",
        fresh.bootstrap,
        "--topic",
        topic("tp"),
        "--num-records",
        String(delivered),
        "--timeout-s",
        "120",
      ], 180_000).done;
      const cj = parseJson(c.stdout);
      cpu["catchup"] = { ...w2.end(), producers: cj?.cpu_s ?? NaN };
      const m = await fetch(`http://127.0.0.1:${fresh.httpPort}/metrics`).then((r) => r.text());
      const reads = (kind: string) =>
        Number(new RegExp(`^skb_s3_reads\\{kind="${kind}"\\} (\\S+)$`, "m").exec(m)?.[1] ?? NaN);
      f["catchup.gets"] = reads("gets");
      f["catchup.getMiB"] = reads("get_bytes") / (1024 * 1024);
      if (cj && cj.records === delivered) f["catchup.mb"] = cj.mb_per_s;
      else notes.push(`catch-up: read ${cj?.records ?? 0}/${delivered}: ${reason(c)}`);
    }
  } finally {
    clearInterval(loadSampler);
    f["mem.hwm"] = Math.max(0, ...brokers.map((b) => b.stats.hwmKiB / 1024));
    for (const b of brokers) {
      const bad = await stopBroker(b);
      if (bad) notes.push(bad);
    }
    f["load"] = loads.length ? loads.reduce((a, b) => a + b, 0) / loads.length : null;
  }
  return {
    pair,
    brokers: count,
    lingerMs,
    figures: f,
    cpu,
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}

// ---------------------------------------------------------------- rounds

/** The median of the numbers among `vs` (null, NaN and undefined left out); NaN when none. */
function median(vs: (number | null | undefined)[]): number {
  const xs = vs.filter((v): v is number => typeof v === "number" && !Number.isNaN(v))
    .sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Per key, the median over records that share their keys. */
function medians<T extends Record<string, number | null>>(rs: T[]): Record<string, number> {
  const keys = new Set(rs.flatMap((r) => Object.keys(r)));
  return Object.fromEntries([...keys].map((k) => [k, median(rs.map((r) => r[k]))]));
}

/** One configuration's rounds as one result: the median of each figure, every round's notes. */
function combineConfigs(rs: ConfigResult[]): ConfigResult {
  const phases = new Set(rs.flatMap((r) => Object.keys(r.cpu)));
  const cpu: Record<string, PhaseCpu> = {};
  for (const phase of phases) {
    const cs = rs.map((r) => r.cpu[phase]).filter((c) => c);
    const m = medians(
      cs.map((c) => ({ wall: c.wall, machine: c.machine, producers: c.producers })),
    );
    cpu[phase] = {
      wall: m.wall,
      machine: m.machine,
      producers: m.producers,
      procs: medians(cs.map((c) => c.procs)),
    };
  }
  return {
    ...rs[0],
    figures: medians(rs.map((r) => r.figures)),
    cpu,
    notes: rs.flatMap((r, i) => r.notes.map((x) => rs.length > 1 ? `round ${i + 1}: ${x}` : x)),
    seconds: rs.reduce((s, r) => s + r.seconds, 0),
    ...(rs.length > 1 ? { rounds: rs.map((r) => r.figures) } : {}),
  };
}

/** The microbenchmark's rounds as one table: the median of each figure per row. */
function combineMicro(rounds: MicroRow[][]): MicroRow[] {
  if (rounds.length === 0) return [];
  return rounds[0].map((row, i) => {
    const same = rounds.map((r) => r[i]).filter((r) =>
      r && r.flushSize === row.flushSize && r.flushers === row.flushers
    );
    const m = medians(same.map((r) => ({ ...r } as unknown as Record<string, number>)));
    return { ...row, ...m, errors: same.reduce((s, r) => s + r.errors, 0) } as MicroRow;
  });
}

// ---------------------------------------------------------------- the report

function brokerTable(results: ConfigResult[], opts: Options): string {
  return mdTable(
    [
      "stores",
      "brokers",
      "broker linger ms",
      "produce MB/s",
      "produce records/s",
      "saturated p50 / p99 ms",
      `${opts.rateMiB} MiB/s p50 / p99 ms`,
      "consume MB/s (1 broker)",
      "catch-up MB/s (new broker)",
      "broker peak MiB",
      "load",
    ],
    results.map((r) => {
      const g = (k: string) => fmt(r.figures[k]);
      return [
        PAIR_TITLES[r.pair],
        String(r.brokers),
        String(r.lingerMs),
        g("sat.mb"),
        g("sat.rps"),
        `${g("sat.p50")} / ${g("sat.p99")}`,
        `${g("fixed.p50")} / ${g("fixed.p99")}`,
        g("consume.mb"),
        g("catchup.mb"),
        g("mem.hwm"),
        g("load"),
      ];
    }),
  );
}

function flushTable(results: ConfigResult[], opts: Options): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const [phase, title] of [["fixed", `${opts.rateMiB} MiB/s`], ["saturated", "saturated"]]) {
      const g = (k: string) => fmt(r.figures[`${phase}.flush.${k}`]);
      rows.push([
        PAIR_TITLES[r.pair],
        String(r.brokers),
        title,
        g("batchesPer"),
        g("perS"),
        g("writeMs"),
        g("commitMs"),
      ]);
    }
  }
  return mdTable(
    [
      "stores",
      "brokers",
      "phase",
      "batches per flush",
      "flushes/s (all brokers)",
      "log write ms (mean)",
      "meta commit ms (mean)",
    ],
    rows,
    3,
  );
}

/** Where produce requests' time went in the brokers (skb_produce_stage_seconds), per stage. */
function stageTable(results: ConfigResult[], phase: string): string {
  const rows: string[][] = [];
  for (const r of results) {
    const g = (k: string) => fmt(r.figures[`${phase}.${k}`]);
    rows.push([
      PAIR_TITLES[r.pair],
      String(r.brokers),
      ...STAGES.map((st) =>
        `${g(`stage.${st}.mean`)} / ${g(`stage.${st}.p50`)} / ${g(`stage.${st}.p99`)}`
      ),
      FLUSH_STARTS.map((w) => `${(100 * (r.figures[`${phase}.starts.${w}`] ?? 0)).toFixed(0)}`)
        .join(" / "),
    ]);
  }
  return mdTable(
    [
      "stores",
      "brokers",
      ...STAGES.map((st) => `${st.replace("_", " ")} ms`),
      `flushes started by ${FLUSH_STARTS.join(" / ")} %`,
    ],
    rows,
  );
}

function cpuTable(results: ConfigResult[], phase: string, nproc: number): string {
  const rows: string[][] = [];
  for (const r of results) {
    const c = r.cpu[phase];
    if (!c) continue;
    const each = Object.entries(c.procs).filter(([k]) => k.startsWith("broker")).map(([, v]) => v);
    const brokers = each.reduce((s, v) => s + v, 0);
    const redis = c.procs["redis-server"];
    const s3 = c.procs["s3"];
    const ours = brokers + (redis ?? 0) + (s3 ?? 0) + c.producers;
    rows.push([
      PAIR_TITLES[r.pair],
      String(r.brokers),
      fmt(c.wall),
      `${fmt(brokers)}${each.length > 1 ? ` (${each.map(fmt).join(", ")})` : ""}`,
      redis === undefined ? "-" : fmt(redis),
      s3 === undefined ? "-" : fmt(s3),
      fmt(c.producers),
      fmt(c.machine),
      `${(100 * c.machine / (c.wall * nproc)).toFixed(0)}%`,
      fmt(Math.max(0, c.machine - ours)),
    ]);
  }
  return mdTable(
    [
      "stores",
      "brokers",
      "wall s",
      "brokers CPU s (each)",
      "redis-server",
      "S3 server",
      phase === "consume" ? "consumer" : "producers",
      "machine busy s",
      "of all CPUs",
      "other processes",
    ],
    rows,
  );
}

function microTable(rows: MicroRow[]): string {
  return mdTable(
    [
      "batches per flush",
      "concurrent flushers",
      "flushes/s per flusher",
      "batches/s per flusher (per broker)",
      "batches/s in all",
      "commit p50 / p99 ms",
      "redis-server CPU",
      "bench process CPU",
    ],
    rows.map((r) => [
      String(r.flushSize),
      String(r.flushers),
      fmt(r.flushesPerSPerFlusher),
      fmt(r.batchesPerSPerFlusher),
      fmt(r.batchesPerS),
      `${fmt(r.p50Ms)} / ${fmt(r.p99Ms)}`,
      `${(100 * r.redisCpu / r.seconds).toFixed(0)}%`,
      `${(100 * r.benchCpu / r.seconds).toFixed(0)}%`,
    ]),
    0,
  );
}

function targets(results: ConfigResult[], micro: MicroRow[]): string[] {
  const out: string[] = [];
  const s3 = results.filter((r) => r.pair === "redis-s3");
  if (s3.length) {
    const worst = Math.max(...s3.map((r) => r.figures["fixed.p99"] ?? Infinity));
    out.push(
      `- S3 produce p99 under 150 ms at the default linger (below saturation): ${
        s3.map((r) => `${r.brokers} broker(s) ${fmt(r.figures["fixed.p99"])} ms`).join(", ")
      } at linger ${[...new Set(s3.map((r) => r.lingerMs))].join("/")} ms: ${
        worst < 150 ? "met" : "not met"
      }`,
    );
  }
  const files = results.filter((r) => r.pair === "sqlite-file");
  const pairs = s3.map((r) => [r, files.find((x) => x.brokers === r.brokers)] as const)
    .filter(([a, b]) => b && a.figures["catchup.mb"] && b.figures["catchup.mb"]);
  if (pairs.length) {
    const ratios = pairs.map(([a, b]) => a.figures["catchup.mb"]! / b!.figures["catchup.mb"]!);
    out.push(
      `- Catch-up from S3 through a broker that never saw the data, at least 0.5x the file ` +
        `store's: ${
          pairs.map(([a, b], i) =>
            `${a.brokers} writer(s) ${fmt(a.figures["catchup.mb"])} against ${
              fmt(b!.figures["catchup.mb"])
            } MB/s (${ratios[i].toFixed(2)}x)`
          ).join(", ")
        }: ${ratios.every((x) => x >= 0.5) ? "met" : "not met"}`,
    );
  }
  if (micro.length) {
    const met = micro.filter((r) => r.batchesPerSPerFlusher >= 20_000 && r.errors === 0);
    out.push(
      `- Redis meta store, at least 20,000 committed batches/s per broker: ${
        met.length
          ? `met with ${
            met.map((r) => `${r.flushSize} batches per flush x ${r.flushers} flusher(s)`).join(
              ", ",
            )
          }`
          : "not met"
      }; best ${fmt(Math.max(...micro.map((r) => r.batchesPerSPerFlusher)))} per flusher`,
    );
  }
  return out;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const values = await benchFlags(import.meta.url, {
    scale: { type: "string", default: "1" },
    out: { type: "string", default: `${ROOT}bench/results/shared_stores.md` },
    pairs: { type: "string", default: "redis-s3,sqlite-file" },
    brokers: { type: "string", default: "1,2,3" },
    "linger-ms": { type: "string" },
    rate: { type: "string", default: "5" },
    "latency-seconds": { type: "string", default: "10" },
    "micro-seconds": { type: "string", default: "3" },
    "flush-sizes": { type: "string", default: "1,10,50" },
    flushers: { type: "string", default: "1,3" },
    "skip-micro": { type: "boolean", default: false },
    "port-base": { type: "string", default: "43092" },
    repeat: { type: "string", default: "3" },
    "profile-catchup": { type: "string" },
  });
  if (!values) return 0;
  const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
  const numbers = (s: string) => list(s).map(Number);
  const pairs = list(values.pairs) as Pair[];
  for (const p of pairs) {
    if (!(p in PAIR_TITLES)) throw new Error(`unknown store pair ${p}: redis-s3 or sqlite-file`);
  }
  const counts = numbers(values.brokers);
  const scale = Number(values.scale);
  if (!(scale > 0)) throw new Error("--scale must be positive");
  const opts: Options = {
    scale,
    lingerMs: values["linger-ms"] === undefined ? null : Number(values["linger-ms"]),
    rateMiB: Number(values.rate),
    latencySeconds: Math.max(3, Number(values["latency-seconds"]) * Math.min(1, scale * 2)),
    profileDir: values["profile-catchup"] ?? null,
  };
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error("--repeat must be 1 or more");
  const portBase = Number(values["port-base"]);
  const microSeconds = Math.max(1, Number(values["micro-seconds"]) * Math.min(1, scale * 2));

  const started = performance.now();
  const when = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const src = await brokerSource({
    snapshot: values.snapshot,
    brokerSrc: values["broker-src"],
  });
  const nproc = Number(await sh("nproc"));
  const loadBefore = loadAverage();
  const facts = [await machineLine()];

  // The servers, from the test helpers; stopped on exit whatever happens.
  const needRedis = pairs.includes("redis-s3") || !values["skip-micro"];
  const redis = needRedis ? await startRedisServer() : null;
  if (redis) atExit(() => redis[Symbol.asyncDispose]());
  const s3 = pairs.includes("redis-s3") ? await startS3Server() : null;
  if (s3) {
    atExit(() => s3[Symbol.asyncDispose]());
    await s3.createBucket(BUCKET);
  }
  const pids = new Map<string, number>();
  const redisPid = redis ? await pidListening(redis.port) : null;
  if (redisPid) pids.set("redis-server", redisPid);
  const s3Pid = s3 ? await pidListening(Number(new URL(s3.endpoint).port)) : null;
  if (s3Pid) pids.set("s3", s3Pid);
  const s3Version = !s3
    ? ""
    : s3.kind === "moto"
    ? `moto ${await sh("python3 -c 'import moto; print(moto.__version__)'")} (S3 server)`
    : `MinIO ${await sh(`'${findProgram("minio")}' --version | head -n 1 | awk '{print $3}'`)}`;
  facts.push(
    `- deno ${Deno.version.deno} (V8 ${Deno.version.v8}), ${await confluentVersion()}, ` +
      `${redis ? (await sh("redis-server --version")).split(" sha=")[0] : ""}${
        s3 ? `, ${s3Version}` : ""
      }`,
  );
  const servers: Servers | null = redis
    ? {
      redisUrl: (prefix) => redis.url(0, prefix),
      s3Url: (prefix) => s3 ? s3.url(BUCKET, prefix) : "",
      s3Env: s3?.env ?? {},
      pids,
    }
    : null;

  // Rounds run everything in turn, so slow drifts in the machine's load hit every
  // configuration; the tables show each figure's median over the rounds.
  const microRounds: MicroRow[][] = [];
  const rounds = new Map<string, ConfigResult[]>();
  const failures: string[] = [];
  for (let round = 1; round <= repeat; round++) {
    if (!values["skip-micro"] && redis) {
      console.error(`bench: round ${round}/${repeat}: Redis meta store microbenchmark`);
      microRounds.push(
        await microbench(
          (prefix) => redis.url(1, prefix),
          redisPid,
          numbers(values["flush-sizes"]),
          numbers(values.flushers),
          microSeconds,
        ),
      );
    }
    for (const pair of pairs) {
      for (const count of counts) {
        const key = `${pair} ${count}`;
        console.error(`bench: round ${round}/${repeat}: ${PAIR_TITLES[pair]} x ${count}`);
        try {
          const r = await runConfig(pair, count, servers, opts, src.dir, portBase);
          rounds.set(key, [...(rounds.get(key) ?? []), r]);
        } catch (e) {
          failures.push(`round ${round}, ${PAIR_TITLES[pair]} x ${count}: ${(e as Error).message}`);
          console.error(`bench: ${PAIR_TITLES[pair]} x ${count} failed: ${(e as Error).stack}`);
        }
      }
    }
  }
  const results = [...rounds.values()].map(combineConfigs);
  const micro = combineMicro(microRounds);
  const seconds = (performance.now() - started) / 1000;
  const loadAfter = loadAverage();

  const md = [
    "# Benchmark: brokers sharing stores",
    "",
    `Run ${when} by \`deno run -A bench/shared_stores.ts${
      Deno.args.length ? " " + Deno.args.join(" ") : ""
    }\`; took ${seconds.toFixed(0)} s.`,
    "",
    `- broker code: ${src.description}`,
    ...facts,
    `- load average before the run: ${loadBefore}; after: ${loadAfter} (brokers, servers and ` +
    "clients share the machine; other load skews the figures)",
    ...(repeat > 1
      ? [
        `- ${repeat} rounds of everything in turn; each figure is the median of the rounds ` +
        "(every round's figures are in the JSON file beside this one)",
      ]
      : []),
    `- record counts scaled by ${scale}; 1 KiB records, acks=all, idempotent librdkafka ` +
    `producers with linger.ms=5, a ${PARTITIONS}-partition topic; N brokers get N producers, ` +
    "producer i bootstrapped to broker i (the load-balanced shape); MB = MiB",
    "- produce MB/s and records/s: every delivered record over the time from the first " +
    "producer's start to the last delivery (they start together); p50/p99: the worst " +
    "producer's, from produce() to the delivery report",
    `- fixed rate: ${opts.rateMiB} MiB/s in all for ${opts.latencySeconds} s, shared by the ` +
    "producers: latency below saturation",
    "- consume: everything the saturated phase wrote, read by one librdkafka consumer " +
    "(assignment, no group) through the first broker; catch-up: the same again through a " +
    "broker started afterwards, which never saw the data (nothing in its caches)",
    "",
    "## Brokers",
    "",
    brokerTable(results, opts),
    "",
    "## Flushes",
    "",
    "From the brokers' /metrics during each phase: batches per flush, flushes per second of " +
    "all brokers together, and the mean time of a flush's log store write and meta store commit.",
    "",
    flushTable(results, opts),
    "",
    `Where a produce request's time went in its broker at ${opts.rateMiB} MiB/s ` +
    "(skb_produce_stage_seconds of every broker, mean / p50 / p99 ms, quantiles interpolated " +
    "in the histogram's buckets): linger until its flush was due, slot waiting for a write " +
    "slot, write (the flush's log store write), commit wait (earlier flushes' commits), " +
    "commit, total from its append to its answer; and why flushes started (windows: every " +
    "producer in the buffer had its five requests waiting; linger: the linger passed; slot: " +
    "due while every write slot was taken).",
    "",
    stageTable(results, "fixed"),
    "",
    "The same in the saturated phase:",
    "",
    stageTable(results, "saturated"),
    "",
    "## Where the CPU went",
    "",
    "CPU seconds (user + system, /proc) during the saturated produce phase; machine busy = all " +
    `processes on the machine (/proc/stat), out of ${nproc} CPUs x wall; other processes = ` +
    "machine busy minus the processes listed (the bench itself, other users).",
    "",
    cpuTable(results, "saturated", nproc),
    "",
    "The same for the consume phase:",
    "",
    cpuTable(results, "consume", nproc),
    "",
    "And for the catch-up through a new broker (its CPU is among the brokers'):",
    "",
    cpuTable(results, "catchup", nproc),
    "",
    ...results.filter((r) => Number.isFinite(r.figures["catchup.gets"])).map((r) =>
      `- ${PAIR_TITLES[r.pair]} x ${r.brokers}: the catch-up broker sent ${
        fmt(r.figures["catchup.gets"])
      } GETs (${fmt(r.figures["catchup.getMiB"])} MiB) for the ${
        fmt(r.figures["saturated.flushes"])
      } objects the saturated phase wrote`
    ),
    "",
  ];
  if (micro.length) {
    md.push(
      "## Redis meta store: committed batches per second",
      "",
      "`RedisMetaStore.commitBatches` called directly, each flusher with its own connection " +
        "and one commit at a time, like a broker's commits; batches of " +
        `${MICRO_RECORDS_PER_BATCH} records over ${PARTITIONS} partitions and ` +
        `${MICRO_PRODUCERS} idempotent producers per flusher; ${microSeconds} s per row after ` +
        "a warm-up; redis-server and the bench process (all flushers) in % of one CPU.",
      "",
      microTable(micro),
      "",
    );
  }
  const tgt = targets(results, micro);
  if (tgt.length) md.push("## Targets", "", ...tgt, "");
  const notes = [
    ...failures.map((x) => `- failed: ${x.split("\n")[0]}`),
    ...results.flatMap((r) =>
      r.notes.map((x) => `- ${PAIR_TITLES[r.pair]} x ${r.brokers}: ${x.split("\n")[0]}`)
    ),
    ...micro.filter((r) => r.errors > 0).map((r) =>
      `- microbenchmark ${r.flushSize} x ${r.flushers}: ${r.errors} batches refused`
    ),
  ];
  if (notes.length) md.push("Notes:", "", ...notes, "");
  md.push(
    `Time per configuration: ${
      results.map((r) => `${PAIR_TITLES[r.pair]} x ${r.brokers} ${r.seconds.toFixed(0)} s`).join(
        ", ",
      )
    }.`,
    "",
  );
  const text = md.join("\n");
  console.log(text);
  await Deno.mkdir(dirname(values.out), { recursive: true });
  await Deno.writeTextFile(values.out, text);
  const json = values.out.replace(/(\.md)?$/, ".json");
  await Deno.writeTextFile(
    json,
    JSON.stringify(
      {
        when,
        args: Deno.args,
        source: src.description,
        seconds,
        loadBefore,
        loadAfter,
        options: opts,
        microSeconds,
        micro,
        results,
        failures,
      },
      null,
      2,
    ) + "\n",
  );
  console.error(`bench: wrote ${values.out} and ${json}`);
  return failures.length ? 1 : 0;
}

await runMain("bench", main);
