/**
 * Shared pieces of the JavaScript client drivers (tests/clients/CONTRACT.md):
 * the command line, the contract records, and buffered JSON-lines output.
 */

import { Buffer } from "node:buffer";

export type Codec = "none" | "gzip" | "snappy" | "lz4" | "zstd";

export interface ProduceArgs {
  cmd: "produce";
  bootstrap: string;
  topic: string;
  count: number;
  start: number;
  compression: Codec;
  createPartitions: number;
  acks: "all" | "1" | "0" | null;
  timeoutMs: number;
}

export interface ConsumeArgs {
  cmd: "consume";
  bootstrap: string;
  topic: string;
  count: number;
  group: string | null;
  /** Group members stop (commit, leave) once this file exists. */
  stopFile: string | null;
  /** Partition assignment strategy (range, roundrobin, cooperative-sticky); null: the client's default. */
  assignor: string | null;
  /** classic, or consumer for the KIP-848 protocol. */
  groupProtocol: "classic" | "consumer";
  /** read_committed or read_uncommitted; null: the client's default. */
  isolation: "read_committed" | "read_uncommitted" | null;
  timeoutMs: number;
}

/** CONTRACT.md "Transactions": consume-transform-produce in transactions. */
export interface TxnArgs {
  cmd: "txn";
  bootstrap: string;
  input: string;
  output: string;
  group: string;
  txnId: string;
  count: number;
  abortEvery: number;
  holdFile: string | null;
  timeoutMs: number;
}

export interface OffsetsArgs {
  cmd: "offsets";
  bootstrap: string;
  topic: string;
  timestamp: number;
  timeoutMs: number;
}

/** CONTRACT.md "Security": how to reach the cluster; null protocol means PLAINTEXT, untouched. */
export interface SecurityArgs {
  protocol: "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL" | null;
  mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
  username: string | null;
  password: string | null;
  /** PEM contents (not file names). */
  ca: string | null;
  cert: string | null;
  key: string | null;
  connectTimeoutMs: number;
}

export type Args = (ProduceArgs | ConsumeArgs | OffsetsArgs | TxnArgs) & {
  security: SecurityArgs;
};

const PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
const MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

function parseSecurity(flags: Map<string, string>): SecurityArgs {
  const protocol = flags.get("security-protocol") ?? null;
  if (protocol !== null && !PROTOCOLS.includes(protocol)) {
    usage(`unknown --security-protocol ${protocol}`);
  }
  const mechanism = flags.get("sasl-mechanism") ?? "PLAIN";
  if (!MECHANISMS.includes(mechanism)) usage(`unsupported --sasl-mechanism ${mechanism}`);
  const file = (name: string) => {
    const f = flags.get(name);
    return f === undefined ? null : Deno.readTextFileSync(f);
  };
  const sec: SecurityArgs = {
    protocol: protocol as SecurityArgs["protocol"],
    mechanism: mechanism as SecurityArgs["mechanism"],
    username: flags.get("sasl-username") ?? null,
    password: flags.get("sasl-password") ?? null,
    ca: file("ssl-ca"),
    cert: file("ssl-cert"),
    key: file("ssl-key"),
    connectTimeoutMs: Number(flags.get("connect-timeout-ms") ?? 15_000),
  };
  if (protocol?.startsWith("SASL_") && (sec.username === null || sec.password === null)) {
    usage("--sasl-username and --sasl-password are required with SASL");
  }
  if ((sec.cert === null) !== (sec.key === null)) usage("--ssl-cert and --ssl-key go together");
  return sec;
}

/** The node:tls options for SSL and SASL_SSL (null otherwise). */
export function tlsOptions(sec: SecurityArgs): Record<string, string> | null {
  if (sec.protocol !== "SSL" && sec.protocol !== "SASL_SSL") return null;
  const o: Record<string, string> = {};
  if (sec.ca !== null) o.ca = sec.ca;
  if (sec.cert !== null) o.cert = sec.cert;
  if (sec.key !== null) o.key = sec.key;
  return o;
}

/** The error line of CONTRACT.md "Security", printed and flushed. */
export function printSecurityError(kind: string, name: string, message: string): void {
  out({ error: kind, name, message });
  flush();
}

/** Rejects after ms with a connection-kind error (bounds a client that retries forever). */
export function connectDeadline(ms: number): Promise<never> {
  return new Promise((_, reject) => {
    const t = setTimeout(
      () =>
        reject(Object.assign(new Error(`no broker answered within ${ms} ms`), {
          securityKind: "connection",
        })),
      ms,
    );
    Deno.unrefTimer(t);
  });
}

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];

function usage(message: string): never {
  log(`usage error: ${message}`);
  log(
    "usage: <driver> produce|consume|offsets --bootstrap HOST:PORT --topic T [--count N] [--start S] " +
      "[--compression C] [--create-partitions P] [--acks all|1|0] [--group G] [--timeout-ms MS] [--timestamp MS] " +
      "[--stop-file F] [--assignor A] [--group-protocol classic|consumer]",
  );
  Deno.exit(2);
}

function groupProtocol(v: string): "classic" | "consumer" {
  if (v !== "classic" && v !== "consumer") usage(`unknown group protocol ${v}`);
  return v;
}

