/**
 * Helpers shared by the benchmarks (bench/produce_consume.ts, bench/shared_stores.ts): child
 * processes that are killed on exit (also on error or Ctrl-C), /proc statistics, the librdkafka
 * driver, free ports, the machine's description and a snapshot of the working tree.
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

export const ROOT = new URL("../", import.meta.url).pathname;
const RDKAFKA = `${ROOT}bench/rdkafka_perf.py`;
const FORBIDDEN_PORTS = new Set([19092, 19093, 29092, 29093]);

// ---------------------------------------------------------------- processes and cleanup

/** Children still running, killed on exit. */
const live = new Set<Deno.ChildProcess>();
/** Temporary directories to delete on exit. */
const tempDirs = new Set<string>();
/** More to undo on exit (servers, brokers that are not our children). */
const undo = new Set<() => PromiseLike<void>>();

export function killChild(child: Deno.ChildProcess, signal: Deno.Signal = "SIGKILL"): void {
  try {
    child.kill(signal);
  } catch { /* already gone */ }
}

/** Runs `fn` on exit unless it was removed (the returned function removes it). */
export function atExit(fn: () => PromiseLike<void>): () => void {
  undo.add(fn);
  return () => undo.delete(fn);
}

/** A temporary directory removed on exit. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  tempDirs.add(dir);
  return dir;
}

/** Set once cleanup began: nothing new is started after it. */
let stopping = false;

