/**
 * A small stand-in for Upstash's REST API, forwarding to a real redis-server,
 * so the `upstash:` meta store is tested against real Redis. It speaks what
 * @upstash/redis sends:
 *
 * - `POST /` with a JSON array `["EVALSHA", sha, 1, key, arg...]` answers
 *   `{"result": ...}` (200) or `{"error": "..."}` (400);
 * - `POST /pipeline` (and `/multi-exec`) with an array of such arrays answers an
 *   array of `{"result"}` / `{"error"}` objects (auto-pipelining uses this);
 * - `Authorization: Bearer <token>` is required (401 otherwise);
 * - `Upstash-Encoding: base64` makes every string in a result base64 (UTF-8).
 *
 * Run it alone with `deno run -A tests/upstash_rest_proxy.ts REDIS_PORT`.
 */

import type { Redis } from "ioredis";

/** A running proxy. */
export interface UpstashRestProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  url: string;
  token: string;
  /** How many commands it forwarded. */
  commands: number;
  /** While true, every request answers 503 (to test the store's failure path). */
  failing: boolean;
}

function b64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function encodeResult(v: unknown, base64: boolean): unknown {
  if (!base64) return v;
  if (typeof v === "string") return b64(v);
  if (Array.isArray(v)) return v.map((x) => encodeResult(x, true));
  return v;
}

/** Starts the proxy on 127.0.0.1 (a port the OS picks), forwarding to redis on `redisPort`. */
export async function startUpstashRestProxy(
  redisPort: number,
  token: string = crypto.randomUUID(),
): Promise<UpstashRestProxy> {
  const { Redis: RedisClient } = await import("ioredis");
  const redis: Redis = new RedisClient({
    host: "127.0.0.1",
    port: redisPort,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (n) => Math.min(100 * n, 1000),
  });
  redis.on("error", () => {});

  const run = async (cmd: unknown, base64: boolean): Promise<Record<string, unknown>> => {
    if (!Array.isArray(cmd) || cmd.length === 0) return { error: "ERR command must be an array" };
    proxy.commands++;
    try {
      const [name, ...args] = cmd.map(String);
      const result = await redis.call(name, ...args);
      return { result: encodeResult(result ?? null, base64) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      if (proxy.failing) return Response.json({ error: "Service Unavailable" }, { status: 503 });
      if (req.method !== "POST") return Response.json({ error: "POST only" }, { status: 405 });
      if (req.headers.get("authorization") !== `Bearer ${token}`) {
        return Response.json({ error: "Unauthorized" }, { status: 401 });
      }
      const base64 = (req.headers.get("upstash-encoding") ?? "").toLowerCase() === "base64";
      let body: unknown;
      try {
        body = await req.json();
      } catch {
        return Response.json({ error: "ERR body is not JSON" }, { status: 400 });
      }
      const path = new URL(req.url).pathname.replace(/\/+$/, "");
      if (path === "/pipeline" || path === "/multi-exec") {
        if (!Array.isArray(body)) {
          return Response.json({ error: "ERR not an array" }, { status: 400 });
        }
        // Commands run one after another, in order (atomicity is the scripts' business).
        const out = [];
        for (const cmd of body) out.push(await run(cmd, base64));
        return Response.json(out);
      }
      if (path !== "") return Response.json({ error: `Unknown path ${path}` }, { status: 404 });
      const r = await run(body, base64);
      return Response.json(r, { status: "error" in r ? 400 : 200 });
    },
  );
  const proxy: UpstashRestProxy = {
    url: `http://127.0.0.1:${server.addr.port}`,
    token,
    commands: 0,
    failing: false,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await new Promise<void>((resolve) => {
        if (redis.status === "end" || redis.status === "wait") return resolve();
        // A client waiting to reconnect may never say "end": do not wait forever.
        const timer = setTimeout(done, 1000);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        redis.once("end", done);
        redis.disconnect(false);
      });
    },
  };
  return proxy;
}

if (import.meta.main) {
  const port = Number(Deno.args[0]);
  if (!port) {
    console.error("Usage: deno run -A tests/upstash_rest_proxy.ts REDIS_PORT [TOKEN]");
    Deno.exit(2);
  }
  const p = await startUpstashRestProxy(port, Deno.args[1]);
  console.log(`UPSTASH_REDIS_REST_URL=${p.url}`);
  console.log(`UPSTASH_REDIS_REST_TOKEN=${p.token}`);
}
