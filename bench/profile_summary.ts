/**
 * Summarises V8 CPU profiles (`.cpuprofile`, as written by `deno run --cpu-prof`): the functions
 * with the most self time and the most total (inclusive) time, each with file:line, and the self
 * time per file.
 *
 *   deno run -R bench/profile_summary.ts [--top 25] PROFILE_OR_DIR...
 *
 * Typical use: `deno task bench --targets memory --workloads produce --profile /tmp/prof`, then
 * `deno run -R bench/profile_summary.ts /tmp/prof`.
 */

import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = new URL("../", import.meta.url).href;
/**
 * Where a worker thread (the SQLite store's checkpointer) sits while it starts under
 * --cpu-prof, about half a second: waiting, not work.
 */
const IDLE_OP = "op_worker_maybe_wait_for_debugger";

function where(cf: CallFrame): string {
  let url = cf.url;
  if (url.startsWith(ROOT)) url = url.slice(ROOT.length);
  else if (url.includes("/node_modules/")) url = url.slice(url.lastIndexOf("/node_modules/") + 14);
  else if (url.startsWith("https://")) url = url.replace(/^https:\/\/[^/]+\//, "");
  if (!url) return "(native)";
  // V8 line numbers are 0-based.
  return `${url}:${cf.lineNumber + 1}`;
}

function key(cf: CallFrame): string {
  return `${cf.functionName || "(anonymous)"} ${where(cf)}`;
}

async function profiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await Deno.stat(p);
    if (st.isDirectory) {
      for await (const e of Deno.readDir(p)) {
        if (e.name.endsWith(".cpuprofile")) out.push(`${p}/${e.name}`);
      }
    } else out.push(p);
  }
  return out.sort();
}

function pct(us: number, total: number): string {
  return `${(100 * us / total).toFixed(1).padStart(5)}%`;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { top: { type: "string", default: "25" } },
    allowPositionals: true,
  });
  const top = Number(values.top);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const perFile = new Map<string, number>();
  let all = 0;
  let idle = 0;
  for (const file of await profiles(positionals)) {
    const prof: CpuProfile = JSON.parse(await Deno.readTextFile(file));
    const byId = new Map(prof.nodes.map((nd) => [nd.id, nd]));
    const parent = new Map<number, number>();
    for (const nd of prof.nodes) for (const c of nd.children ?? []) parent.set(c, nd.id);
    for (let i = 0; i < prof.samples.length; i++) {
      const dt = prof.timeDeltas[i + 1] ?? 0; // the time until the next sample
      const nd = byId.get(prof.samples[i])!;
      const fn = nd.callFrame.functionName;
      all += dt;
      if (fn === "(idle)" || fn === IDLE_OP) {
        idle += dt;
        continue;
      }
      const k = key(nd.callFrame);
      self.set(k, (self.get(k) ?? 0) + dt);
      const f = fn.startsWith("(") ? fn : where(nd.callFrame).replace(/:\d+$/, "");
      perFile.set(f, (perFile.get(f) ?? 0) + dt);
      const seen = new Set<string>();
      for (let id: number | undefined = nd.id; id !== undefined; id = parent.get(id)) {
        const kk = key(byId.get(id)!.callFrame);
        if (seen.has(kk)) continue;
        seen.add(kk);
        total.set(kk, (total.get(kk) ?? 0) + dt);
      }
    }
  }
  const busy = all - idle;
  console.log(
    `sampled ${(all / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s, busy ${
      (busy / 1e6).toFixed(1)
    } s (percentages are of busy time)\n`,
  );
  const show = (title: string, m: Map<string, number>, skip: (k: string) => boolean) => {
    console.log(title);
    const rows = [...m].filter(([k]) => !skip(k)).sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [k, us] of rows) {
      console.log(`  ${pct(us, busy)} ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
    }
    console.log("");
  };
  show("Self time by function:", self, (k) => k.startsWith("(idle)"));
  show("Self time by file:", perFile, (k) => k === "(idle)");
  show(
    "Total time by function (with callees):",
    total,
    (k) => k.startsWith("(idle)") || k.startsWith("(root)"),
  );
}

await main();
