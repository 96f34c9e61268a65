/**
 * Transactional produce benchmark (issue 12): this broker (memory stores, and the default
 * SQLite meta store + file log store) side by side with a single-node Apache Kafka 4.4
 * (scripts/apache_kafka.sh) on the same machine, driven by the same Java clients
 * (org.apache.kafka:kafka-tools 4.4, resolved by `deno task bench:kafka` into
 * .tools/kafka-tools/lib). Workloads (record counts times --scale):
 *
 *   plain        ProducerPerformance, 200k records of 1 KiB, acks=all, linger.ms=5, 1 partition,
 *                no transactions (the baseline the transactional runs are compared with)
 *   txn 1000 ms  the same with --transactional-id and --transaction-duration-ms 1000 (a commit
 *                every second)
 *   txn 100 ms   the same with --transaction-duration-ms 100
 *   EndTxn       bench/kafka-tools/EndTxnLatency.java: 300 transactions of 10 records of 1 KiB
 *                over 3 partitions, each flushed first, then commitTransaction timed (its avg,
 *                p50, p99, max), after 20 unmeasured ones
 *
 * Each broker first gets an unmeasured warm-up (100k records of 1 KiB, then 40k in
 * transactions of 100 ms). The broker's CPU time
 * comes from /proc/PID/stat. The table is printed as Markdown and written to
 * bench/results/transactions.md (or --out; the figures also as JSON beside it).
 *
 * Flags: --targets kafka,memory,default (default all three), --scale 0.1 (a quick run), --out
 * FILE, --port-base N (default 43092), --txns N (EndTxn transactions, default 300), --repeat N
 * (N rounds of every broker in turn, medians in the table), --profile DIR (our broker under
 * `deno run --cpu-prof`, DIR/memory and DIR/default; see bench/profile_summary.ts),
 * --snapshot, --broker-src DIR (as bench/produce_consume.ts).
 */

import { dirname } from "node:path";
import {
  benchFlags,
  brokerSource,
  fmt,
  freePort,
  loadAverage,
  machineLine,
  mdTable,
  parseJson,
  rdkafka,
  reason,
  ROOT,
  runMain,
  type Running,
  sh,
  start,
  tail,
} from "./util.ts";
import { type BrokerHandle, startKafka, startOurs } from "./brokers.ts";

const TOOLS_LIB = `${ROOT}.tools/kafka-tools/lib`;
const TOOLS_LOG4J = `${ROOT}bench/kafka-tools/log4j2.properties`;
const ENDTXN_SRC = `${ROOT}bench/kafka-tools/EndTxnLatency.java`;

type TargetName = "kafka" | "memory" | "default";
const TITLES: Record<TargetName, string> = {
  kafka: "Apache Kafka 4.4",
  memory: "ours (memory)",
  default: "ours (SQLite+file)",
};

function java(main: string[], timeoutMs: number): Running {
  return start("java", [
    "-Xmx1g",
    "-XX:+UseG1GC",
    `-Dlog4j2.configurationFile=${TOOLS_LOG4J}`,
    "-cp",
    `${TOOLS_LIB}/*`,
    ...main,
  ], timeoutMs);
}

// ---------------------------------------------------------------- workloads

type Figures = Record<string, number | null>;

function parseProducerPerf(out: string) {
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/
      .exec(out);
  return m ? { rps: Number(m[2]), mb: Number(m[3]), p50: Number(m[5]), p99: Number(m[7]) } : null;
}

const n = (base: number, scale: number) => Math.max(1000, Math.round(base * scale));

