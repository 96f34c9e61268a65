/**
 * Share group (KIP-932) benchmark: share consumption throughput and redelivery latency, this
 * broker (memory stores) side by side with a single-node Apache Kafka 4.4
 * (scripts/apache_kafka.sh) on the same machine, with the same clients and record size.
 *
 *   deno run -A bench/share_groups.ts [--targets kafka,memory] [--records 200000]
 *                                     [--threads 1,3] [--repeat 1] [--out FILE]
 *
 * Per broker, in turn:
 *
 *   throughput   ProducerPerformance writes --records records of 1 KiB to a one-partition topic
 *                (acks=all, linger.ms=5); then, for each --threads count T, Kafka's own
 *                ShareConsumerPerformance (kafka-tools 4.4: T KafkaShareConsumers in one fresh
 *                share group set to share.auto.offset.reset=earliest with kafka-configs,
 *                implicit acknowledgement) consumes them all; its MB.sec and nMsg.sec, which
 *                count from its start, so the joins are in the figure for both brokers
 *   release      bench/share_perf.py (librdkafka's ShareConsumer, explicit acknowledgement) on
 *                2,000 records of 1 KiB: each released twice, then accepted; the latency from
 *                the release's commit_sync to the poll that hands the record over again
 *   expiry       the same client: one consumer holds a poll's records without acknowledging,
 *                another gets them once the acquisition lock (share.record.lock.duration.ms set
 *                to Kafka's smallest, 15 s) ran out; how long after the lock's end they came
 *
 * The table (Markdown, with the ratio ours/Kafka) is printed and written to --out (default
 * bench/results/share_groups.md), the figures as JSON beside it. Every child process is
 * killed on exit, also on error or Ctrl-C.
 *
 * Flags: --targets (kafka, memory, default: SQLite + file), --records, --threads, --repeat N
 * (medians of N rounds), --port-base N (default 43092), --out FILE, --snapshot,
 * --broker-src DIR, --help.
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
  mdTable,
  parseJson,
  reason,
  ROOT,
  run,
  runMain,
  type Running,
  start,
} from "./util.ts";
import { type BrokerHandle, startKafka, startOurs } from "./brokers.ts";

const TOOLS_LIB = `${ROOT}.tools/kafka-tools/lib`;
const TOOLS_LOG4J = `${ROOT}bench/kafka-tools/log4j2.properties`;
const SHARE_PERF = `${ROOT}bench/share_perf.py`;
const LOCK_MS = 15_000;

type TargetName = "kafka" | "memory" | "default";
const TITLES: Record<TargetName, string> = {
  kafka: "Apache Kafka 4.4",
  memory: "ours (memory)",
  default: "ours (SQLite+file)",
};

type Figures = Record<string, number | null>;

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

/** The figures of ShareConsumerPerformance's last line (start, end, MB, MB.sec, nMsg.sec, n, ms). */
function parseSharePerf(out: string): { mb: number; rps: number; n: number } | null {
  const line = out.trim().split("\n").filter((l) => /^\d{4}-/.test(l)).pop();
  if (!line) return null;
  const f = line.split(",").map((x) => x.trim());
  const n = Number(f[5]);
  return Number.isFinite(n) ? { mb: Number(f[3]), rps: Number(f[4]), n } : null;
}

async function groupConfigs(bootstrap: string, group: string, configs: string, notes: string[]) {
  const r = await javaTool("ConfigCommand", [
    "--bootstrap-server",
    bootstrap,
    "--entity-type",
    "groups",
    "--entity-name",
    group,
    "--alter",
    "--add-config",
    configs,
  ], 60_000).done;
  if (r.code !== 0) notes.push(`kafka-configs for ${group} failed: ${reason(r)}`);
}

async function createTopic(bootstrap: string, topic: string, notes: string[]) {
  const r = await javaTool("TopicCommand", [
    "--bootstrap-server",
    bootstrap,
    "--create",
    "--topic",
    topic,
    "--partitions",
    "1",
    "--replication-factor",
    "1",
  ], 60_000).done;
  if (r.code !== 0) notes.push(`creating ${topic} failed: ${reason(r)}`);
}

async function produce(bootstrap: string, topic: string, records: number, notes: string[]) {
  const r = await javaTool("ProducerPerformance", [
    "--bootstrap-server",
    bootstrap,
    "--topic",
    topic,
    "--num-records",
    String(records),
    "--record-size",
    "1024",
    "--throughput",
    "-1",
    "--command-property",
    "acks=all",
    "linger.ms=5",
    "batch.size=131072",
  ], 600_000).done;
  if (!/records sent/.test(r.stdout)) notes.push(`producing to ${topic} failed: ${reason(r)}`);
}

