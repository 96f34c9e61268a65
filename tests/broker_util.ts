/** Starts brokers for tests, in-process or as separate processes, and cleans up. */

import { type BrokerOptions, startBroker } from "../server/broker.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import type { Broker } from "../server/broker.ts";

/** An in-process broker on a port the OS picks, closed by `await using`. */
export async function testBroker(
  opts: Partial<BrokerOptions> = {},
): Promise<Broker & AsyncDisposable> {
  const broker = await startBroker({
    meta: new MemoryMetaStore(),
    log: new MemoryLogStore(),
    host: "127.0.0.1",
    port: 0,
    sweepIntervalMs: 0,
    ...opts,
  });
  return Object.assign(broker, { [Symbol.asyncDispose]: () => broker.close(5000) });
}

/** Where the project's files are. */
export const ROOT = new URL("../", import.meta.url);

/** The Deno binary running the tests, for starting broker processes. */
export const DENO = Deno.execPath();

/** A broker started as its own process (`deno run main.ts`), killed on dispose. */
export interface BrokerProcess extends AsyncDisposable {
  port: number;
  /** The operations port (/metrics, /healthz, /readyz), when `--http-port` was given. */
  httpPort: number | null;
  child: Deno.ChildProcess;
  /** Output so far (stdout and stderr). */
  output(): string;
  /** Sends a signal and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts `main.ts` with the given flags and waits for its `listening on` line. */
export function spawnBroker(args: string[], timeoutMs = 30000): Promise<BrokerProcess> {
  return spawnBrokerCommand(
    DENO,
    ["run", "-A", new URL("main.ts", ROOT).pathname, "--host", "127.0.0.1", ...args],
    { timeoutMs },
  );
}

/** How to start a broker program other than `deno run -A main.ts` (a bundle, an executable). */
export interface SpawnOptions {
  timeoutMs?: number;
  cwd?: string;
  env?: Record<string, string>;
  /** Start from an empty environment (plus `env`). */
  clearEnv?: boolean;
}

/**
 * Starts a broker program and waits for its `listening on` line (and its
 * `http on` line when `--http-port` is among the arguments).
 */
export async function spawnBrokerCommand(
  command: string,
  args: string[],
  opts: SpawnOptions = {},
): Promise<BrokerProcess> {
  const timeoutMs = opts.timeoutMs ?? 30000;
  const child = new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
    cwd: opts.cwd ?? new URL(".", ROOT).pathname,
    env: opts.env,
    clearEnv: opts.clearEnv,
  }).spawn();
  const wantHttp = args.includes("--http-port");
  let text = "";
  let httpPort: number | null = null;
  const decoder = new TextDecoder();
  let resolvePort!: (p: number) => void;
  const portFound = new Promise<number>((r) => (resolvePort = r));
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk);
      const h = /http on [^\s]+:(\d+)/.exec(text);
      if (h) httpPort = Number(h[1]);
      const m = /listening on [^\s]+:(\d+)/.exec(text);
      if (m && (!wantHttp || httpPort !== null)) resolvePort(Number(m[1]));
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const port = await Promise.race([
    portFound,
    child.status.then((s) => {
      throw new Error(`Broker exited with ${s.code} before listening:\n${text}`);
    }),
    new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`Broker did not listen within ${timeoutMs} ms:\n${text}`)),
        timeoutMs,
      )
    ),
  ]).finally(() => clearTimeout(timer));
  let status: Promise<Deno.CommandStatus> | null = null;
  const stop = (signal: Deno.Signal = "SIGTERM") => {
    if (!status) {
      try {
        child.kill(signal);
      } catch { /* exited */ }
      status = child.status.then(async (s) => {
        await pumps;
        return s;
      });
    }
    return status;
  };
  return {
    port,
    httpPort,
    child,
    output: () => text,
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
    },
  };
}