async function runTarget(
  name: TargetName,
  broker: BrokerHandle,
  scale: number,
  txns: number,
): Promise<{ figures: Figures; notes: string[]; seconds: number }> {
  const t0 = performance.now();
  const f: Figures = {};
  const notes: string[] = [];
  const B = broker.bootstrap;
  const id = Date.now().toString(36);
  const topic = (w: string) => `txn-${w}-${id}`;
  const log = (msg: string) => console.error(`bench [${TITLES[name]}] ${msg}`);
  const created = await rdkafka([
    "create",
    "--bootstrap",
    B,
    ...["warmup:1", "plain:1", "t1000:1", "t100:1", "endtxn:3"].flatMap((t) => {
      const [w, p] = t.split(":");
      return ["--topic", `${topic(w)}:${p}`];
    }),
  ], 60_000).done;
  if (created.code !== 0) throw new Error(`creating topics failed:\n${tail(created.stderr)}`);

  const perf = async (key: string, w: string, records: number, txnMs: number | null) => {
    log(
      `ProducerPerformance ${records} x 1024 B, ${txnMs ? `txn ${txnMs} ms` : "no txn"} ` +
        `(load ${loadAverage()})`,
    );
    const c0 = broker.stats.cpuSeconds();
    const txn = txnMs
      ? ["--transactional-id", `bench-${w}-${id}`, "--transaction-duration-ms", String(txnMs)]
      : [];
    const r = await java([
      "org.apache.kafka.tools.ProducerPerformance",
      "--bootstrap-server",
      B,
      "--topic",
      topic(w),
      "--num-records",
      String(records),
      "--record-size",
      "1024",
      "--throughput",
      "-1",
      ...txn,
      "--command-property",
      "acks=all",
      "linger.ms=5",
    ], 300_000).done;
    const p = parseProducerPerf(r.stdout);
    if (key !== "warmup") f[`${key}.cpu`] = broker.stats.cpuSeconds() - c0;
    if (!p) {
      notes.push(`${key}: ProducerPerformance failed: ${reason(r)}`);
      return;
    }
    if (key === "warmup") return;
    Object.assign(f, {
      [`${key}.mb`]: p.mb,
      [`${key}.rps`]: p.rps,
      [`${key}.p50`]: p.p50,
      [`${key}.p99`]: p.p99,
    });
  };

  // Warm-up, not measured: both JITs, the page cache, and a transactional run (Kafka's
  // transaction log and coordinator, ours' transaction paths).
  log(`warm-up (not measured)`);
  await perf("warmup", "warmup", n(100_000, scale), null);
  await perf("warmup", "warmup", n(40_000, scale), 100);
  await perf("plain", "plain", n(200_000, scale), null);
  await perf("t1000", "t1000", n(200_000, scale), 1000);
  await perf("t100", "t100", n(200_000, scale), 100);

  log(`EndTxnLatency ${txns} transactions x 10 records (load ${loadAverage()})`);
  const c0 = broker.stats.cpuSeconds();
  const e = await java([ENDTXN_SRC, B, topic("endtxn"), String(txns), "10", "20"], 300_000).done;
  f["endtxn.cpu"] = broker.stats.cpuSeconds() - c0;
  const j = parseJson(e.stdout);
  if (!j) notes.push(`EndTxn: EndTxnLatency failed: ${reason(e)}`);
  else {
    for (const k of ["avg", "p50", "p99", "max", "tps"]) f[`endtxn.${k}`] = j[k];
  }
  return { figures: f, notes, seconds: (performance.now() - t0) / 1000 };
}

// ---------------------------------------------------------------- the table

const ROWS: [string, string, "higher" | "lower"][] = [
  ["plain.mb", "plain: MB/s", "higher"],
  ["plain.p99", "plain: p99 send latency (ms)", "lower"],
  ["t1000.mb", "txn 1000 ms: MB/s", "higher"],
  ["t1000.rps", "txn 1000 ms: records/s", "higher"],
  ["t1000.p99", "txn 1000 ms: p99 send latency (ms)", "lower"],
  ["t1000.cpu", "txn 1000 ms: broker CPU (s)", "lower"],
  ["t100.mb", "txn 100 ms: MB/s", "higher"],
  ["t100.rps", "txn 100 ms: records/s", "higher"],
  ["t100.p99", "txn 100 ms: p99 send latency (ms)", "lower"],
  ["t100.cpu", "txn 100 ms: broker CPU (s)", "lower"],
  ["endtxn.avg", "EndTxn: commitTransaction avg (ms)", "lower"],
  ["endtxn.p50", "EndTxn: p50 (ms)", "lower"],
  ["endtxn.p99", "EndTxn: p99 (ms)", "lower"],
  ["endtxn.max", "EndTxn: max (ms)", "lower"],
  ["endtxn.tps", "EndTxn run: transactions/s", "higher"],
];