/** Parses the contract's command line. */
export function parseArgs(argv: string[]): Args {
  const [cmd, ...rest] = argv;
  const flags = new Map<string, string>();
  for (let j = 0; j < rest.length; j++) {
    const name = rest[j];
    if (!name.startsWith("--")) usage(`unexpected argument ${name}`);
    const value = rest[j + 1];
    if (value === undefined) usage(`${name} needs a value`);
    flags.set(name.slice(2), value);
    j++;
  }
  const str = (name: string, fallback?: string): string => {
    const v = flags.get(name) ?? fallback;
    if (v === undefined) usage(`--${name} is required`);
    return v;
  };
  const int = (name: string, fallback?: number): number => {
    const raw = flags.get(name);
    if (raw === undefined) {
      if (fallback === undefined) usage(`--${name} is required`);
      return fallback;
    }
    const n = Number(raw);
    if (!Number.isInteger(n)) usage(`--${name} must be an integer, got ${raw}`);
    return n;
  };
  const bootstrap = str("bootstrap");
  const security = parseSecurity(flags);
  return { ...parseCommand(cmd, flags, str, int, bootstrap), security };
}

function parseCommand(
  cmd: string,
  flags: Map<string, string>,
  str: (name: string, fallback?: string) => string,
  int: (name: string, fallback?: number) => number,
  bootstrap: string,
): ProduceArgs | ConsumeArgs | OffsetsArgs | TxnArgs {
  if (cmd === "txn") {
    return {
      cmd,
      bootstrap,
      input: str("in"),
      output: str("out"),
      group: str("group"),
      txnId: str("txn-id"),
      count: int("count"),
      abortEvery: int("abort-every", 0),
      holdFile: flags.get("hold-file") ?? null,
      timeoutMs: int("timeout-ms", 60_000),
    };
  }
  const topic = str("topic");
  const isolation = flags.get("isolation") ?? null;
  if (isolation !== null && isolation !== "read_committed" && isolation !== "read_uncommitted") {
    usage(`unknown isolation ${isolation}`);
  }
  switch (cmd) {
    case "produce": {
      const compression = str("compression", "none");
      if (!CODECS.includes(compression)) usage(`unknown compression ${compression}`);
      const acks = flags.get("acks") ?? null;
      if (acks !== null && !["all", "1", "0"].includes(acks)) usage(`unknown acks ${acks}`);
      return {
        cmd,
        bootstrap,
        topic,
        count: int("count"),
        start: int("start", 0),
        compression: compression as Codec,
        createPartitions: int("create-partitions", 0),
        acks: acks as ProduceArgs["acks"],
        timeoutMs: int("timeout-ms", 120_000),
      };
    }
    case "consume":
      return {
        cmd,
        bootstrap,
        topic,
        count: int("count"),
        group: flags.get("group") ?? null,
        stopFile: flags.get("stop-file") ?? null,
        assignor: flags.get("assignor") ?? null,
        groupProtocol: groupProtocol(flags.get("group-protocol") ?? "classic"),
        isolation,
        timeoutMs: int("timeout-ms", 60_000),
      };
    case "offsets":
      return {
        cmd,
        bootstrap,
        topic,
        timestamp: int("timestamp"),
        timeoutMs: int("timeout-ms", 30_000),
      };
    default:
      usage(`unknown command ${cmd}`);
  }
}

/** Record i as the contract defines it. */
export function contractRecord(i: number): {
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer][];
} {
  return {
    key: i % 10 === 3 ? null : Buffer.from(`key-${i}`),
    value: i % 10 === 7 ? null : Buffer.from(`value-${i}-${"x".repeat(i % 100)}`),
    headers: i % 5 === 0 ? [] : [["trace", Buffer.from(`t-${i}`)], ["idx", Buffer.from(String(i))]],
  };
}

/** Base64 of bytes, null for null (or undefined, which some clients use for null). */
export function b64(b: Uint8Array | null | undefined): string | null {
  if (b === null || b === undefined) return null;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}

const encoder = new TextEncoder();
let pending: string[] = [];

function writeAll(bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** Writes everything queued by out() to stdout. */
export function flush(): void {
  if (pending.length === 0) return;
  const text = pending.join("");
  pending = [];
  writeAll(encoder.encode(text));
}

/** Records printed so far (acknowledged or read), and whether the final line is out. */
export const progress = { count: 0, done: false };

/** Queues one JSON line for stdout (flushed every 1000 lines and at exit). */
export function out(obj: Record<string, unknown>): void {
  if (obj.done) progress.done = true;
  pending.push(JSON.stringify(obj) + "\n");
  if (pending.length >= 1000) flush();
}

/** After a failure: the final line the contract asks for, unless it is out already. */
export function finalLineAfterFailure(args: Args): void {
  if (progress.done) return;
  if (args.cmd === "produce") {
    out({ done: true, count: progress.count, errors: args.count - progress.count });
  } else if (args.cmd === "consume") out({ done: true, count: progress.count });
}

/** A diagnostic line on stderr. */
export function log(...parts: unknown[]): void {
  const text = parts.map((p) => (typeof p === "string" ? p : Deno.inspect(p, { depth: 4 }))).join(
    " ",
  );
  Deno.stderr.writeSync(encoder.encode(text + "\n"));
}

/** Flushes stdout and exits. */
export function exit(code: number): never {
  flush();
  Deno.exit(code);
}

/**
 * Exits with code 1 (after the final line) if the run has not finished `graceMs` after its
 * own timeout, so that a stuck client never keeps the test waiting.
 */
export function watchdog(args: Args, graceMs = 15_000): void {
  const timer = setTimeout(() => {
    log(`watchdog: still running ${args.timeoutMs + graceMs} ms after start, exiting`);
    finalLineAfterFailure(args);
    exit(1);
  }, args.timeoutMs + graceMs);
  Deno.unrefTimer(timer);
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wall-clock milliseconds, for the "at" of group members' lines. */
export function nowMs(): number {
  return Date.now();
}

/** True once the stop file exists (group members poll it). */
export function stopRequested(stopFile: string | null): boolean {
  if (stopFile === null) return false;
  try {
    Deno.statSync(stopFile);
    return true;
  } catch {
    return false;
  }
}
