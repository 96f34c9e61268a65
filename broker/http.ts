/**
 * The operations port (`--http-port`): `/metrics` in Prometheus' text format,
 * `/healthz` (the process is alive and serving) and `/readyz` (both stores
 * answer a ping within a short timeout, the broker's registry lease is live
 * when it keeps one, and the broker is not shutting down).
 * Load balancers and Fly.io's health checks probe `/readyz`; a broker whose
 * stores are unreachable drops out of rotation without being restarted.
 */

import { getLogger } from "@logtape/logtape";
import type { LogStore, MetaStore } from "../stores/types.ts";
import type { Metrics } from "./metrics.ts";
import { redactSecrets } from "./logging.ts";

const log = getLogger(["skb", "http"]);

/** What the operations port serves from. */
export interface HttpServerOptions {
  hostname: string;
  port: number;
  metrics: Metrics;
  meta: MetaStore;
  log: LogStore;
  /** How long a store ping may take before `/readyz` calls the store unreachable (ms). */
  readyTimeoutMs: number;
  /** Aborted when the broker starts shutting down: `/readyz` then answers 503. */
  closing: AbortSignal;
  /** Whether this broker's registry lease is live; null when it keeps none. */
  registered?: () => boolean | null;
}

/** A running operations port. */
export interface HttpServer {
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting and waits for requests in flight. */
  close(): Promise<void>;
}

/** The outcome of one readiness check: "ok" or why not, per check. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

/** Resolves "ok" when `p` resolves within `ms`, else the reason it did not. */
async function within(p: () => Promise<void>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p().then(() => "ok"),
      new Promise<string>((r) => (timer = setTimeout(() => r(`no answer within ${ms} ms`), ms))),
    ]);
  } catch (e) {
    return redactSecrets((e as Error)?.message ?? String(e));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks readiness: both stores answer a ping in time. Probes that arrive
 * while a check runs share it, so a hung store does not pile up pings.
 */
export function readinessChecker(
  opts: Pick<HttpServerOptions, "meta" | "log" | "readyTimeoutMs" | "closing" | "registered">,
): () => Promise<Readiness> {
  let running: Promise<Readiness> | null = null;
  const check = async (): Promise<Readiness> => {
    const [meta, logStore] = await Promise.all([
      within(() => opts.meta.ping(), opts.readyTimeoutMs),
      within(() => opts.log.ping(), opts.readyTimeoutMs),
    ]);
    const checks: Record<string, string> = { meta, log: logStore };
    const registered = opts.registered?.() ?? null;
    if (registered !== null) checks.registry = registered ? "ok" : "lease not renewed";
    if (opts.closing.aborted) checks.broker = "shutting down";
    return { ready: Object.values(checks).every((c) => c === "ok"), checks };
  };
  return () => {
    running ??= check().finally(() => (running = null));
    return running;
  };
}

/** Starts the operations port. */
export function startHttpServer(opts: HttpServerOptions): HttpServer {
  const ready = readinessChecker(opts);
  let wasReady: boolean | null = null;
  const text = (body: string, status = 200, type = "text/plain; charset=utf-8") =>
    new Response(body, { status, headers: { "content-type": type } });

  const handler = async (req: Request): Promise<Response> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const path = new URL(req.url).pathname;
    switch (path) {
      case "/metrics":
        return text(opts.metrics.render(), 200, "text/plain; version=0.0.4; charset=utf-8");
      case "/healthz":
        return text(opts.closing.aborted ? "shutting down\n" : "ok\n");
      case "/readyz": {
        const r = await ready();
        if (r.ready !== wasReady) {
          if (r.ready) log.info("Ready: stores reachable");
          else log.warn("Not ready: {checks}", { checks: r.checks });
          wasReady = r.ready;
        }
        return text(
          JSON.stringify({ status: r.ready ? "ready" : "not ready", ...r.checks }) + "\n",
          r.ready ? 200 : 503,
          "application/json",
        );
      }
      default:
        return text("Not found: try /metrics, /healthz or /readyz\n", 404);
    }
  };

  const server = Deno.serve({
    hostname: opts.hostname,
    port: opts.port,
    onListen: () => {},
    onError: (e) => {
      log.error("HTTP request failed: {error}", { error: e });
      return new Response("Internal error\n", { status: 500 });
    },
  }, handler);
  const addr = server.addr as Deno.NetAddr;
  let closed: Promise<void> | null = null;
  return {
    hostname: addr.hostname,
    port: addr.port,
    close: () => (closed ??= server.shutdown()),
  };
}
