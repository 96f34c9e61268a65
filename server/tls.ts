/**
 * The broker's TLS material: its certificate chain and key (--tls-cert,
 * --tls-key) and the CAs client certificates must come from
 * (--tls-client-ca; set, every SSL/SASL_SSL client must present one, Kafka's
 * ssl.client.auth=required). Read at start (a missing or bad file stops the
 * broker naming the flag and file) and again whenever a file's mtime changes,
 * as Fly and cert-manager rotate them: new connections get the new material,
 * live ones keep theirs, and a new pair that cannot be used keeps the old one
 * with a warning naming the file.
 *
 * Client certificates are verified here, not by the TLS stack: under Deno,
 * node:tls's `ca` option refuses chains it should accept, so the server asks
 * for a certificate without judging it and this module checks that one of
 * the CAs issued and signed it (through the intermediates the client sent),
 * and that every certificate on the way is within its validity dates.
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { getLogger } from "@logtape/logtape";
import type { TlsFiles } from "../broker/security_config.ts";

const log = getLogger(["skb", "tls"]);

/** What a TLS listener needs from the files, checked. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** The client CAs, or null when clients need no certificate. */
  clientCas: X509Certificate[] | null;
}

/** A TLS file that cannot be used, naming the flag and the file. */
export class TlsFileError extends Error {}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function readFile(flag: string, file: string): string {
  try {
    return Deno.readTextFileSync(file);
  } catch (e) {
    throw new TlsFileError(`--${flag} ${file} cannot be read: ${(e as Error).message}`);
  }
}

function certificates(flag: string, file: string, pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    throw new TlsFileError(`--${flag} ${file} holds no PEM certificate (BEGIN CERTIFICATE)`);
  }
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new TlsFileError(
        `--${flag} ${file} holds a certificate that cannot be parsed: ${(e as Error).message}`,
      );
    }
  });
}

/** Reads and checks the files: a certificate, a key that matches it, and the CAs. */
export function loadTlsMaterial(files: TlsFiles): TlsMaterial {
  const cert = readFile("tls-cert", files.certFile);
  const key = readFile("tls-key", files.keyFile);
  const leaf = certificates("tls-cert", files.certFile, cert)[0];
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // Never echo the key file's contents.
    throw new TlsFileError(`--tls-key ${files.keyFile} holds no usable PEM private key`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsFileError(
      `--tls-key ${files.keyFile} is not the key of the certificate in --tls-cert ${files.certFile}`,
    );
  }
  const clientCas = files.clientCaFile === null ? null : certificates(
    "tls-client-ca",
    files.clientCaFile,
    readFile("tls-client-ca", files.clientCaFile),
  );
  return { cert, key, clientCas };
}

function within(c: X509Certificate, now: number): boolean {
  return Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
}

function signed(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/**
 * Why a client's certificate chain is refused, or null when one of the CAs
 * issued it. `chain` is the client's certificate first, then what it sent
 * along (intermediates, maybe the CA itself).
 */
export function clientChainProblem(
  chain: X509Certificate[],
  cas: X509Certificate[],
  now = Date.now(),
): string | null {
  if (chain.length === 0) return "the client presented no certificate";
  let current = chain[0];
  const rest = chain.slice(1);
  for (let depth = 0; depth < 8; depth++) {
    if (!within(current, now)) {
      return `certificate ${
        current.subject.replaceAll("\n", ",")
      } is outside its validity dates (${current.validFrom} to ${current.validTo})`;
    }
    const ca = cas.find((c) => signed(current, c));
    if (ca !== undefined) {
      return within(ca, now) ? null : "the issuing CA is outside its validity dates";
    }
    const next = rest.find((c) =>
      c.ca && c.fingerprint256 !== current.fingerprint256 && signed(current, c)
    );
    if (next === undefined) {
      return `certificate ${
        current.subject.replaceAll("\n", ",")
      } was not issued by a CA in --tls-client-ca`;
    }
    current = next;
  }
  return "the client's certificate chain is too long";
}

function mtimes(files: TlsFiles): string {
  return [files.certFile, files.keyFile, files.clientCaFile].map((f) => {
    if (f === null) return "";
    try {
      const s = Deno.statSync(f);
      return `${s.mtime?.getTime()}:${s.size}`;
    } catch {
      return "missing";
    }
  }).join("|");
}

/**
 * The current material, reloaded when a file's mtime or size changes
 * (checked every `pollMs`); `onChange` gets each new material that loaded.
 */
export class TlsMaterialWatch {
  private timer: ReturnType<typeof setInterval> | null = null;
  private seen: string;
  private listeners: ((m: TlsMaterial) => void)[] = [];
  current: TlsMaterial;

  constructor(private readonly files: TlsFiles, pollMs = 5000) {
    this.current = loadTlsMaterial(files);
    this.seen = mtimes(files);
    if (pollMs > 0) {
      this.timer = setInterval(() => this.check(), pollMs);
      Deno.unrefTimer(this.timer);
    }
  }

  onChange(f: (m: TlsMaterial) => void): void {
    this.listeners.push(f);
  }

  /** Reloads if a file changed; true when new material took effect. */
  check(): boolean {
    const now = mtimes(this.files);
    if (now === this.seen) return false;
    this.seen = now;
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.files);
    } catch (e) {
      log.warn("TLS files changed but cannot be used; keeping the previous ones: {message}", {
        message: (e as Error).message,
      });
      return false;
    }
    this.current = next;
    for (const f of this.listeners) f(next);
    log.info("Reloaded TLS certificate {cert}", { cert: this.files.certFile });
    return true;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
