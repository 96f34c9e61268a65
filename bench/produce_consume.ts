/**
 * Throughput, latency and memory benchmark (issues 2 and 5).
 *
 *   deno task bench          this broker with memory stores and with the default stores
 *                            (SQLite meta store + file log store in a temporary --data-dir)
 *   deno task bench:kafka    the same, side by side with a single-node Apache Kafka 4.x
 *                            (scripts/apache_kafka.sh), with the ratio ours/Kafka per figure
 *
 * Every broker is driven by the same real clients: Kafka's own ProducerPerformance,
 * ConsumerPerformance and EndToEndLatency (org.apache.kafka:kafka-tools, resolved from Maven
 * Central by bench/kafka-tools/pom.xml into .tools/kafka-tools/lib), and a librdkafka driver
 * (bench/rdkafka_perf.py, confluent-kafka Python). Workloads (record counts times --scale):
 *
 *   1 KiB        ProducerPerformance, 200k records of 1 KiB, acks=all, linger.ms=5, 1 partition
 *   100 B        the same with 500k records of 100 bytes
 *   6p x 3       three ProducerPerformance at once, 70k records of 1 KiB each, 6 partitions
 *   consume      ConsumerPerformance from the beginning of the 1 KiB topic (needs consumer
 *                groups; "n/a" with the reason when the broker lacks them), and librdkafka
 *                reading the same topic by assignment (no group); both again with 8 MiB
 *                per partition (max.partition.fetch.bytes), both on the 6-partition topic
 *                at both sizes, and three of each in one consumer group on it
 *   rdkafka      librdkafka producer, 1 KiB x 200k and 100 B x 500k, acks=all, linger.ms=5
 *   5 MB/s       ProducerPerformance --throughput 5120 (1 KiB records: 5 MiB/s) for 20 s;
 *                meanwhile a librdkafka consumer measures end-to-end latency (arrival minus
 *                CreateTime) and EndToEndLatency the send-then-poll round trip on a second topic
 *
 * Each broker first gets an unmeasured warm-up (20k records of 1 KiB). The peak resident memory
 * of each broker process is its VmHWM from /proc/PID/status (VmRSS is sampled too); its CPU time
 * comes from /proc/PID/stat. The table is printed as Markdown and written to
 * bench/results/latest.md (or --out; the figures also as JSON beside it). Every child process is
 * killed on exit, also on error or Ctrl-C, and each tool run has a time limit.
 *
 * Flags: --kafka (add Apache Kafka), --targets kafka,memory,default, --scale 0.1 (a quick run),
 * --out FILE, --port-base N (default 41092; 19092 and 29092 are never used), --repeat N (N rounds
 * of every broker in turn, medians in the table; 3 rounds take about 8 minutes here),
 * --profile DIR (run our broker under `deno run --cpu-prof`, writing DIR/memory and DIR/default;
 * summarise them with bench/profile_summary.ts),
 * --workloads produce,consume,rdkafka,e2e (a subset), --snapshot (run the broker from a copy of
 * the working tree taken at the start, so edits in the checkout during the run cannot mix
 * versions), --broker-src DIR (run main.ts from another copy, e.g. a patched one, to compare).
 */

import { dirname } from "node:path";
import {
  benchFlags,
  brokerSource,
  confluentVersion,
  fmt,
  freePort,
  loadAverage,
  machineLine,
  parseJson,
  rdkafka,
  reason,
  ROOT,
  run,
  runMain,
  type Running,
  sh,
  start,
  tail,
} from "./util.ts";
import { type BrokerHandle, kafkaScript, startKafka, startOurs } from "./brokers.ts";

const TOOLS_POM = `${ROOT}bench/kafka-tools/pom.xml`;
const TOOLS_LIB = `${ROOT}.tools/kafka-tools/lib`;
const TOOLS_LOG4J = `${ROOT}bench/kafka-tools/log4j2.properties`;
const E2E_RATE_RECORDS = 5120; // 1 KiB records: 5 MiB/s

// ---------------------------------------------------------------- Apache Kafka

// ---------------------------------------------------------------- tools