async function runTarget(
  t: TargetName,
  broker: BrokerHandle,
  opts: { records: number; threads: number[]; round: number },
): Promise<{ figures: Figures; notes: string[] }> {
  const B = broker.bootstrap;
  const figures: Figures = {};
  const notes: string[] = [];
  const log = (m: string) => console.error(`bench: ${TITLES[t]}: ${m} (load ${loadAverage()})`);
  const topic = `share-1k-${opts.round}`;
  await createTopic(B, topic, notes);
  log(`ProducerPerformance ${opts.records} x 1 KiB`);
  await produce(B, topic, opts.records, notes);
  for (const threads of opts.threads) {
    const group = `share-perf-${threads}-${opts.round}`;
    await groupConfigs(B, group, "share.auto.offset.reset=earliest", notes);
    log(`ShareConsumerPerformance, ${threads} consumer(s)`);
    const c0 = broker.stats.cpuSeconds();
    const r = await javaTool("ShareConsumerPerformance", [
      "--bootstrap-server",
      B,
      "--topic",
      topic,
      "--group",
      group,
      "--num-records",
      String(opts.records),
      "--threads",
      String(threads),
      "--timeout",
      "30000",
    ], 600_000).done;
    const p = parseSharePerf(r.stdout);
    if (p && p.n >= opts.records) {
      figures[`t${threads}.mb`] = p.mb;
      figures[`t${threads}.rps`] = p.rps;
      figures[`t${threads}.cpu`] = broker.stats.cpuSeconds() - c0;
    } else {
      notes.push(
        `ShareConsumerPerformance (${threads}) read ${p?.n ?? 0} of ${opts.records}: ${reason(r)}`,
      );
    }
  }
  // Redelivery after a release, and after an expired lock.
  const rtopic = `share-redeliver-${opts.round}`;
  await createTopic(B, rtopic, notes);
  await produce(B, rtopic, 2000, notes);
  await groupConfigs(B, `share-release-${opts.round}`, "share.auto.offset.reset=earliest", notes);
  log("release -> redelivery latency (librdkafka)");
  const rel = await run("python3", [
    SHARE_PERF,
    "release",
    "--bootstrap",
    B,
    "--topic",
    rtopic,
    "--group",
    `share-release-${opts.round}`,
    "--records",
    "2000",
  ], 180_000);
  const rj = parseJson(rel.stdout);
  if (rel.code === 0 && rj) {
    figures["rel.p50"] = rj.p50;
    figures["rel.p99"] = rj.p99;
    figures["rel.n"] = rj.samples;
  } else notes.push(`release latency failed: ${reason(rel)}`);
  await groupConfigs(
    B,
    `share-expiry-${opts.round}`,
    `share.auto.offset.reset=earliest,share.record.lock.duration.ms=${LOCK_MS}`,
    notes,
  );
  log("lock expiry -> redelivery (librdkafka)");
  const exp = await run("python3", [
    SHARE_PERF,
    "expiry",
    "--bootstrap",
    B,
    "--topic",
    rtopic,
    "--group",
    `share-expiry-${opts.round}`,
    "--lock-ms",
    String(LOCK_MS),
    "--timeout-ms",
    "90000",
  ], 120_000);
  const ej = parseJson(exp.stdout);
  if (exp.code === 0 && ej) {
    figures["exp.p50"] = ej.p50;
    figures["exp.max"] = ej.max;
    figures["exp.n"] = ej.samples;
  } else notes.push(`expiry latency failed: ${reason(exp)}`);
  figures["rss.mib"] = broker.stats.hwmKiB / 1024;
  return { figures, notes };
}

/** What the figures mean, under the table. */
const READING = [
  "How to read it:",
  "",
  "- Throughput is ShareConsumerPerformance's own MB.sec and nMsg.sec, counted from its start,",
  "  so both brokers' figures include the JVM start and the share group join (the same client,",
  "  the same 1 KiB records of one ProducerPerformance run). Both cap a share-partition's",
  "  in-flight records at 2,000 (group.share.partition.max.record.locks). Apache Kafka also",
  "  writes every share-partition state change to its share coordinator's __share_group_state",
  "  topic; this broker keeps it in the meta store (one compare-and-set record per",
  "  share-partition).",
  "- release -> redelivery: from commit_sync confirming a Release to the poll that hands the",
  "  record back (the same consumer, delivery count raised), 2,000 records released twice each.",
  "- lock expiry -> redelivery: a second consumer is long-polling while the first holds records",
  "  without acknowledging; the figure is how long after the lock's end (first hand-over +",
  `  ${LOCK_MS / 1000} s, measured on the client) they reach the second one.`,
  "- Broker CPU s is the broker process's user + system time during that consumption only.",
];

