/**
 * Shared pieces of the JavaScript golden-fixture workloads: the command line,
 * small deterministic records, and a step runner that reports on stderr.
 */

const enc = new TextEncoder();

/** --bootstrap HOST:PORT [--prefix P] [--timeout-ms MS] (bounds each consume; default 30 s). */
export function workloadArgs(
  argv: string[],
  defaultPrefix: string,
): { bootstrap: string; prefix: string; timeoutMs: number } {
  const flags = new Map<string, string>();
  for (let i = 0; i + 1 < argv.length; i += 2) flags.set(argv[i].replace(/^--/, ""), argv[i + 1]);
  const bootstrap = flags.get("bootstrap");
  if (!bootstrap) {
    console.error("usage: --bootstrap HOST:PORT [--prefix P] [--timeout-ms MS]");
    Deno.exit(2);
  }
  return {
    bootstrap,
    prefix: flags.get("prefix") ?? defaultPrefix,
    timeoutMs: Number(flags.get("timeout-ms") ?? 30_000),
  };
}

/** A small record; i picks the null key / null value / header cases of CONTRACT.md. */
export interface SmallRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: [string, Uint8Array][];
}

/** Records from .. from+n-1, kept small so fixtures stay small. */
export function records(n: number, from = 0): SmallRecord[] {
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return {
      key: i % 10 === 3 ? null : enc.encode(`key-${i}`),
      value: i % 10 === 7 ? null : enc.encode(`value-${i}`),
      headers: i % 5 === 0 ? [] : [["trace", enc.encode(`t-${i}`)], ["idx", enc.encode(String(i))]],
    };
  });
}

/** Runs each step in turn, logging its outcome; true when every step worked. */
export async function runSteps(steps: [string, () => Promise<unknown>][]): Promise<boolean> {
  let failed = 0;
  for (const [name, step] of steps) {
    const started = performance.now();
    try {
      await step();
      console.error(`ok   ${name} (${Math.round(performance.now() - started)} ms)`);
    } catch (e) {
      failed++;
      console.error(`FAIL ${name}: ${(e as Error)?.message ?? e}`);
    }
  }
  console.error(failed === 0 ? "workload done" : `workload done, ${failed} steps failed`);
  return failed === 0;
}
