/**
 * A fault-injecting HTTP proxy for tests, in front of a real server (the S3
 * server of s3_server.ts): it listens on 127.0.0.1 on a port the OS picks and
 * forwards every request as it came (method, path, headers, body streamed both
 * ways) to the target. The test switches it to answer every request with an
 * S3 error (503 SlowDown, 500 InternalError), or to hang every request (no
 * answer until the proxy is switched back, or the client gives up), and back
 * to forwarding. Nothing is mocked: forwarded requests reach the real server.
 *
 * node:http on both sides, not fetch: fetch rewrites the Host header and turns
 * a Content-Length body into a chunked one, and S3 signs the one and needs the
 * other.
 */

import http from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with a request. */
export type FaultMode = "forward" | "slowdown" | "internal-error" | "hang";

/** One request the proxy saw, and how it ended. */
export interface ProxiedRequest {
  method: string;
  path: string;
  /** The mode when it arrived. */
  mode: FaultMode;
  /** performance.now() when it arrived and when it ended. */
  startedMs: number;
  endedMs: number | null;
  /**
   * How it ended: the status answered (forwarded or injected), or "abandoned"
   * when the client went away before an answer (a hung request it gave up on).
   */
  outcome: number | "abandoned" | null;
}

/** A running proxy, closed by `await using`. */
export interface FaultProxy extends AsyncDisposable {
  port: number;
  /** `http://127.0.0.1:<port>`, the endpoint to give clients instead of the target's. */
  endpoint: string;
  readonly mode: FaultMode;
  /**
   * Switches the mode for requests from now on. Requests held by "hang" are
   * then handled by the new mode (a server that was slow, not dead), unless
   * the new mode is "hang" too.
   */
  setMode(mode: FaultMode): void;
  /** Every request so far, oldest first. */
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

const ERRORS: Record<
  "slowdown" | "internal-error",
  { status: number; code: string; text: string }
> = {
  "slowdown": { status: 503, code: "SlowDown", text: "Please reduce your request rate." },
  "internal-error": {
    status: 500,
    code: "InternalError",
    text: "We encountered an internal error. Please try again.",
  },
};

/** Starts a proxy forwarding to `target` (`http://host:port`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target);
  if (to.protocol !== "http:") {
    throw new Error(`The fault proxy forwards to http:// only: ${target}`);
  }
  const agent = new http.Agent({ keepAlive: true });
  let mode: FaultMode = "forward";
  /** Requests held by "hang", woken when the mode changes. */
  const held = new Set<() => void>();
  const requests: ProxiedRequest[] = [];
  let ids = 0;

  /** Resolves once the request body has been read to its end (or the client went away). */
  const drained = (req: http.IncomingMessage) =>
    new Promise<void>((resolve) => {
      if (req.readableEnded) return resolve();
      req.on("end", resolve);
      req.on("close", resolve);
      req.resume();
    });

  const answerError = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    which: "slowdown" | "internal-error",
  ) => {
    const e = ERRORS[which];
    const id = `fault-proxy-${++ids}`;
    const body = new TextEncoder().encode(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${e.text}` +
        `</Message><Resource>${
          (req.url ?? "/").replace(/[<>&]/g, "")
        }</Resource><RequestId>${id}</RequestId></Error>`,
    );
    res.writeHead(e.status, {
      "content-type": "application/xml",
      "content-length": String(body.length),
      "x-amz-request-id": id,
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: ProxiedRequest,
  ) => {
    const up = http.request({
      host: to.hostname,
      port: Number(to.port || 80),
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    }, (upRes) => {
      record.outcome = upRes.statusCode ?? 0;
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", (e) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      record.outcome = 502;
      const text = `fault proxy: ${target} failed: ${e.message}`;
      res.writeHead(502, { "content-type": "text/plain", "content-length": text.length });
      res.end(text);
    });
    // The client gave up: so does the request to the target.
    res.on("close", () => {
      if (!res.writableFinished) up.destroy();
    });
    if (req.readableEnded) up.end();
    else req.pipe(up);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const record: ProxiedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      mode,
      startedMs: performance.now(),
      endedMs: null,
      outcome: null,
    };
    requests.push(record);
    let gone = false;
    res.on("close", () => {
      record.endedMs = performance.now();
      if (!res.writableFinished) {
        gone = true;
        record.outcome = "abandoned";
      }
    });
    if (mode === "hang") {
      await drained(req);
      while (mode === "hang" && !gone) {
        await new Promise<void>((wake) => {
          const w = () => {
            held.delete(w);
            res.off("close", w);
            wake();
          };
          held.add(w);
          res.on("close", w);
        });
      }
      if (gone) return;
    }
    if (mode === "forward") {
      forward(req, res, record);
      return;
    }
    await drained(req);
    if (gone) return;
    record.outcome = ERRORS[mode as "slowdown" | "internal-error"].status;
    answerError(req, res, mode as "slowdown" | "internal-error");
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // Held requests end with the connections they are on.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const w of [...held]) w();
    agent.destroy();
  };
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    setMode(next: FaultMode) {
      mode = next;
      if (next !== "hang") { for (const w of [...held]) w(); }
    },
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}