function median(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

async function main(): Promise<number> {
  const values = await benchFlags(import.meta.url, {
    targets: { type: "string", default: "kafka,memory" },
    records: { type: "string", default: "200000" },
    threads: { type: "string", default: "1,3" },
    repeat: { type: "string", default: "1" },
    "port-base": { type: "string", default: "43092" },
    out: { type: "string", default: `${ROOT}bench/results/share_groups.md` },
  });
  if (!values) return 0;
  const targets = values.targets!.split(",").map((s) => s.trim()) as TargetName[];
  for (const t of targets) {
    if (!(t in TITLES)) throw new Error(`--targets: unknown ${t} (kafka, memory or default)`);
  }
  const records = Number(values.records);
  const threads = values.threads!.split(",").map(Number);
  const repeat = Number(values.repeat);
  const source = await brokerSource({
    snapshot: values.snapshot as boolean,
    brokerSrc: values["broker-src"] as string | undefined,
  });
  const when = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const loadBefore = loadAverage();
  const t0 = performance.now();
  const rounds = new Map<TargetName, { figures: Figures; notes: string[] }[]>(
    targets.map((t) => [t, []]),
  );
  let port = Number(values["port-base"]);
  for (let round = 1; round <= repeat; round++) {
    for (const t of targets) {
      port = freePort(port);
      console.error(`bench: round ${round}/${repeat}: starting ${TITLES[t]} on 127.0.0.1:${port}`);
      const broker = t === "kafka" ? await startKafka(port) : await startOurs(t, port, {
        src: source.dir,
        profileDir: null,
        flags: ["--group-initial-rebalance-delay-ms", "0"],
      });
      try {
        rounds.get(t)!.push(await runTarget(t, broker, { records, threads, round }));
      } finally {
        await broker.stop();
      }
      port += 2;
    }
  }
  const combined = new Map<TargetName, Figures>();
  for (const t of targets) {
    const rs = rounds.get(t)!;
    const keys = new Set(rs.flatMap((r) => Object.keys(r.figures)));
    combined.set(
      t,
      Object.fromEntries([...keys].map((k) => [k, median(rs.map((r) => r.figures[k] ?? null))])),
    );
  }
  const rows: [string, string][] = [
    ...threads.flatMap((n): [string, string][] => [
      [`t${n}.mb`, `share consume, ${n} consumer(s) (ShareConsumerPerformance): MB/s`],
      [`t${n}.rps`, `share consume, ${n} consumer(s): records/s`],
      [`t${n}.cpu`, `share consume, ${n} consumer(s): broker CPU s`],
    ]),
    ["rel.p50", "release -> redelivery (librdkafka): p50 ms"],
    ["rel.p99", "release -> redelivery: p99 ms"],
    ["rel.n", "release -> redelivery: samples"],
    ["exp.p50", `lock expiry (${LOCK_MS / 1000} s) -> redelivery: p50 ms after the lock's end`],
    ["exp.max", "lock expiry -> redelivery: max ms after the lock's end"],
    ["exp.n", "lock expiry -> redelivery: samples"],
    ["rss.mib", "broker peak RSS (VmHWM) MiB"],
  ];
  const hasKafka = targets.includes("kafka");
  const ours = targets.filter((t) => t !== "kafka");
  const head = [
    "figure",
    ...targets.map((t) => TITLES[t]),
    ...(hasKafka ? ours.map((t) => `${TITLES[t]} / Kafka`) : []),
  ];
  const table = mdTable(
    head,
    rows.map(([k, title]) => [
      title,
      ...targets.map((t) => fmt(combined.get(t)![k])),
      ...(hasKafka
        ? ours.map((t) => {
          const a = combined.get(t)![k];
          const b = combined.get("kafka")![k];
          return a !== null && b !== null && a !== undefined && b !== undefined && b !== 0
            ? `${(a / b).toFixed(2)}x`
            : "n/a";
        })
        : []),
    ]),
  );
  const notes = targets.flatMap((t) =>
    rounds.get(t)!.flatMap((r) => r.notes.map((n) => `${TITLES[t]}: ${n}`))
  );
  const md = [
    "# Share groups (KIP-932): stateless-kafka-broker vs Apache Kafka",
    "",
    `Run ${when} by \`deno run -A bench/share_groups.ts ${Deno.args.join(" ")}\`; took ${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s.`,
    "",
    `- broker code: ${source.description}`,
    await machineLine(),
    `- clients: Kafka 4.4's ShareConsumerPerformance and ProducerPerformance (kafka-tools), ` +
    `${await confluentVersion()} (bench/share_perf.py)`,
    `- ${records} records of 1 KiB on one partition; load average before: ${loadBefore}, after: ${loadAverage()}`,
    ...(repeat > 1 ? [`- ${repeat} rounds, brokers in turn; medians`] : []),
    "",
    table,
    "",
    ...READING,
    "",
    ...(notes.length ? ["Notes:", "", ...notes.map((n) => `- ${n}`), ""] : []),
  ].join("\n");
  console.log(md);
  const out = values.out as string;
  await Deno.mkdir(dirname(out), { recursive: true });
  await Deno.writeTextFile(out, md);
  await Deno.writeTextFile(
    out.replace(/\.md$/, "") + ".json",
    JSON.stringify(Object.fromEntries([...rounds].map(([t, rs]) => [t, rs])), null, 2) + "\n",
  );
  return notes.length ? 1 : 0;
}

if (import.meta.main) await runMain("bench/share_groups", main);