/** Kills every child, runs the exit hooks and removes the temporary directories. */
export async function cleanup(): Promise<void> {
  stopping = true;
  for (const c of live) killChild(c);
  live.clear();
  const hooks = [...undo];
  undo.clear();
  await Promise.all(hooks.map((fn) => Promise.resolve(fn()).catch(() => {})));
  for (const d of tempDirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  tempDirs.clear();
}

/**
 * Runs a benchmark's main function with cleanup on return, on error and on SIGINT, SIGTERM or
 * SIGHUP, then exits with its code.
 */
export async function runMain(name: string, main: () => Promise<number>): Promise<never> {
  let interrupted = false;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    Deno.addSignalListener(sig, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\n${name}: ${sig}: stopping every process started`);
      cleanup().finally(() => Deno.exit(130));
    });
  }
  let code = 1;
  try {
    code = await main();
  } catch (e) {
    console.error(`${name}: ${(e as Error).stack ?? e}`);
  } finally {
    await cleanup();
  }
  Deno.exit(code);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** A started command whose output is collected; `done` resolves when it exits or times out. */
export interface Running {
  child: Deno.ChildProcess;
  done: Promise<RunResult>;
  /** Resolves when stdout or stderr has shown `text` (or rejects when the process ends first). */
  waitFor(text: string): Promise<void>;
}

export function start(
  cmd: string,
  args: string[],
  timeoutMs: number,
  cwd = ROOT,
  env?: Record<string, string>,
): Running {
  if (stopping) throw new Error(`not starting ${cmd}: stopping`);
  const t0 = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    cwd,
    env,
  }).spawn();
  live.add(child);
  let stdout = "";
  let stderr = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  const shown = (text: string) => stderr.includes(text) || stdout.includes(text);
  const pump = async (s: ReadableStream<Uint8Array>, err: boolean) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      const t = dec.decode(chunk, { stream: true });
      if (err) stderr += t;
      else stdout += t;
      for (const w of waiters.splice(0)) {
        if (shown(w.text)) w.resolve();
        else waiters.push(w);
      }
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killChild(child);
  }, timeoutMs);
  const done = (async () => {
    const [status] = await Promise.all([
      child.status,
      pump(child.stdout, false),
      pump(child.stderr, true),
    ]);
    clearTimeout(timer);
    live.delete(child);
    return { code: status.code, stdout, stderr, ms: performance.now() - t0, timedOut };
  })();
  return {
    child,
    done,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        if (shown(text)) return resolve();
        waiters.push({ text, resolve });
        done.then(() => reject(new Error(`${cmd} ended before printing ${JSON.stringify(text)}`)));
      }),
  };
}

export function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return start(cmd, args, timeoutMs).done;
}

export function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** The librdkafka driver (bench/rdkafka_perf.py). */
export function rdkafka(args: string[], timeoutMs: number): Running {
  return start("python3", [RDKAFKA, ...args], timeoutMs);
}

/** The JSON object on the last line of a tool's output, or null. */
export function parseJson(out: string): Record<string, number> | null {
  const line = out.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/** The first line of a tool's complaint, for the notes. */
export function reason(r: RunResult): string {
  if (r.timedOut) return `timed out after ${(r.ms / 1000).toFixed(0)} s`;
  const text = r.stderr + "\n" + r.stdout;
  const m = /(?:Exception|Error)[^\n]*: ([^\n]+)/.exec(text);
  return (m?.[1] ?? tail(text, 1)).slice(0, 160);
}

// ---------------------------------------------------------------- process statistics

/** User + system CPU seconds of a process so far (NaN once it is gone). */
export function cpuSecondsOf(pid: number): number {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Samples VmRSS of a process and reads its VmHWM and CPU time. */
export class ProcStats {
  peakRssKiB = 0;
  hwmKiB = 0;
  private timer: ReturnType<typeof setInterval>;

  constructor(readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 200);
  }

  sample(): void {
    try {
      const s = Deno.readTextFileSync(`/proc/${this.pid}/status`);
      const rss = Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
      const hwm = Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0);
      this.peakRssKiB = Math.max(this.peakRssKiB, rss);
      this.hwmKiB = Math.max(this.hwmKiB, hwm);
    } catch { /* exited */ }
  }

  /** User + system CPU seconds so far. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.pid);
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

// ---------------------------------------------------------------- ports

export function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** The first port from `from` such that it and the next one are free and allowed. */
export function freePort(from: number): number {
  for (let p = from; p < 65000; p++) {
    if (FORBIDDEN_PORTS.has(p) || FORBIDDEN_PORTS.has(p + 1)) continue;
    if (portFree(p) && portFree(p + 1)) return p;
  }
  throw new Error("no free port");
}

// ---------------------------------------------------------------- the report

export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** A Markdown table; the first `leftColumns` columns are left-aligned, the rest right-aligned. */
export function mdTable(head: string[], rows: string[][], leftColumns = 1): string {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => i < leftColumns ? "---" : "---:").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** A shell command's output, trimmed ("?" when it could not run). */
export async function sh(cmd: string): Promise<string> {
  const r = await run("bash", ["-c", cmd], 30_000).catch(() => null);
  return r ? r.stdout.trim() : "?";
}

/** A Markdown list item naming the machine: CPUs, CPU model, memory, kernel. */
export async function machineLine(): Promise<string> {
  const mem = await sh("free -h | awk '/^Mem:/ {print $2}'");
  return `- machine: ${await sh("nproc")} CPUs (\`nproc\`), ${await sh(
    "lscpu | grep 'Model name' | sed 's/.*: *//'",
  )}, ${mem} memory, ${await sh("uname -sr")}`;
}

/** "confluent-kafka X / librdkafka Y", as the installed Python package says. */
export function confluentVersion(): Promise<string> {
  return sh(
    'python3 -c \'import confluent_kafka as c; print("confluent-kafka", (lambda v: v if isinstance(v, str) else v[0])(c.version()), "/ librdkafka", c.libversion()[0])\'',
  );
}

/** Where brokers run main.ts from, and how the report describes it. */
export interface BrokerSource {
  /** A directory ending in "/". */
  dir: string;
  description: string;
}

/**
 * The broker code to run: another copy (`brokerSrc`, e.g. a patched one), a copy of the working
 * tree taken now (`snapshot`: edits made in the checkout during the run cannot mix versions), or
 * this checkout as it is.
 */
export async function brokerSource(
  opts: { snapshot: boolean; brokerSrc?: string },
): Promise<BrokerSource> {
  const commit = await sh(`git -C '${ROOT}' rev-parse --short HEAD`);
  if (opts.brokerSrc) {
    const dir = opts.brokerSrc.replace(/\/?$/, "/");
    return { dir, description: `${dir} (--broker-src; this checkout is at commit ${commit})` };
  }
  if (opts.snapshot) {
    // Tracked and untracked, not ignored files.
    const dir = await tempDir("skb-bench-src-");
    const r = await run("bash", [
      "-c",
      `cd '${ROOT}' && git ls-files -z --cached --others --exclude-standard |` +
      ` tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -x -C '${dir}'`,
    ], 120_000);
    if (r.code !== 0) throw new Error(`copying the working tree failed:\n${tail(r.stderr)}`);
    const dirty = await sh(`git -C '${ROOT}' status --porcelain | head -c 1`);
    return {
      dir: `${dir}/`,
      description: `commit ${commit}${dirty ? " plus uncommitted changes" : ""} (a copy of ` +
        "the working tree taken at the start)",
    };
  }
  const dirty = await sh(
    `git -C '${ROOT}' status --porcelain -- main.ts broker handlers protocol stores | head -c 1`,
  );
  return {
    dir: ROOT,
    description: `commit ${commit}${dirty ? " plus uncommitted changes" : ""} (the working tree)`,
  };
}

/** Flags every benchmark has: --snapshot, --broker-src DIR (see brokerSource()) and --help. */
const COMMON_FLAGS = {
  snapshot: { type: "boolean", default: false },
  "broker-src": { type: "string" },
  help: { type: "boolean", default: false },
} as const;

/**
 * The command line: `options` plus the common flags, unknown flags refused. With --help, prints
 * the module's first comment and resolves to null.
 */
export async function benchFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  moduleUrl: string,
  options: O,
) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { ...options, ...COMMON_FLAGS },
    strict: true,
  });
  if ((values as { help?: boolean }).help) {
    const src = await Deno.readTextFile(new URL(moduleUrl));
    console.log(src.slice(src.indexOf("/**") + 3, src.indexOf("*/")).replace(/^ \* ?/gm, ""));
    return null;
  }
  return values;
}