async function sha256(path: string): Promise<string> {
  const data = await Deno.readFile(path);
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Resolves kafka-tools and its dependencies into .tools/kafka-tools/lib unless current. */
async function fetchKafkaTools(): Promise<void> {
  const want = await sha256(TOOLS_POM);
  const stamp = await Deno.readTextFile(`${TOOLS_LIB}/.stamp`).catch(() => "");
  if (stamp.trim() === want) return;
  console.error("bench: resolving org.apache.kafka:kafka-tools into .tools/kafka-tools/lib");
  await Deno.remove(TOOLS_LIB, { recursive: true }).catch(() => {});
  await Deno.mkdir(TOOLS_LIB, { recursive: true });
  const r = await run("mvn", [
    "-q",
    "-B",
    "-Dstyle.color=never",
    "-f",
    TOOLS_POM,
    "dependency:copy-dependencies",
    "-DincludeScope=runtime",
    `-DoutputDirectory=${TOOLS_LIB}`,
  ], 600_000);
  if (r.code !== 0) {
    throw new Error(`Maven could not resolve kafka-tools:\n${tail(r.stdout + r.stderr)}`);
  }
  await Deno.writeTextFile(`${TOOLS_LIB}/.stamp`, want + "\n");
}

function javaTool(cls: string, args: string[], timeoutMs: number): Running {
  return start("java", [
    "-Xmx1g",
    "-XX:+UseG1GC",
    `-Dlog4j2.configurationFile=${TOOLS_LOG4J}`,
    "-cp",
    `${TOOLS_LIB}/*`,
    `org.apache.kafka.tools.${cls}`,
    ...args,
  ], timeoutMs);
}

// ---------------------------------------------------------------- brokers

type TargetName = "kafka" | "memory" | "default";

const TARGET_TITLES: Record<TargetName, string> = {
  kafka: "Apache Kafka 4.4",
  memory: "ours (memory)",
  default: "ours (SQLite+file)",
};

// ---------------------------------------------------------------- figures

/** One measured figure; null = not measured, with a reason in `notes`. */
type Figures = Record<string, number | null>;

interface ProducerPerfResult {
  records: number;
  recordsPerS: number;
  mbPerS: number;
  avgMs: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
}

function parseProducerPerf(out: string): ProducerPerfResult | null {
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/
      .exec(out);
  if (!m) return null;
  return {
    records: Number(m[1]),
    recordsPerS: Number(m[2]),
    mbPerS: Number(m[3]),
    avgMs: Number(m[4]),
    p50: Number(m[5]),
    p95: Number(m[6]),
    p99: Number(m[7]),
    p999: Number(m[8]),
  };
}

function parseConsumerPerf(
  out: string,
): { mbPerS: number; recordsPerS: number; joinMs: number } | null {
  const lines = out.trim().split("\n").filter((l) => /^\d{4}-\d\d-\d\d /.test(l));
  if (lines.length === 0) return null;
  const f = lines[lines.length - 1].split(",").map((s) => s.trim());
  // start, end, MB, MB.sec, nMsg, nMsg.sec, rebalance.ms, fetch.ms, fetch.MB.sec, fetch.nMsg.sec
  if (f.length < 10) return null;
  return { mbPerS: Number(f[8]), recordsPerS: Number(f[9]), joinMs: Number(f[6]) };
}

function parseEndToEnd(out: string): { p50: number; p99: number; p999: number } | null {
  const m = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(out);
  return m ? { p50: Number(m[1]), p99: Number(m[2]), p999: Number(m[3]) } : null;
}

// ---------------------------------------------------------------- workloads

interface Options {
  scale: number;
  workloads: Set<string>;
  e2eSeconds: number;
}

interface TargetResult {
  figures: Figures;
  notes: string[];
  seconds: number;
  /** Each round's figures, when there were several (--repeat). */
  rounds?: Figures[];
}

function n(base: number, scale: number): number {
  return Math.max(1000, Math.round(base * scale));
}

async function runTarget(
  name: TargetName,
  broker: BrokerHandle,
  opts: Options,
): Promise<TargetResult> {
  const t0 = performance.now();
  const f: Figures = {};
  const notes: string[] = [];
  const loads: number[] = [];
  const loadSampler = setInterval(() => loads.push(Number(loadAverage().split(" ")[0])), 1000);
  try {
    return await workloads();
  } finally {
    clearInterval(loadSampler);
  }

  async function workloads(): Promise<TargetResult> {
    const B = broker.bootstrap;
    const id = Date.now().toString(36);
    const topic = (w: string) => `bench-${w}-${id}`;
    const log = (msg: string) => console.error(`bench [${TARGET_TITLES[name]}] ${msg}`);
    const cpu = () => broker.stats.cpuSeconds();

    const created = await rdkafka([
      "create",
      "--bootstrap",
      B,
      ...["warmup:1", "w1:1", "w2:1", "w3:6", "r1:1", "r2:1", "e1:1", "e2:1"].flatMap((t) => {
        const [w, p] = t.split(":");
        return ["--topic", `${topic(w)}:${p}`];
      }),
    ], 60_000).done;
    if (created.code !== 0) throw new Error(`creating topics failed:\n${tail(created.stderr)}`);

    const producerProps = ["--command-property", "acks=all", "linger.ms=5"];
    // Record bytes (values) the workloads wrote, all kept by the broker: what the memory
    // stores must hold at least (issue 15 bounds their peak RSS by this plus 150 MiB).
    let heldBytes = 0;
    const wrote = (records: number, size: number) => (heldBytes += records * size);

    // Warm-up, not measured: the JVM's JIT (Kafka), V8's (ours), the page cache, the clients.
    log(`warm-up: ProducerPerformance ${n(20_000, opts.scale)} x 1024 B (not measured)`);
    const warm = await javaTool("ProducerPerformance", [
      "--bootstrap-server",
      B,
      "--topic",
      topic("warmup"),
      "--num-records",
      String(n(20_000, opts.scale)),
      "--record-size",
      "1024",
      "--throughput",
      "-1",
      ...producerProps,
    ], 120_000).done;
    if (!parseProducerPerf(warm.stdout)) notes.push(`warm-up failed: ${reason(warm)}`);
    else wrote(n(20_000, opts.scale), 1024);
    const perf = async (key: string, w: string, records: number, size: number) => {
      log(`ProducerPerformance ${records} x ${size} B (load ${loadAverage()})`);
      const c0 = cpu();
      const r = await javaTool("ProducerPerformance", [
        "--bootstrap-server",
        B,
        "--topic",
        topic(w),
        "--num-records",
        String(records),
        "--record-size",
        String(size),
        "--throughput",
        "-1",
        ...producerProps,
      ], 300_000).done;
      const p = parseProducerPerf(r.stdout);
      f[`${key}.cpu`] = cpu() - c0;
      if (!p) {
        notes.push(`${key}: ProducerPerformance failed: ${reason(r)}`);
        return;
      }
      wrote(records, size);
      Object.assign(f, {
        [`${key}.mb`]: p.mbPerS,
        [`${key}.rps`]: p.recordsPerS,
        [`${key}.p50`]: p.p50,
        [`${key}.p99`]: p.p99,
        [`${key}.p999`]: p.p999,
      });
    };

    if (opts.workloads.has("produce")) {
      await perf("w1", "w1", n(200_000, opts.scale), 1024);
      await perf("w2", "w2", n(500_000, opts.scale), 100);

      const each = n(70_000, opts.scale);
      log(`3 x ProducerPerformance ${each} x 1024 B, 6 partitions (load ${loadAverage()})`);
      const c0 = cpu();
      const rs = await Promise.all([0, 1, 2].map(() =>
        javaTool("ProducerPerformance", [
          "--bootstrap-server",
          B,
          "--topic",
          topic("w3"),
          "--num-records",
          String(each),
          "--record-size",
          "1024",
          "--throughput",
          "-1",
          ...producerProps,
        ], 300_000).done
      ));
      f["w3.cpu"] = cpu() - c0;
      const ps = rs.map((r) => parseProducerPerf(r.stdout));
      if (ps.every((p) => p !== null)) {
        const all = ps as ProducerPerfResult[];
        wrote(3 * each, 1024);
        f["w3.mb"] = all.reduce((s, p) => s + p.mbPerS, 0);
        f["w3.rps"] = all.reduce((s, p) => s + p.recordsPerS, 0);
        f["w3.p50"] = Math.max(...all.map((p) => p.p50));
        f["w3.p99"] = Math.max(...all.map((p) => p.p99));
        f["w3.p999"] = Math.max(...all.map((p) => p.p999));
      } else {
        const bad = rs.find((_, i) => ps[i] === null)!;
        notes.push(`w3: ProducerPerformance failed: ${reason(bad)}`);
      }
    }

    if (opts.workloads.has("consume") && opts.workloads.has("produce")) {
      // Issue 15's consume rows: 1 and 6 partitions, the clients' default fetch sizes
      // (fetch.max.bytes 50 MiB, max.partition.fetch.bytes 1 MiB in both) and 8 MiB per
      // partition, and three consumers in one group. The 1-partition topic is w1, the
      // 6-partition one w3 (what the three producers wrote).
      const w1Records = n(200_000, opts.scale);
      const w3Records = 3 * n(70_000, opts.scale);
      const big = ["max.partition.fetch.bytes=8388608", "fetch.max.bytes=52428800"];
      const consumerPerf = (w: string, records: number, props: string[], group: string) =>
        javaTool("ConsumerPerformance", [
          "--bootstrap-server",
          B,
          "--topic",
          topic(w),
          "--num-records",
          String(records),
          "--timeout",
          "15000",
          "--group",
          group,
          ...props.flatMap((p) => ["--command-property", p]),
        ], 120_000).done;
      const rdConsume = (w: string, records: number, props: string[], group?: string) =>
        rdkafka([
          "consume",
          "--bootstrap",
          B,
          "--topic",
          topic(w),
          "--num-records",
          String(records),
          "--timeout-s",
          "90",
          ...(group ? ["--group", group] : []),
          ...props.flatMap((p) => ["--consumer-property", p]),
        ], 120_000).done;
      const javaRows: [string, string, number, string[]][] = [
        ["c1", "w1", w1Records, []],
        ["c1b", "w1", w1Records, big],
        ["c6", "w3", w3Records, []],
        ["c6b", "w3", w3Records, big],
      ];
      for (const [key, w, records, props] of javaRows) {
        log(
          `ConsumerPerformance ${key}: ${records} of ${w} ${
            props.join(" ")
          } (load ${loadAverage()})`,
        );
        const c0 = cpu();
        const r = await consumerPerf(w, records, props, `bench-${key}-${id}`);
        const c = parseConsumerPerf(r.stdout);
        if (c && c.recordsPerS > 0) {
          f[`${key}.mb`] = c.mbPerS;
          f[`${key}.rps`] = c.recordsPerS;
          f[`${key}.join`] = c.joinMs;
          f[`${key}.cpu`] = cpu() - c0;
        } else notes.push(`${key}: ConsumerPerformance failed: ${reason(r)}`);
      }
      {
        // Three in one group, each reading a third: when one has its share it leaves
        // and its partitions go to the others. The figure sums their fetch-time rates.
        const each = Math.floor(w3Records / 3);
        log(`3 x ConsumerPerformance in one group, ${each} each of w3 (load ${loadAverage()})`);
        const c0 = cpu();
        const group = `bench-g3-${id}`;
        const rs = await Promise.all([0, 1, 2].map(() => consumerPerf("w3", each, [], group)));
        const cs = rs.map((r) => parseConsumerPerf(r.stdout));
        if (cs.every((c) => c !== null && c.recordsPerS > 0)) {
          f["cg.mb"] = cs.reduce((t, c) => t + c!.mbPerS, 0);
          f["cg.rps"] = cs.reduce((t, c) => t + c!.recordsPerS, 0);
          f["cg.cpu"] = cpu() - c0;
        } else notes.push(`cg: ConsumerPerformance failed: ${reason(rs[cs.findIndex((c) => !c)])}`);
      }

      const rdRows: [string, string, number, string[]][] = [
        ["c2", "w1", w1Records, []],
        ["c2b", "w1", w1Records, big],
        ["c26", "w3", w3Records, []],
        ["c26b", "w3", w3Records, big],
      ];
      for (const [key, w, records, props] of rdRows) {
        log(
          `librdkafka consume ${key}: ${records} of ${w} ${
            props.join(" ")
          } (load ${loadAverage()})`,
        );
        const c0 = cpu();
        const rr = await rdConsume(w, records, props);
        const j = parseJson(rr.stdout);
        if (j && j.records === records) {
          f[`${key}.mb`] = j.mb_per_s;
          f[`${key}.rps`] = j.records_per_s;
          f[`${key}.cpu`] = cpu() - c0;
        } else notes.push(`${key}: librdkafka read ${j?.records ?? 0}/${records}: ${reason(rr)}`);
      }
      {
        const each = Math.floor(w3Records / 3);
        log(`3 x librdkafka consumers in one group, ${each} each of w3 (load ${loadAverage()})`);
        const c0 = cpu();
        const group = `bench-rg3-${id}`;
        const rs = await Promise.all([0, 1, 2].map(() => rdConsume("w3", each, [], group)));
        const js = rs.map((r) => parseJson(r.stdout));
        if (js.every((j) => j && j.records === each)) {
          f["c2g.mb"] = js.reduce((t, j) => t + j!.mb_per_s, 0);
          f["c2g.rps"] = js.reduce((t, j) => t + j!.records_per_s, 0);
          f["c2g.cpu"] = cpu() - c0;
        } else {
          const i = js.findIndex((j) => !j || j.records !== each);
          notes.push(`c2g: librdkafka read ${js[i]?.records ?? 0}/${each}: ${reason(rs[i])}`);
        }
      }
    }

    if (opts.workloads.has("rdkafka")) {
      for (
        const [key, w, records, size] of [["r1", "r1", 200_000, 1024], [
          "r2",
          "r2",
          500_000,
          100,
        ]] as const
      ) {
        const count = n(records, opts.scale);
        log(`librdkafka produce ${count} x ${size} B (load ${loadAverage()})`);
        const c0 = cpu();
        const r = await rdkafka([
          "produce",
          "--bootstrap",
          B,
          "--topic",
          topic(w),
          "--num-records",
          String(count),
          "--record-size",
          String(size),
          "--acks",
          "all",
          "--linger-ms",
          "5",
          "--timeout-s",
          "240",
        ], 300_000).done;
        f[`${key}.cpu`] = cpu() - c0;
        const j = parseJson(r.stdout);
        if (j && j.records === count) {
          wrote(count, size);
          Object.assign(f, {
            [`${key}.mb`]: j.mb_per_s,
            [`${key}.rps`]: j.records_per_s,
            [`${key}.p50`]: j.p50_ms,
            [`${key}.p99`]: j.p99_ms,
            [`${key}.p999`]: j.p999_ms,
          });
        } else {
          notes.push(`${key}: librdkafka delivered ${j?.records ?? 0}/${count}: ${reason(r)}`);
        }
        const leaderWarnings = (r.stderr.match(/not found in cache/g) ?? []).length;
        if (leaderWarnings > 0) {
          notes.push(
            `${key}: librdkafka logged "new leader-1 not found in cache" ${leaderWarnings} times`,
          );
        }
      }
    }

    if (opts.workloads.has("e2e")) {
      const records = Math.round(E2E_RATE_RECORDS * opts.e2eSeconds);
      log(
        `${E2E_RATE_RECORDS} records/s of 1 KiB for ${opts.e2eSeconds} s (load ${loadAverage()})`,
      );
      const consumer = rdkafka([
        "e2e",
        "--bootstrap",
        B,
        "--topic",
        topic("e1"),
        "--num-records",
        String(records),
        "--timeout-s",
        String(opts.e2eSeconds + 60),
      ], (opts.e2eSeconds + 90) * 1000);
      await consumer.waitFor("ready");
      const c0 = cpu();
      const producer = javaTool("ProducerPerformance", [
        "--bootstrap-server",
        B,
        "--topic",
        topic("e1"),
        "--num-records",
        String(records),
        "--record-size",
        "1024",
        "--throughput",
        String(E2E_RATE_RECORDS),
        ...producerProps,
      ], (opts.e2eSeconds + 90) * 1000);
      await new Promise((r) => setTimeout(r, 3000));
      const pingPong = javaTool("EndToEndLatency", [
        B,
        topic("e2"),
        String(Math.max(200, Math.round(60 * opts.e2eSeconds))),
        "all",
        "1024",
      ], (opts.e2eSeconds + 60) * 1000);
      const [pr, cr, er] = await Promise.all([producer.done, consumer.done, pingPong.done]);
      f["e.cpu"] = cpu() - c0;
      const p = parseProducerPerf(pr.stdout);
      if (p) {
        wrote(records, 1024);
        Object.assign(f, {
          "e.mb": p.mbPerS,
          "e.rps": p.recordsPerS,
          "e.p50": p.p50,
          "e.p99": p.p99,
          "e.p999": p.p999,
        });
      } else notes.push(`5 MB/s: ProducerPerformance failed: ${reason(pr)}`);
      const j = parseJson(cr.stdout);
      if (j && j.records === records) {
        Object.assign(f, { "e.e2e50": j.p50_ms, "e.e2e99": j.p99_ms, "e.e2e999": j.p999_ms });
      } else {notes.push(
          `5 MB/s: librdkafka consumer got ${j?.records ?? 0}/${records}: ${reason(cr)}`,
        );}
      const e = parseEndToEnd(er.stdout);
      if (e) Object.assign(f, { "e.rt50": e.p50, "e.rt99": e.p99, "e.rt999": e.p999 });
      else notes.push(`5 MB/s: EndToEndLatency failed: ${reason(er)}`);
    }

    broker.stats.sample();
    f["mem.hwm"] = broker.stats.hwmKiB / 1024;
    f["mem.peak"] = broker.stats.peakRssKiB / 1024;
    f["mem.held"] = heldBytes / (1024 * 1024);
    f["mem.over"] = f["mem.hwm"] - f["mem.held"];
    f["load"] = loads.length ? loads.reduce((a, b) => a + b, 0) / loads.length : null;
    return { figures: f, notes, seconds: (performance.now() - t0) / 1000 };
  }
}

/** The median of each figure over rounds, the notes of every round, the total time. */
function combine(rs: TargetResult[]): TargetResult {
  const figures: Figures = {};
  const keys = new Set(rs.flatMap((r) => Object.keys(r.figures)));
  for (const k of keys) {
    const vs = rs.map((r) => r.figures[k]).filter((v): v is number =>
      typeof v === "number" && !Number.isNaN(v)
    ).sort((a, b) => a - b);
    if (vs.length === 0) figures[k] = null;
    else {
      const mid = vs.length >> 1;
      figures[k] = vs.length % 2 ? vs[mid] : (vs[mid - 1] + vs[mid]) / 2;
    }
  }
  const notes = rs.flatMap((r, i) =>
    r.notes.map((note) => rs.length > 1 ? `round ${i + 1}: ${note}` : note)
  );
  return {
    figures,
    notes,
    seconds: rs.reduce((a, r) => a + r.seconds, 0),
    ...(rs.length > 1 ? { rounds: rs.map((r) => r.figures) } : {}),
  };
}

// ---------------------------------------------------------------- the table

/** Row: key, label, higher-is-better (for the reader; ratios are plain ours/Kafka). */
const ROWS: [string, string][] = [
  ["w1.mb", "1 KiB, 1 producer (ProducerPerformance): MB/s"],
  ["w1.rps", "1 KiB, 1 producer: records/s"],
  ["w1.p50", "1 KiB, 1 producer: produce p50 ms"],
  ["w1.p99", "1 KiB, 1 producer: produce p99 ms"],
  ["w1.p999", "1 KiB, 1 producer: produce p99.9 ms"],
  ["w1.cpu", "1 KiB, 1 producer: broker CPU s"],
  ["w2.mb", "100 B, 1 producer (ProducerPerformance): MB/s"],
  ["w2.rps", "100 B, 1 producer: records/s"],
  ["w2.p50", "100 B, 1 producer: produce p50 ms"],
  ["w2.p99", "100 B, 1 producer: produce p99 ms"],
  ["w2.p999", "100 B, 1 producer: produce p99.9 ms"],
  ["w2.cpu", "100 B, 1 producer: broker CPU s"],
  ["w3.mb", "1 KiB, 6 partitions, 3 producers: MB/s (sum)"],
  ["w3.rps", "1 KiB, 6 partitions, 3 producers: records/s (sum)"],
  ["w3.p50", "1 KiB, 6 partitions, 3 producers: produce p50 ms (worst)"],
  ["w3.p99", "1 KiB, 6 partitions, 3 producers: produce p99 ms (worst)"],
  ["w3.p999", "1 KiB, 6 partitions, 3 producers: produce p99.9 ms (worst)"],
  ["w3.cpu", "1 KiB, 6 partitions, 3 producers: broker CPU s"],
  ["c1.mb", "consume from beginning (ConsumerPerformance, fetch time): MB/s"],
  ["c1.rps", "consume from beginning (ConsumerPerformance, fetch time): records/s"],
  ["c1.join", "consume from beginning (ConsumerPerformance): group join ms"],
  ["c1.cpu", "consume from beginning (ConsumerPerformance): broker CPU s"],
  ["c1b.mb", "consume, 8 MiB per partition (ConsumerPerformance, fetch time): MB/s"],
  ["c1b.cpu", "consume, 8 MiB per partition (ConsumerPerformance): broker CPU s"],
  ["c6.mb", "consume 6 partitions (ConsumerPerformance, fetch time): MB/s"],
  ["c6.cpu", "consume 6 partitions (ConsumerPerformance): broker CPU s"],
  ["c6b.mb", "consume 6 partitions, 8 MiB per partition (ConsumerPerformance): MB/s"],
  ["c6b.cpu", "consume 6 partitions, 8 MiB per partition (ConsumerPerformance): broker CPU s"],
  ["cg.mb", "consume 6 partitions, 3 consumers in one group (ConsumerPerformance): MB/s (sum)"],
  ["cg.cpu", "consume 6 partitions, 3 consumers in one group (ConsumerPerformance): broker CPU s"],
  ["c2.mb", "consume from beginning (librdkafka, assign): MB/s"],
  ["c2.rps", "consume from beginning (librdkafka, assign): records/s"],
  ["c2.cpu", "consume from beginning (librdkafka): broker CPU s"],
  ["c2b.mb", "consume, 8 MiB per partition (librdkafka, assign): MB/s"],
  ["c2b.cpu", "consume, 8 MiB per partition (librdkafka): broker CPU s"],
  ["c26.mb", "consume 6 partitions (librdkafka, assign): MB/s"],
  ["c26.cpu", "consume 6 partitions (librdkafka): broker CPU s"],
  ["c26b.mb", "consume 6 partitions, 8 MiB per partition (librdkafka, assign): MB/s"],
  ["c26b.cpu", "consume 6 partitions, 8 MiB per partition (librdkafka): broker CPU s"],
  ["c2g.mb", "consume 6 partitions, 3 consumers in one group (librdkafka): MB/s (sum)"],
  ["c2g.cpu", "consume 6 partitions, 3 consumers in one group (librdkafka): broker CPU s"],
  ["r1.mb", "librdkafka produce 1 KiB: MB/s"],
  ["r1.rps", "librdkafka produce 1 KiB: records/s"],
  ["r1.p50", "librdkafka produce 1 KiB: p50 ms"],
  ["r1.p99", "librdkafka produce 1 KiB: p99 ms"],
  ["r1.p999", "librdkafka produce 1 KiB: p99.9 ms"],
  ["r1.cpu", "librdkafka produce 1 KiB: broker CPU s"],
  ["r2.mb", "librdkafka produce 100 B: MB/s"],
  ["r2.rps", "librdkafka produce 100 B: records/s"],
  ["r2.p50", "librdkafka produce 100 B: p50 ms"],
  ["r2.p99", "librdkafka produce 100 B: p99 ms"],
  ["r2.p999", "librdkafka produce 100 B: p99.9 ms"],
  ["r2.cpu", "librdkafka produce 100 B: broker CPU s"],
  ["e.mb", "fixed 5 MB/s (ProducerPerformance): MB/s achieved"],
  ["e.p50", "fixed 5 MB/s: produce p50 ms"],
  ["e.p99", "fixed 5 MB/s: produce p99 ms"],
  ["e.p999", "fixed 5 MB/s: produce p99.9 ms"],
  ["e.e2e50", "fixed 5 MB/s: end-to-end p50 ms (CreateTime to librdkafka consumer)"],
  ["e.e2e99", "fixed 5 MB/s: end-to-end p99 ms"],
  ["e.e2e999", "fixed 5 MB/s: end-to-end p99.9 ms"],
  ["e.rt50", "fixed 5 MB/s: EndToEndLatency p50 ms (send + poll round trip)"],
  ["e.rt99", "fixed 5 MB/s: EndToEndLatency p99 ms"],
  ["e.rt999", "fixed 5 MB/s: EndToEndLatency p99.9 ms"],
  ["e.cpu", "fixed 5 MB/s: broker CPU s"],
  ["mem.hwm", "broker peak resident memory MiB (VmHWM)"],
  ["mem.peak", "broker peak VmRSS MiB (sampled every 200 ms)"],
  ["mem.held", "record bytes the workloads wrote (all kept) MiB"],
  ["mem.over", "broker peak resident memory above the record bytes kept MiB"],
  ["load", "machine load average during the run (1 min, mean; 2 would fill 2 CPUs)"],
];

function ratio(ours: number | null | undefined, kafka: number | null | undefined): string {
  if (ours == null || kafka == null || Number.isNaN(ours) || Number.isNaN(kafka)) return "n/a";
  if (kafka === 0) return ours === 0 ? "1.00" : "inf";
  return (ours / kafka).toFixed(2);
}

function table(targets: TargetName[], results: Map<TargetName, TargetResult>): string {
  const hasKafka = targets.includes("kafka");
  const ours = targets.filter((t) => t !== "kafka");
  const head = ["figure"];
  if (hasKafka) head.push(TARGET_TITLES.kafka);
  for (const t of ours) {
    head.push(TARGET_TITLES[t]);
    if (hasKafka) head.push(`${TARGET_TITLES[t]} / Kafka`);
  }
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ];
  const kf = results.get("kafka")?.figures;
  for (const [key, label] of ROWS) {
    if (targets.every((t) => results.get(t)?.figures[key] === undefined)) continue;
    const row = [label];
    if (hasKafka) row.push(fmt(kf?.[key]));
    for (const t of ours) {
      const v = results.get(t)?.figures[key];
      row.push(fmt(v));
      if (hasKafka) row.push(key === "load" ? "" : ratio(v, kf?.[key]));
    }
    lines.push(`| ${row.join(" | ")} |`);
  }
  return lines.join("\n");
}