function table(targets: TargetName[], results: Map<TargetName, { figures: Figures }>): string {
  const hasKafka = targets.includes("kafka");
  const ours = targets.filter((t) => t !== "kafka");
  const head = ["figure", ...targets.map((t) => TITLES[t])];
  if (hasKafka) head.push(...ours.map((t) => `${TITLES[t]} / Kafka`));
  const kf = results.get("kafka")?.figures;
  const rows = ROWS.map(([key, label]) => {
    const row = [label, ...targets.map((t) => fmt(results.get(t)?.figures[key]))];
    if (hasKafka) {
      for (const t of ours) {
        const v = results.get(t)?.figures[key];
        const k = kf?.[key];
        row.push(v == null || k == null || k === 0 ? "n/a" : `${(v / k).toFixed(2)}x`);
      }
    }
    return row;
  });
  return mdTable(head, rows);
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const values = await benchFlags(import.meta.url, {
    targets: { type: "string", default: "kafka,memory,default" },
    scale: { type: "string", default: "1" },
    out: { type: "string", default: `${ROOT}bench/results/transactions.md` },
    "port-base": { type: "string", default: "43092" },
    txns: { type: "string", default: "300" },
    repeat: { type: "string", default: "1" },
    profile: { type: "string" },
  });
  if (!values) return 0;
  const targets = values.targets.split(",").map((s) => s.trim()) as TargetName[];
  for (const t of targets) if (!(t in TITLES)) throw new Error(`unknown target ${t}`);
  const scale = Number(values.scale);
  const txns = Number(values.txns);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error("--repeat must be 1 or more");
  const profileDir = values.profile ?? null;
  if (profileDir) await Deno.mkdir(profileDir, { recursive: true });
  try {
    await Deno.stat(`${TOOLS_LIB}/kafka-tools-4.4.0.jar`);
  } catch {
    throw new Error(`${TOOLS_LIB} lacks kafka-tools: run deno task bench:kafka once first`);
  }
  const src = await brokerSource({ snapshot: values.snapshot, brokerSrc: values["broker-src"] });
  const brokerSrc = src.dir;
  const when = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const loadBefore = loadAverage();
  const results = new Map<TargetName, { figures: Figures; notes: string[]; seconds: number }>();
  let port = Number(values["port-base"]);
  const rounds = new Map<TargetName, { figures: Figures; notes: string[]; seconds: number }[]>();
  for (let round = 1; round <= repeat; round++) {
    for (const t of targets) {
      port = freePort(port + 2);
      console.error(
        `bench: round ${round}/${repeat}: ${TITLES[t]} on ${port} (load ${loadAverage()})`,
      );
      const broker = t === "kafka" ? await startKafka(port) : await startOurs(t, port, {
        src: brokerSrc,
        profileDir,
        flags: ["--log-level", "warning"],
      });
      try {
        rounds.set(t, [...(rounds.get(t) ?? []), await runTarget(t, broker, scale, txns)]);
      } finally {
        await broker.stop();
      }
    }
  }
  // The median of each figure over the rounds.
  for (const [t, rs] of rounds) {
    const figures: Figures = {};
    for (const key of new Set(rs.flatMap((r) => Object.keys(r.figures)))) {
      const vs = rs.map((r) => r.figures[key]).filter((v): v is number => v != null).sort((a, b) =>
        a - b
      );
      figures[key] = vs.length === 0
        ? null
        : vs.length % 2
        ? vs[(vs.length - 1) / 2]
        : (vs[vs.length / 2 - 1] + vs[vs.length / 2]) / 2;
    }
    results.set(t, {
      figures,
      notes: rs.flatMap((r) => r.notes),
      seconds: rs.reduce((a, r) => a + r.seconds, 0),
    });
  }
  const loadAfter = loadAverage();
  const md = [
    "# Transactional produce: ours vs Apache Kafka",
    "",
    `Run ${when} (\`deno run -A bench/transactions.ts ${
      Deno.args.join(" ")
    }\`), broker ${src.description}, load average before ${loadBefore}, after ${loadAfter}; ${
      repeat > 1 ? `medians of ${repeat} rounds (every broker in turn each round)` : "one round"
    }.`,
    "",
    await machineLine(),
    `- deno ${Deno.version.deno} (V8 ${Deno.version.v8}), ${await sh(
      "java -version 2>&1 | head -n 1",
    )}, kafka-tools 4.4.0 ProducerPerformance, bench/kafka-tools/EndTxnLatency.java`,
    "- ours: default flags (linger 0 with these stores); Kafka: scripts/apache_kafka.sh " +
    "(single node, KRaft, transaction log replication 1)",
    "",
    table(targets, results),
    "",
  ];
  const notes = targets.flatMap((t) =>
    (results.get(t)?.notes ?? []).map((x) => `- ${TITLES[t]}: ${x}`)
  );
  if (notes.length > 0) md.push("Notes:", "", ...notes, "");
  md.push(
    `Time per broker (all rounds): ${
      targets.map((t) => `${TITLES[t]} ${results.get(t)?.seconds.toFixed(0)} s`).join(", ")
    }.`,
    "",
  );
  const text = md.join("\n");
  console.log(text);
  if (!profileDir) {
    await Deno.mkdir(dirname(values.out), { recursive: true });
    await Deno.writeTextFile(values.out, text);
    const json = values.out.replace(/(\.md)?$/, ".json");
    await Deno.writeTextFile(
      json,
      JSON.stringify(
        {
          when,
          args: Deno.args,
          figures: Object.fromEntries(results),
          rounds: Object.fromEntries(rounds),
        },
        null,
        2,
      ) +
        "\n",
    );
    console.error(`bench: wrote ${values.out} and ${json}`);
  }
  return 0;
}

await runMain("bench", main);
