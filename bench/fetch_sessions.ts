/**
 * Fetch sessions (KIP-227) on a 100-partition topic: our broker (memory
 * stores) with sessions (the default, 1000 slots) and without them
 * (--max-incremental-fetch-session-cache-slots 0), the same Java consumer
 * (Kafka's ConsumerPerformance, which fetches incrementally whenever the
 * broker answers a session id) in both.
 *
 *   catch-up   ConsumerPerformance reads 100k records of 1 KiB (produced in
 *              the producer's default 16 KiB batches) from the beginning
 *              with --fetch-size 65536 (max.partition.fetch.bytes), so that
 *              each of some 16 Fetches carries a slice of every partition
 *              (fetch MB/s, as the main bench reports it; with the default
 *              1 MiB the whole topic comes in one or two Fetches)
 *   tail       ConsumerPerformance stays caught up while ProducerPerformance
 *              sends 500 records/s of 1 KiB for 20 s: Fetch requests,
 *              request and response bytes per Fetch, broker CPU
 *
 * Request and response bytes come from the broker's /metrics
 * (skb_bytes_in_total, skb_bytes_out_total) over each phase; the tail
 * phase's producer bytes are the same in both modes, so the difference
 * between the modes is the fetches'. Rounds alternate the modes; the table
 * holds medians. Written to bench/results/fetch_sessions.md (or --out).
 *
 * Flags: --rounds N (default 3), --scale F (record counts times F),
 * --out FILE, --port-base N (default 47092).
 */

import {
  benchFlags,
  brokerSource,
  fmt,
  freePort,
  loadAverage,
  machineLine,
  mdTable,
  reason,
  ROOT,
  run,
  runMain,
  type Running,
  start,
} from "./util.ts";
import { startOurs } from "./brokers.ts";
import { WireClient } from "../tests/wire_client.ts";
import { createTopic } from "../tests/helpers.ts";

const TOOLS_LIB = `${ROOT}.tools/kafka-tools/lib`;
const TOOLS_LOG4J = `${ROOT}bench/kafka-tools/log4j2.properties`;
const PARTITIONS = 100;

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

/** The counters of /metrics this bench reads. */
interface Scrape {
  bytesIn: number;
  bytesOut: number;
  fetches: number;
  incremental: number;
  cpu: number;
}

async function scrape(httpPort: number, cpu: () => number): Promise<Scrape> {
  const text = await fetch(`http://127.0.0.1:${httpPort}/metrics`).then((r) => r.text());
  const one = (re: RegExp) => {
    let sum = 0;
    for (const m of text.matchAll(re)) sum += Number(m[1]);
    return sum;
  };
  return {
    bytesIn: one(/^skb_bytes_in_total (\S+)$/gm),
    bytesOut: one(/^skb_bytes_out_total (\S+)$/gm),
    fetches: one(/^skb_requests_total\{api_key="1",[^}]*\} (\S+)$/gm),
    incremental: one(/^skb_fetch_requests_by_session\{kind="incremental"\} (\S+)$/gm),
    cpu: cpu(),
  };
}

const minus = (a: Scrape, b: Scrape): Scrape => ({
  bytesIn: a.bytesIn - b.bytesIn,
  bytesOut: a.bytesOut - b.bytesOut,
  fetches: a.fetches - b.fetches,
  incremental: a.incremental - b.incremental,
  cpu: a.cpu - b.cpu,
});

function consumerPerf(out: string): { mbPerS: number; recordsPerS: number } | null {
  const lines = out.trim().split("\n").filter((l) => /^\d{4}-\d\d-\d\d /.test(l));
  if (lines.length === 0) return null;
  const f = lines[lines.length - 1].split(",").map((s) => s.trim());
  // start, end, MB, MB.sec, nMsg, nMsg.sec, rebalance.ms, fetch.ms, fetch.MB.sec, fetch.nMsg.sec
  return f.length < 10 ? null : { mbPerS: Number(f[8]), recordsPerS: Number(f[9]) };
}

type Mode = "sessions" | "no sessions";
type Figures = Record<string, number>;

