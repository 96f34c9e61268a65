/**
 * An SSL or SASL_SSL listener: node:tls accepts, asks for a client
 * certificate when --tls-client-ca is set (checked by server/tls.ts), and
 * each connection is handed on as a `Transport`. A client that fails the
 * handshake (a plaintext Kafka client on this port, say) or whose
 * certificate is refused is closed at once with one info line.
 */

import tls from "node:tls";
import type { Socket } from "node:net";
import { X509Certificate } from "node:crypto";
import { getLogger } from "@logtape/logtape";
import type { Transport } from "./connection.ts";
import { clientChainProblem, type TlsMaterial, type TlsMaterialWatch } from "./tls.ts";
import { certificatePrincipal } from "./x500.ts";

const log = getLogger(["skb", "tls"]);

/** Read ahead at most this much before pausing the socket. */
const HIGH_WATER = 1024 * 1024;

function addr(host: string | undefined, port: number | undefined): Deno.NetAddr {
  const h = host ?? "";
  return {
    transport: "tcp",
    hostname: h.startsWith("::ffff:") ? h.slice(7) : h,
    port: port ?? 0,
  };
}

/** A node TLS socket as the connection loop's Transport. */
class TlsTransport implements Transport {
  private chunks: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | null = null;
  private waiting: (() => void) | null = null;
  readonly localAddr: Deno.NetAddr;
  readonly remoteAddr: Deno.NetAddr;

  constructor(private readonly socket: tls.TLSSocket, readonly peerPrincipal: string | null) {
    this.localAddr = addr(socket.localAddress, socket.localPort);
    this.remoteAddr = addr(socket.remoteAddress, socket.remotePort);
    socket.on("data", (d: Uint8Array) => {
      this.chunks.push(d);
      this.queued += d.length;
      if (this.queued >= HIGH_WATER) socket.pause();
      this.wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", (e: Error) => {
      this.failure ??= new Deno.errors.ConnectionReset(e.message);
      this.wake();
    });
  }

  private wake() {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.chunks.length === 0) {
      if (this.failure !== null) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((r) => (this.waiting = r));
    }
    let n = 0;
    while (n < p.length && this.chunks.length > 0) {
      const c = this.chunks[0];
      const take = Math.min(c.length, p.length - n);
      p.set(c.subarray(0, take), n);
      n += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.queued -= n;
    if (this.queued < HIGH_WATER / 2 && this.socket.isPaused()) this.socket.resume();
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.socket.destroyed) {
      return Promise.reject(new Deno.errors.BrokenPipe("TLS socket closed"));
    }
    // Resolves once the TLS layer has taken the bytes to the socket: the
    // connection loop writes the next response only then (backpressure).
    return new Promise((resolve, reject) => {
      this.socket.write(p, (e?: Error | null) => {
        if (e) reject(new Deno.errors.BrokenPipe(e.message));
        else resolve(p.length);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The client's certificate chain as it sent it, leaf first. */
function peerChain(socket: tls.TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (c && c.raw && !seen.has(c.fingerprint256) && out.length < 10) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

/** A TLS listener serving. */
export interface TlsListener {
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting; connections already served go on. */
  close(): void;
  /** Ends every socket still open (after the connection loops drained theirs). */
  destroy(): void;
}

function secureOptions(m: TlsMaterial): tls.SecureContextOptions {
  return { key: m.key, cert: m.cert };
}

/** Listens with TLS; `onConnection` gets each client whose handshake and certificate passed. */
export async function listenTls(opts: {
  name: string;
  hostname: string;
  port: number;
  material: TlsMaterialWatch;
  /**
   * Whether clients must present a certificate when --tls-client-ca is set:
   * Kafka's ssl.client.auth applies to SSL listeners; SASL_SSL clients
   * authenticate with SASL and need none (KIP-684).
   */
  clientAuth: boolean;
  onConnection: (t: Transport) => void;
}): Promise<TlsListener> {
  const { material } = opts;
  const clientCas = () => (opts.clientAuth ? material.current.clientCas : null);
  const server = tls.createServer({
    ...secureOptions(material.current),
    requestCert: clientCas() !== null,
    // The certificate is judged by clientChainProblem (see server/tls.ts).
    rejectUnauthorized: false,
    handshakeTimeout: 10_000,
  });
  material.onChange((m) => server.setSecureContext(secureOptions(m)));
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    s.setNoDelay(true);
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    const remote = `${addr(socket.remoteAddress, socket.remotePort).hostname}:${socket.remotePort}`;
    let principal: string | null = null;
    const cas = clientCas();
    if (cas !== null) {
      let chain: X509Certificate[];
      let problem: string | null;
      try {
        chain = peerChain(socket);
        problem = clientChainProblem(chain, cas);
        if (problem === null) principal = certificatePrincipal(new Uint8Array(chain[0].raw));
      } catch (e) {
        problem = `its certificate cannot be read: ${(e as Error).message}`;
      }
      if (problem !== null) {
        log.info("Closing TLS connection from {remote} on {listener}: {problem}", {
          remote,
          listener: opts.name,
          problem,
        });
        socket.destroy();
        return;
      }
    }
    opts.onConnection(new TlsTransport(socket, principal));
  });
  server.on("tlsClientError", (e: Error, socket: tls.TLSSocket) => {
    // A socket that failed its handshake may have lost its address already.
    const remote = socket.remoteAddress === undefined
      ? "an unknown address"
      : `${addr(socket.remoteAddress, socket.remotePort).hostname}:${socket.remotePort}`;
    log.info("Closing connection from {remote} on {listener}: TLS handshake failed: {message}", {
      remote,
      listener: opts.name,
      message: e.message,
    });
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: Error & { code?: string }) => {
      reject(
        e.code === "EADDRINUSE"
          ? new Error(
            `Port ${opts.port} on ${opts.hostname} (listener ${opts.name}) is already in use; stop the other process or change --listeners`,
          )
          : e,
      );
    });
    server.listen(opts.port, opts.hostname, () => resolve());
  });
  server.on(
    "error",
    (e: Error) => log.warn("TLS listener {name} failed: {error}", { name: opts.name, error: e }),
  );
  const a = server.address() as { address: string; port: number };
  return {
    hostname: addr(a.address, a.port).hostname,
    port: a.port,
    close: () => {
      server.close();
    },
    destroy: () => {
      for (const s of sockets) s.destroy();
    },
  };
}
