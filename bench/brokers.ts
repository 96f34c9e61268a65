/**
 * The brokers the comparison benches run side by side on one machine: Apache
 * Kafka 4.4 (single node, scripts/apache_kafka.sh) and this broker as a
 * process (`deno run main.ts`) on memory stores or on the default SQLite +
 * file stores. Each comes with its process's CPU and memory figures.
 */

import { atExit, killChild, portFree, ProcStats, ROOT, run, start, tail, tempDir } from "./util.ts";

const KAFKA_SCRIPT = `${ROOT}scripts/apache_kafka.sh`;

/** A broker a bench talks to. */
export interface BrokerHandle {
  bootstrap: string;
  stats: ProcStats;
  stop(): Promise<void>;
}

/** Apache Kafka brokers started by this run, by port (stopped at exit whatever happens). */
const kafkaPorts = new Set<number>();
atExit(() => Promise.all([...kafkaPorts].map(stopKafka)).then(() => {}));

/** Runs scripts/apache_kafka.sh with `args` (e.g. "fetch"). */
export function kafkaScript(args: string[], timeoutMs: number) {
  return run("bash", [KAFKA_SCRIPT, ...args], timeoutMs);
}

async function stopKafka(port: number): Promise<void> {
  await new Deno.Command("bash", {
    args: [KAFKA_SCRIPT, "stop", String(port)],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => {});
  kafkaPorts.delete(port);
}

/** Starts Apache Kafka 4.4 on 127.0.0.1:`port`. */
export async function startKafka(port: number): Promise<BrokerHandle> {
  let pid = 0;
  for (let attempt = 1; !pid; attempt++) {
    kafkaPorts.add(port);
    const r = await kafkaScript(["start", String(port)], 120_000);
    pid = r.code === 0 ? Number(r.stdout.trim().split("\n").pop()) : 0;
    if (pid) break;
    await stopKafka(port);
    // The script's random cluster id starts with "-" one time in 64, which the storage tool
    // takes for an option ("--cluster-id/-t: expected one argument"): try again.
    if (attempt >= 3) throw new Error(`Apache Kafka did not start:\n${tail(r.stderr)}`);
    console.error(`bench: Apache Kafka did not start (attempt ${attempt}); trying again`);
  }
  const stats = new ProcStats(pid);
  return {
    bootstrap: `127.0.0.1:${port}`,
    stats,
    async stop() {
      stats.stop();
      await stopKafka(port);
    },
  };
}

/** How to start this broker. */
export interface OursOptions {
  /** The checkout whose main.ts runs (this one, or a snapshot of HEAD). */
  src: string;
  /** Where --cpu-prof writes its profiles (one directory per store kind), or null. */
  profileDir: string | null;
  /** Flags beyond the address and the stores. */
  flags?: string[];
}

/** Starts this broker on 127.0.0.1:`port`, on memory stores or the default SQLite + file. */
export async function startOurs(
  kind: "memory" | "default",
  port: number,
  opts: OursOptions,
): Promise<BrokerHandle> {
  const flags = ["--host", "127.0.0.1", "--port", String(port), ...(opts.flags ?? [])];
  if (kind === "memory") flags.push("--meta", "memory:", "--log", "memory:");
  else flags.push("--data-dir", await tempDir("skb-bench-data-"));
  const prof = opts.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.profileDir}/${kind}`] : [];
  const broker = start(
    Deno.execPath(),
    ["run", "-A", ...prof, `${opts.src}main.ts`, ...flags],
    3_600_000,
    opts.src,
  );
  const listening = (async () => {
    for (let i = 0; i < 300; i++) {
      const r = await Promise.race([
        broker.done.then(() => "exited"),
        new Promise<string>((res) => setTimeout(() => res("wait"), 100)),
      ]);
      if (r === "exited") return false;
      if (!portFree(port)) return true;
    }
    return false;
  })();
  if (!(await listening)) {
    killChild(broker.child);
    const r = await broker.done;
    throw new Error(`our broker (${kind}) did not start:\n${tail(r.stdout + r.stderr)}`);
  }
  const stats = new ProcStats(broker.child.pid);
  return {
    bootstrap: `127.0.0.1:${port}`,
    stats,
    async stop() {
      stats.stop();
      // SIGTERM lets it drain and (under --cpu-prof) write its profile; SIGKILL after 30 s.
      killChild(broker.child, "SIGTERM");
      const killer = setTimeout(() => killChild(broker.child), 30_000);
      const r = await broker.done;
      clearTimeout(killer);
      if (r.code !== 0 && r.code !== 143) {
        console.error(`bench: our broker (${kind}) exited with ${r.code}:\n${tail(r.stderr)}`);
      }
    },
  };
}