async function round(mode: Mode, port: number, src: string, scale: number): Promise<Figures> {
  const flags = ["--http-port", String(port + 1), "--group-initial-rebalance-delay-ms", "0"];
  if (mode === "no sessions") flags.push("--max-incremental-fetch-session-cache-slots", "0");
  flags.push("--log-level", "warning");
  const broker = await startOurs("memory", port, { src, flags, profileDir: null });
  const cpu = () => broker.stats.cpuSeconds();
  const f: Figures = {};
  try {
    {
      await using c = await WireClient.connect(port);
      await createTopic(c, "catchup", PARTITIONS);
      await createTopic(c, "tail", PARTITIONS);
    }
    const records = Math.round(100_000 * scale);
    const props = [
      "acks=all",
      "linger.ms=5",
      "batch.size=131072",
      `bootstrap.servers=${broker.bootstrap}`,
    ];
    const produced = await javaTool("ProducerPerformance", [
      "--topic",
      "catchup",
      "--num-records",
      String(records),
      "--record-size",
      "1024",
      "--throughput",
      "-1",
      "--producer-props",
      ...props.map((p) => p.startsWith("batch.size=") ? "batch.size=16384" : p),
    ], 300_000).done;
    if (produced.code !== 0) throw new Error(`ProducerPerformance: ${reason(produced)}`);

    // Catch-up: from the beginning.
    let s0 = await scrape(port + 1, cpu);
    const consumed = await javaTool("ConsumerPerformance", [
      "--bootstrap-server",
      broker.bootstrap,
      "--topic",
      "catchup",
      "--num-records",
      String(records),
      "--timeout",
      "30000",
      "--group",
      `catchup-${mode.replace(" ", "-")}`,
      // max.partition.fetch.bytes (ConsumerPerformance sets it from --fetch-size):
      // 64 KiB, four of the producer's 16 KiB batches, so that the 100 MB take
      // some 16 Fetches of every partition.
      "--fetch-size",
      "65536",
    ], 300_000).done;
    const perf = consumerPerf(consumed.stdout);
    if (!perf) throw new Error(`ConsumerPerformance: ${reason(consumed)}`);
    let d = minus(await scrape(port + 1, cpu), s0);
    f["catchup.mb"] = perf.mbPerS;
    f["catchup.fetches"] = d.fetches;
    f["catchup.inPerFetch"] = d.bytesIn / d.fetches;
    f["catchup.cpu"] = d.cpu;
    f["catchup.incremental"] = d.incremental / d.fetches;

    // Tail: a caught-up consumer while records trickle in.
    const trickle = Math.round(10_000 * scale);
    const tail = javaTool("ConsumerPerformance", [
      "--bootstrap-server",
      broker.bootstrap,
      "--topic",
      "tail",
      "--num-records",
      String(trickle),
      "--timeout",
      "30000",
      "--group",
      `tail-${mode.replace(" ", "-")}`,
    ], 300_000);
    // Let it join and start polling the empty topic.
    await new Promise((r) => setTimeout(r, 3000));
    s0 = await scrape(port + 1, cpu);
    const t0 = performance.now();
    const sent = await javaTool("ProducerPerformance", [
      "--topic",
      "tail",
      "--num-records",
      String(trickle),
      "--record-size",
      "1024",
      "--throughput",
      "500",
      "--producer-props",
      ...props,
    ], 300_000).done;
    if (sent.code !== 0) throw new Error(`ProducerPerformance (tail): ${reason(sent)}`);
    const tailDone = await tail.done;
    if (!consumerPerf(tailDone.stdout)) throw new Error(`tail consumer: ${reason(tailDone)}`);
    d = minus(await scrape(port + 1, cpu), s0);
    const seconds = (performance.now() - t0) / 1000;
    f["tail.fetchesPerS"] = d.fetches / seconds;
    f["tail.inPerFetch"] = (d.bytesIn - trickle * 1024) / d.fetches;
    f["tail.outPerFetch"] = (d.bytesOut - trickle * 1024) / d.fetches;
    f["tail.cpu"] = d.cpu;
    f["tail.incremental"] = d.incremental / d.fetches;
  } finally {
    await broker.stop();
  }
  return f;
}

const ROWS: [string, string][] = [
  ["catchup.mb", "catch-up (64 KiB partition fetches): ConsumerPerformance fetch MB/s"],
  ["catchup.fetches", "catch-up: Fetch requests"],
  ["catchup.inPerFetch", "catch-up: request bytes per Fetch"],
  ["catchup.cpu", "catch-up: broker CPU s"],
  ["catchup.incremental", "catch-up: share of Fetches incremental"],
  ["tail.fetchesPerS", "tail: Fetch requests/s"],
  ["tail.inPerFetch", "tail: request bytes per Fetch (producer's record bytes taken out)"],
  ["tail.outPerFetch", "tail: response bytes per Fetch (record bytes taken out)"],
  ["tail.cpu", "tail: broker CPU s (20 s at 500 records/s)"],
  ["tail.incremental", "tail: share of Fetches incremental"],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<number> {
  const flags = await benchFlags(import.meta.url, {
    rounds: { type: "string", default: "3" },
    scale: { type: "string", default: "1" },
    out: { type: "string", default: `${ROOT}bench/results/fetch_sessions.md` },
    "port-base": { type: "string", default: "47092" },
  });
  if (!flags) return 0;
  const rounds = Number(flags.rounds);
  const scale = Number(flags.scale);
  const src = await brokerSource({ snapshot: flags.snapshot, brokerSrc: flags["broker-src"] });
  const java = await run("java", ["-version"], 30_000);
  if (java.code !== 0) throw new Error("java is needed (ConsumerPerformance)");
  const results: Record<Mode, Figures[]> = { "sessions": [], "no sessions": [] };
  for (let r = 0; r < rounds; r++) {
    for (
      const mode of (r % 2 ? ["no sessions", "sessions"] : ["sessions", "no sessions"]) as Mode[]
    ) {
      const port = freePort(Number(flags["port-base"]));
      console.error(`bench: round ${r + 1}/${rounds}, ${mode} (load ${loadAverage()})`);
      const f = await round(mode, port, src.dir, scale);
      console.error(`bench:   ${JSON.stringify(f)}`);
      results[mode].push(f);
    }
  }
  const med = (mode: Mode, k: string) => median(results[mode].map((f) => f[k]));
  const rows = ROWS.map(([k, title]) => {
    const a = med("sessions", k);
    const b = med("no sessions", k);
    return [title, fmt(a), fmt(b), b ? `${(a / b).toFixed(2)}x` : "n/a"];
  });
  const md = [
    "# Fetch sessions (KIP-227), 100 partitions",
    "",
    `\`deno run -A bench/fetch_sessions.ts --rounds ${rounds}${
      scale !== 1 ? ` --scale ${scale}` : ""
    }\`, ` +
    `${new Date().toISOString().slice(0, 16)} UTC; medians of ${rounds} rounds.`,
    "",
    `- broker: ${src.description}, memory stores`,
    await machineLine(),
    `- clients: Kafka 4.4's ConsumerPerformance and ProducerPerformance (.tools/kafka-tools)`,
    "",
    mdTable(["", "sessions (1000 slots)", "no sessions (0 slots)", "ratio"], rows),
    "",
  ].join("\n");
  await Deno.writeTextFile(flags.out, md);
  console.log(md);
  return 0;
}

if (import.meta.main) await runMain("fetch_sessions", main);