async function machine(): Promise<string[]> {
  return [
    await machineLine(),
    `- deno ${Deno.version.deno} (V8 ${Deno.version.v8}), ${await sh(
      "java -version 2>&1 | head -n 1",
    )}, kafka-tools 4.4.0, ${await confluentVersion()}`,
  ];
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const values = await benchFlags(import.meta.url, {
    kafka: { type: "boolean", default: false },
    targets: { type: "string" },
    scale: { type: "string", default: "1" },
    out: { type: "string", default: `${ROOT}bench/results/latest.md` },
    "port-base": { type: "string", default: "41092" },
    profile: { type: "string" },
    workloads: { type: "string", default: "produce,consume,rdkafka,e2e" },
    "e2e-seconds": { type: "string", default: "20" },
    repeat: { type: "string", default: "1" },
  });
  if (!values) return 0;
  const targets = (values.targets ?? (values.kafka ? "kafka,memory,default" : "memory,default"))
    .split(",").map((s) => s.trim()) as TargetName[];
  for (const t of targets) {
    if (!(t in TARGET_TITLES)) throw new Error(`unknown target ${t}: kafka, memory or default`);
  }
  const profileDir = values.profile ?? null;
  const opts: Options = {
    scale: Number(values.scale),
    workloads: new Set(values.workloads.split(",").map((s) => s.trim())),
    e2eSeconds: Number(values["e2e-seconds"]),
  };
  if (!(opts.scale > 0)) throw new Error("--scale must be positive");
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error("--repeat must be 1 or more");
  if (profileDir) {
    await Deno.mkdir(profileDir, { recursive: true });
    if (targets.includes("kafka")) throw new Error("--profile profiles our broker only");
  }

  const started = performance.now();
  // Another copy of the broker (e.g. with a patch to compare), a copy of the working tree
  // (--snapshot), or this checkout.
  const src = await brokerSource({ snapshot: values.snapshot, brokerSrc: values["broker-src"] });
  const brokerSrc = src.dir;
  const source = src.description;
  const when = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const facts = await machine();
  const loadBefore = loadAverage();
  await fetchKafkaTools();
  if (targets.includes("kafka")) {
    const r = await kafkaScript(["fetch"], 600_000);
    if (r.code !== 0) throw new Error(`scripts/apache_kafka.sh fetch failed:\n${tail(r.stderr)}`);
  }

  // Rounds run every broker in turn (Kafka, memory, default, Kafka, ...), so slow drifts in the
  // machine's load hit all of them; the table shows each figure's median over the rounds.
  const rounds = new Map<TargetName, TargetResult[]>(targets.map((t) => [t, []]));
  let port = Number(values["port-base"]);
  for (let round = 1; round <= repeat; round++) {
    for (const t of targets) {
      port = freePort(port);
      console.error(
        `bench: round ${round}/${repeat}: starting ${TARGET_TITLES[t]} on 127.0.0.1:${port}`,
      );
      const broker = t === "kafka" ? await startKafka(port) : await startOurs(t, port, {
        src: brokerSrc,
        profileDir,
        // The same group.initial.rebalance.delay.ms as the Apache Kafka of
        // scripts/apache_kafka.sh (0 ms), so ConsumerPerformance's group join compares like with like.
        flags: ["--group-initial-rebalance-delay-ms", "0"],
      });
      try {
        rounds.get(t)!.push(await runTarget(t, broker, opts));
      } finally {
        await broker.stop();
      }
      port += 2;
    }
  }
  const results = new Map<TargetName, TargetResult>(
    targets.map((t) => [t, combine(rounds.get(t)!)]),
  );
  const seconds = (performance.now() - started) / 1000;

  const md = [
    `# Benchmark: stateless-kafka-broker${targets.includes("kafka") ? " vs Apache Kafka" : ""}`,
    "",
    `Run ${when} by \`deno run -A bench/produce_consume.ts ${Deno.args.join(" ")}\`; ` +
    `took ${seconds.toFixed(0)} s.`,
    "",
    `- broker code: ${source}`,
    ...facts,
    `- load average before the run: ${loadBefore}; after: ${loadAverage()} ` +
    "(clients and brokers share the machine; other load skews the figures)",
    ...(repeat > 1
      ? [
        `- ${repeat} rounds, brokers in turn; each figure is the median of the rounds ` +
        "(every round's figures are in the JSON file beside this one)",
      ]
      : []),
    `- record counts scaled by ${opts.scale}; acks=all, linger.ms=5, idempotent producers ` +
    "(the clients' defaults), no compression; MB = MiB (as Kafka's tools print it)",
    "- ours: `--meta memory: --log memory:` and the default stores (SQLite meta store, file " +
    "log store) in a fresh temporary --data-dir; Apache Kafka 4.4 single node (KRaft, " +
    "scripts/apache_kafka.sh, -Xmx1g); no fsync on either side by default",
    "- throughput at full speed: the producer's queue fills, so its latency there is mostly " +
    "queueing; the fixed 5 MB/s rows show latency below saturation",
    "- each broker first gets an unmeasured warm-up (20k x 1 KiB); broker CPU s = user + system " +
    "time of the broker process during the workload (/proc/PID/stat)",
    "- group join: group.initial.rebalance.delay.ms is 0 ms on both brokers (Kafka's default " +
    "is 3000 ms; ours is too, set by --group-initial-rebalance-delay-ms)",
    ...(targets.includes("kafka")
      ? [
        "- ratio = ours / Kafka: above 1 is better for MB/s and records/s, worse for ms, " +
        "CPU s and memory",
      ]
      : []),
    "",
    table(targets, results),
    "",
  ];
  const allNotes = targets.flatMap((t) =>
    (results.get(t)?.notes ?? []).map((note) => `- ${TARGET_TITLES[t]}: ${note}`)
  );
  if (allNotes.length > 0) md.push("Notes:", "", ...allNotes, "");
  md.push(
    `Time per broker: ${
      targets.map((t) => `${TARGET_TITLES[t]} ${results.get(t)?.seconds.toFixed(0)} s`).join(", ")
    }.`,
    "",
  );
  const text = md.join("\n");
  console.log(text);
  if (!profileDir) {
    await Deno.mkdir(dirname(values.out), { recursive: true });
    await Deno.writeTextFile(values.out, text);
    const json = values.out.replace(/(\.md)?$/, ".json");
    const figures = Object.fromEntries(targets.map((t) => [t, results.get(t)]));
    await Deno.writeTextFile(
      json,
      JSON.stringify({ when, args: Deno.args, source, seconds, figures }, null, 2) + "\n",
    );
    console.error(`bench: wrote ${values.out} and ${json}`);
  }
  return 0;
}

await runMain("bench", main);
