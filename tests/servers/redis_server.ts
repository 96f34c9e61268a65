/**
 * A real redis-server for tests, on a free port with its files in a temp
 * directory, removed on `await using`. It can be stopped and started again on
 * the same port with its data (append-only file), to test what a store does
 * while its server is away.
 */

import {
  findProgram,
  freePort,
  missingProgram,
  ServerProcess,
  waitForPort,
} from "./server_util.ts";

/** A running redis-server. */
export interface RedisServer extends AsyncDisposable {
  port: number;
  /** `redis://127.0.0.1:<port>/<db>` with an optional key prefix. */
  url(db?: number, prefix?: string): string;
  /** Shuts the server down (it saves its data first). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
}

/** Starts redis-server; a missing binary fails with the install command. */
export async function startRedisServer(): Promise<RedisServer> {
  const bin = findProgram("redis-server");
  if (!bin) throw missingProgram("redis-server", "the Redis meta store tests need it");
  const dir = await Deno.makeTempDir({ prefix: "skb-redis-" });
  const port = freePort();
  let proc: ServerProcess | null = null;

  const start = async () => {
    const child = new Deno.Command(bin, {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
      ],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    const p = new ServerProcess(child);
    proc = p;
    try {
      await waitForPort(port, 10000, () => p.alive);
    } catch (e) {
      await p.stop("SIGKILL");
      throw new Error(`redis-server did not start: ${(e as Error).message}\n${p.tail()}`);
    }
  };
  const stop = async () => {
    await proc?.stop("SIGTERM");
    proc = null;
  };

  await start();
  return {
    port,
    url: (db = 0, prefix?: string) =>
      `redis://127.0.0.1:${port}/${db}${
        prefix === undefined ? "" : `?prefix=${encodeURIComponent(prefix)}`
      }`,
    stop,
    start,
    async [Symbol.asyncDispose]() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
