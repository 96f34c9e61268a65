/**
 * `s3://` log store: one object per flush in an S3 bucket (or any
 * S3-compatible server: MinIO, R2, Tigris, moto...), through
 * `@aws-sdk/client-s3`. Objects are written with `If-None-Match: *`, so an
 * object is never overwritten; reads are ranged GETs (PUTs and GETs are sent
 * with fetch, s3_http.ts); the sweep lists the
 * prefix and deletes objects no index entry points to once they are older than
 * the grace period.
 *
 * URL: `s3://bucket[/prefix][?endpoint=https://...&region=...&force_path_style=true]`.
 * The region defaults to AWS_REGION (then us-east-1), the endpoint to
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (then AWS). Credentials come from the
 * standard AWS environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), else from the SDK's default chain (profiles, roles).
 *
 * Reads go by aligned blocks of an object (`readBlockBytes`, 1 MiB by
 * default): the reads asked for together (a fetch asks for all its ranges at
 * once) that fall in neighbouring blocks of one object are served by one
 * ranged GET, which also reads ahead as many bytes as the read itself asked
 * for (the next fetch of a consumer catching up asks for the bytes that
 * follow). Blocks stay in a small LRU (`readCacheBytes`), so the partitions of
 * a flush's object, read one after the other, cost one GET; a block being read
 * is shared by every read that needs it. Stored bytes never change, so a
 * cached block is never stale.
 *
 * Object keys are `<prefix>/<15-digit ms>-<16 hex>`; the blob key a flush returns
 * is the part after the prefix. The sweep touches nothing else under the prefix.
 *
 * Every call has one deadline (`timeoutMs`, the broker's store timeout): the
 * SDK's retries (503 SlowDown, 500, a timed-out attempt) happen within it, and
 * the requests still open when it passes are aborted, so a server that stops
 * answering costs a failed call, never a request left open.
 */

import type { S3Client } from "@aws-sdk/client-s3";
import type { BlobRange, LogStore } from "../types.ts";
import { frameBuffer } from "../../protocol/frame_pool.ts";
import { redactUrl } from "../redact.ts";
import { objectUrl, rangedGet, s3Call, Signer, type SigningCredentials } from "./s3_http.ts";

/** Settings read from an `s3://` URL. */
export interface S3UrlOptions {
  bucket: string;
  /** Key prefix without a trailing slash ("" for the bucket's root). */
  prefix: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
}

/** Explicit credentials (the environment's are used when absent). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Tunables of the S3 client. */
export interface S3Options {
  credentials?: S3Credentials;
  /**
   * A store call (a PUT, a ranged GET and its body, a HEAD, a LIST page, a
   * DELETE), the SDK's retries included, that has not ended after this long
   * fails and its request is aborted (default 10 s; the broker passes its
   * store timeout). Without it a request the server never answers stays open
   * for good: the SDK's requestTimeout alone only logs a warning.
   */
  timeoutMs?: number;
  /**
   * An attempt with no response after this long fails and is retried within
   * timeoutMs (default: half of timeoutMs).
   */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Attempts per request, retries included (the SDK's default is 3). */
  maxAttempts?: number;
  /** Reads go by aligned blocks of this many bytes (default 1 MiB). */
  readBlockBytes?: number;
  /** Bytes of blocks kept for later reads (default 32 MiB; 0 keeps none). */
  readCacheBytes?: number;
}

/** What the store's reads cost (for tests and benchmarks). */
export interface S3ReadStats {
  /** Ranged GETs sent (retries by the SDK not counted). */
  gets: number;
  /** Bytes those GETs returned. */
  getBytes: number;
  /** Reads served without a GET of their own: from cached blocks or blocks another read was getting. */
  shared: number;
}

/** The default of {@link S3Options.timeoutMs}. */
export const DEFAULT_S3_TIMEOUT_MS = 10_000;
/** The default of {@link S3Options.readBlockBytes}. */
export const DEFAULT_S3_READ_BLOCK_BYTES = 1024 * 1024;
/** The default of {@link S3Options.readCacheBytes}. */
export const DEFAULT_S3_READ_CACHE_BYTES = 32 * 1024 * 1024;
/** The most one GET asks for (neighbouring blocks and read-ahead together). */
const MAX_GET_BYTES = 8 * 1024 * 1024;

/** The blocks of one read, asked for. */
interface Span {
  position: number;
  length: number;
  /** Index of the first and the last block the read needs. */
  first: number;
  last: number;
  /** The needed blocks, first to last, once all are read. */
  parts: Promise<Uint8Array[]>;
}

/** A block of an object being read or read. */
interface Block {
  /** Settles once the GET that carries it ends: the block's bytes (shorter at the object's end). */
  bytes: Promise<Uint8Array>;
  resolve: (b: Uint8Array) => void;
  reject: (e: unknown) => void;
  /** A read needs it (else it is read-ahead, which only joins a GET that some read needs). */
  needed: boolean;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

/** Reads `s3://bucket/prefix?endpoint=...&region=...&force_path_style=true`. */
export function parseS3Url(url: string): S3UrlOptions {
  const shown = JSON.stringify(redactUrl(url));
  const m = /^s3:\/\/([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(url);
  if (!m) {
    throw new Error(`S3 URL ${shown} does not parse; write s3://bucket/prefix?region=...`);
  }
  const bucket = m[1];
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(
      `S3 URL ${shown}: ${JSON.stringify(bucket)} is not a bucket name (3-63 of a-z 0-9 . -)`,
    );
  }
  const params = new URLSearchParams(m[3] ?? "");
  const known = new Set(["endpoint", "region", "force_path_style"]);
  for (const k of params.keys()) {
    if (!known.has(k)) {
      throw new Error(
        `S3 URL ${shown}: unknown parameter ${JSON.stringify(k)}; known: ${[...known].join(", ")}`,
      );
    }
  }
  const fps = params.get("force_path_style");
  if (fps !== null && !/^(true|false)$/.test(fps)) {
    throw new Error(`S3 URL ${shown}: force_path_style must be true or false`);
  }
  const endpoint = params.get("endpoint") ?? env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL");
  if (endpoint !== undefined) {
    try {
      new URL(endpoint);
    } catch {
      throw new Error(`S3 URL ${shown}: endpoint ${JSON.stringify(endpoint)} is not a URL`);
    }
  }
  return {
    bucket,
    prefix: decodeURIComponent(m[2] ?? "").replace(/^\/+|\/+$/g, ""),
    region: params.get("region") ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1",
    endpoint,
    forcePathStyle: fps === "true",
  };
}

/** The credentials in the standard AWS environment variables, if any. */
export function credentialsFromEnv(): S3Credentials | undefined {
  const accessKeyId = env("AWS_ACCESS_KEY_ID");
  const secretAccessKey = env("AWS_SECRET_ACCESS_KEY");
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: env("AWS_SESSION_TOKEN") };
}

const BLOB = /^(\d{15})-[0-9a-f]{16}$/;

function newBlobKey(): string {
  const rnd = crypto.getRandomValues(new Uint8Array(8));
  return `${String(Date.now()).padStart(15, "0")}-${
    [...rnd].map((b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

type Sdk = typeof import("@aws-sdk/client-s3");

interface S3Error {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  message?: string;
}

/** A deadline for one store call: its signal aborts the SDK's requests when it passes. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(readonly ms: number) {
    this.timer = setTimeout(
      () => this.controller.abort(new Error(`no successful answer within ${ms} ms`)),
      ms,
    );
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get passed(): boolean {
    return this.controller.signal.aborted;
  }

  /** `p`, or a rejection once the deadline passes (for a response body being read). */
  race<T>(p: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    return Promise.race([p, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** The S3 log store. */
export class S3LogStore implements LogStore {
  /** One object per flush: the broker consolidates small ones (broker/consolidator.ts). */
  readonly objectPerWrite = true;
  readonly opts: S3UrlOptions;
  private readonly options: S3Options;
  private readonly timeoutMs: number;
  private client: Promise<{ sdk: Sdk; s3: S3Client }> | null = null;
  private closed = false;
  private readonly blockBytes: number;
  private readonly cacheBytes: number;
  /** Blocks read, least recently used first, by `blob/index`, with their bytes counted in cachedBytes. */
  private readonly cached = new Map<string, Uint8Array>();
  private cachedBytes = 0;
  /** Blocks being read, by `blob/index`. */
  private readonly reading = new Map<string, Block>();
  /** Blocks asked for since the last GETs went out, by blob, to be read together. */
  private queued = new Map<string, Map<number, Block>>();
  private getsScheduled = false;
  readonly readStats: S3ReadStats = { gets: 0, getBytes: 0, shared: 0 };
  private readonly signer: Signer;

  constructor(url: string, options: S3Options = {}) {
    this.opts = parseS3Url(url);
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS;
    this.blockBytes = options.readBlockBytes ?? DEFAULT_S3_READ_BLOCK_BYTES;
    if (!Number.isSafeInteger(this.blockBytes) || this.blockBytes < 1) {
      throw new Error(`S3 readBlockBytes ${this.blockBytes} must be a positive integer`);
    }
    this.cacheBytes = Math.max(0, options.readCacheBytes ?? DEFAULT_S3_READ_CACHE_BYTES);
    // The credentials the SDK resolved (explicit, the environment's, or its provider chain).
    this.signer = new Signer(
      this.opts.region,
      () =>
        this.connection().then(({ s3 }) =>
          (s3.config.credentials as () => Promise<SigningCredentials>)()
        ),
    );
  }

  /** The SDK is imported on first use: it takes about a second to load. */
  private connection(): Promise<{ sdk: Sdk; s3: S3Client }> {
    if (this.closed) return Promise.reject(new Error("The S3 log store is closed"));
    this.client ??= import("@aws-sdk/client-s3").then((sdk) => {
      const s3 = new sdk.S3Client({
        region: this.opts.region,
        endpoint: this.opts.endpoint,
        forcePathStyle: this.opts.forcePathStyle,
        credentials: this.options.credentials ?? credentialsFromEnv(),
        maxAttempts: this.options.maxAttempts ?? 3,
        // Checksums only where S3 requires them: S3-compatible servers differ in
        // what they accept, and record batches carry their own CRC-32C.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        requestHandler: {
          requestTimeout: this.options.requestTimeoutMs ?? Math.ceil(this.timeoutMs / 2),
          // Else the SDK only logs a warning and keeps waiting.
          throwOnRequestTimeout: true,
          connectionTimeout: this.options.connectTimeoutMs ?? Math.min(5000, this.timeoutMs),
        },
      });
      return { sdk, s3 };
    });
    return this.client;
  }

  private key(blob: string): string {
    return this.opts.prefix ? `${this.opts.prefix}/${blob}` : blob;
  }

  /**
   * The SDK's error with what was being done and where (its messages name
   * neither); or, once the call's deadline passed, that it timed out.
   */
  private failure(what: string, e: unknown, deadline?: Deadline): Error {
    const err = e as S3Error;
    const status = err?.$metadata?.httpStatusCode;
    const where = `S3 ${what} in bucket ${JSON.stringify(this.opts.bucket)}${
      this.opts.endpoint ? ` at ${this.opts.endpoint}` : ""
    }`;
    if (deadline?.passed) {
      return new Error(
        `${where} timed out: no successful answer within ${deadline.ms} ms`,
        { cause: e },
      );
    }
    return new Error(
      `${where} failed: ${err?.name && err.name !== "Error" ? err.name + ": " : ""}${
        err?.message || "no message"
      }${status ? ` (HTTP ${status})` : ""}`,
      { cause: e },
    );
  }

  async ping(): Promise<void> {
    const { sdk, s3 } = await this.connection();
    const deadline = new Deadline(this.timeoutMs);
    try {
      await s3.send(new sdk.HeadBucketCommand({ Bucket: this.opts.bucket }), {
        abortSignal: deadline.signal,
      });
    } catch (e) {
      if (deadline.passed) throw this.failure("HeadBucket", e, deadline);
      const err = e as S3Error;
      const status = err.$metadata?.httpStatusCode;
      if (status === 404) {
        throw new Error(`S3 bucket ${JSON.stringify(this.opts.bucket)} does not exist; create it`);
      }
      if (status === 403) {
        throw new Error(
          `S3 bucket ${
            JSON.stringify(this.opts.bucket)
          } refuses these credentials (403); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
        );
      }
      throw this.failure("HeadBucket", e);
    } finally {
      deadline.clear();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cached.clear();
    this.cachedBytes = 0;
    const c = this.client;
    this.client = null;
    if (c) (await c.catch(() => null))?.s3.destroy();
  }

  async write(chunks: Uint8Array[]): Promise<string> {
    // The SDK's client holds the credentials the signer uses (and says when the store is closed).
    await this.connection();
    let size = 0;
    for (const c of chunks) size += c.length;
    const body = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      body.set(c, at);
      at += c.length;
    }
    // One deadline for the whole write, the SDK's retries and a fresh key's included.
    const deadline = new Deadline(this.timeoutMs);
    try {
      return await this.put(body, deadline);
    } finally {
      deadline.clear();
    }
  }

  private async put(body: Uint8Array, deadline: Deadline): Promise<string> {
    for (let attempt = 0;; attempt++) {
      const blob = newBlobKey();
      try {
        await s3Call({
          ...this.call(deadline, blob),
          method: "PUT",
          headers: {
            "content-type": "application/octet-stream",
            // Never overwrite: a key taken (or a retried PUT that already landed)
            // answers 412, and the flush goes to a fresh key instead.
            "if-none-match": "*",
          },
          body,
        });
        return blob;
      } catch (e) {
        const err = e as S3Error;
        const status = err.$metadata?.httpStatusCode;
        if ((status === 412 || status === 409) && attempt < 3 && !deadline.passed) continue;
        throw this.failure(`PUT ${this.key(blob)}`, e, deadline);
      }
    }
  }

  async read(blob: string, position: number, length: number): Promise<Uint8Array> {
    this.checkRange(blob, position, length);
    if (length <= 0) return new Uint8Array(0);
    const span = this.span(blob, position, length);
    const parts = await span.parts;
    if (parts.length === 1) {
      const from = position - span.first * this.blockBytes;
      return parts[0].subarray(from, from + length);
    }
    const out = new Uint8Array(length);
    this.copyOut(span, parts, out, 0);
    return out;
  }

  /**
   * The ranges back to back in one buffer of the caller's own (pooled when
   * large: a Fetch answer gives it back once written). Every range's blocks
   * are asked for before any is awaited, so ranges of one object share GETs.
   */
  async readRanges(ranges: readonly BlobRange[]): Promise<Uint8Array> {
    let total = 0;
    for (const r of ranges) {
      this.checkRange(r.blob, r.position, r.length);
      if (r.length < 0) throw new Error(`No bytes ${r.position}+${r.length} in blob ${r.blob}`);
      total += r.length;
    }
    const spans = ranges.map((r) => r.length > 0 ? this.span(r.blob, r.position, r.length) : null);
    // Every GET is settled before returning, so none is left failing unobserved.
    const settled = await Promise.allSettled(spans.map((sp) => sp?.parts ?? []));
    const out = frameBuffer(total);
    let at = 0;
    for (let k = 0; k < spans.length; k++) {
      const s = settled[k];
      if (s.status === "rejected") throw s.reason;
      const span = spans[k];
      if (span) this.copyOut(span, s.value, out, at);
      at += ranges[k].length;
    }
    return out;
  }

  /**
   * Starts the GETs of ranges a reader is expected to ask for next (the
   * batches after those a Fetch just answered), so that its next read finds
   * them cached or on the way. Blocks cached or being read are left alone;
   * at most a quarter of the cache is asked for at once, so what is fetched
   * ahead does not push out what readers still need. Failures are dropped:
   * the read that needs the bytes asks again.
   */
  prefetch(ranges: readonly BlobRange[]): void {
    if (this.closed || this.cacheBytes <= 0) return;
    const w = this.blockBytes;
    let left = Math.floor(this.cacheBytes / 4);
    for (const r of ranges) {
      if (!BLOB.test(r.blob) || r.length <= 0 || r.position < 0) continue;
      const first = Math.floor(r.position / w);
      const last = Math.floor((r.position + r.length - 1) / w);
      for (let i = first; i <= last; i++) {
        const key = `${r.blob}/${i}`;
        if (this.cached.has(key) || this.reading.has(key)) continue;
        if ((left -= w) < 0) return;
        this.block(r.blob, i, true);
      }
    }
  }

  /** Throws unless `position`+`length` can name bytes of an S3 log blob. */
  private checkRange(blob: string, position: number, length: number): void {
    if (!BLOB.test(blob)) throw new Error(`Blob ${JSON.stringify(blob)} is not an S3 log blob`);
    if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(length)) {
      throw new Error(`No bytes ${position}+${length} in blob ${blob}`);
    }
  }

  /**
   * The blocks holding `length` (> 0) bytes at `position`, asked for now,
   * with as many bytes again read ahead (the next read of a consumer catching
   * up asks for the bytes that follow), within one GET's limit. The parts
   * reject when the object ends before the range does.
   */
  private span(blob: string, position: number, length: number): Span {
    const w = this.blockBytes;
    const first = Math.floor(position / w);
    const last = Math.floor((position + length - 1) / w);
    const ahead = Math.min(last + Math.ceil(length / w), first + Math.floor(MAX_GET_BYTES / w) - 1);
    const blocks: Promise<Uint8Array>[] = [];
    let own = false;
    for (let i = first; i <= Math.max(last, ahead); i++) {
      const needed = i <= last;
      const hit = this.block(blob, i, needed);
      if (hit.queued && needed) own = true;
      if (needed) blocks.push(hit.bytes);
    }
    if (!own) this.readStats.shared++;
    const parts = Promise.all(blocks).then((parts) => {
      // Only the object's last block is short.
      for (let k = 0; k < parts.length - 1; k++) {
        if (parts[k].length < w) {
          throw this.endsBefore(blob, position, length, (first + k) * w + parts[k].length);
        }
      }
      const lastEnd = last * w + parts[parts.length - 1].length;
      if (lastEnd < position + length) throw this.endsBefore(blob, position, length, lastEnd);
      return parts;
    });
    return { position, length, first, last, parts };
  }

  /** Copies a span's bytes out of its blocks into `out` at `at`. */
  private copyOut(span: Span, parts: Uint8Array[], out: Uint8Array, at: number): void {
    const w = this.blockBytes;
    const end = span.position + span.length;
    for (let k = 0; k < parts.length; k++) {
      const from = k === 0 ? span.position - span.first * w : 0;
      const to = k === parts.length - 1 ? end - span.last * w : parts[k].length;
      out.set(parts[k].subarray(from, to), at);
      at += to - from;
    }
  }

  private endsBefore(blob: string, position: number, length: number, size: number): Error {
    return new Error(
      `Blob ${blob} ends before byte ${position + length} (got ${
        Math.max(0, size - position)
      } of ${length} bytes)`,
    );
  }

  /**
   * Block `index` of `blob`: cached, being read, or queued for the GETs that
   * go out once the current task's reads are all asked for.
   */
  private block(
    blob: string,
    index: number,
    needed: boolean,
  ): { bytes: Promise<Uint8Array>; queued: boolean } {
    const key = `${blob}/${index}`;
    const hit = this.cached.get(key);
    if (hit) {
      this.cached.delete(key);
      this.cached.set(key, hit);
      return { bytes: Promise.resolve(hit), queued: false };
    }
    const open = this.reading.get(key);
    if (open) {
      // A read-ahead block that a read now needs: it makes its GET worth sending.
      if (needed && !open.needed) {
        open.needed = true;
        return { bytes: open.bytes, queued: this.queued.get(blob)?.get(index) === open };
      }
      return { bytes: open.bytes, queued: false };
    }
    let resolve!: (b: Uint8Array) => void;
    let reject!: (e: unknown) => void;
    const bytes = new Promise<Uint8Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A read-ahead block no read awaits must not fail unobserved.
    bytes.catch(() => {});
    const b: Block = { bytes, resolve, reject, needed };
    this.reading.set(key, b);
    let q = this.queued.get(blob);
    if (!q) this.queued.set(blob, q = new Map());
    q.set(index, b);
    if (!this.getsScheduled) {
      this.getsScheduled = true;
      queueMicrotask(() => this.startGets());
    }
    return { bytes, queued: true };
  }

  /** Sends the queued blocks: one GET per run of neighbouring blocks of one object with a needed one. */
  private startGets(): void {
    this.getsScheduled = false;
    const queued = this.queued;
    this.queued = new Map();
    const most = Math.max(1, Math.floor(MAX_GET_BYTES / this.blockBytes));
    for (const [blob, blocks] of queued) {
      const indexes = [...blocks.keys()].sort((a, b) => a - b);
      let run: number[] = [];
      const send = () => {
        // A run of read-ahead alone is left out: no read waits for it.
        if (run.some((i) => blocks.get(i)!.needed)) this.getRun(blob, run, blocks);
        else for (const i of run) this.dropBlock(blob, i, blocks);
        run = [];
      };
      for (const i of indexes) {
        if (run.length > 0 && (i !== run[run.length - 1] + 1 || run.length >= most)) send();
        run.push(i);
      }
      send();
    }
  }

  /** A read-ahead block that goes with no GET: forgotten (a later read asks again). */
  private dropBlock(blob: string, index: number, blocks: Map<number, Block>): void {
    const b = blocks.get(index)!;
    this.reading.delete(`${blob}/${index}`);
    b.reject(new Error("read-ahead block not read"));
  }

  private async getRun(blob: string, run: number[], blocks: Map<number, Block>): Promise<void> {
    const w = this.blockBytes;
    const from = run[0] * w;
    const length = run.length * w;
    const settle = (f: (b: Block, k: number) => void) => {
      run.forEach((i, k) => {
        this.reading.delete(`${blob}/${i}`);
        f(blocks.get(i)!, k);
      });
    };
    let bytes: Uint8Array;
    try {
      bytes = await this.get(blob, from, length);
    } catch (e) {
      settle((b) => b.reject(e));
      return;
    }
    this.readStats.gets++;
    this.readStats.getBytes += bytes.length;
    settle((b, k) => {
      const part = bytes.subarray(
        Math.min(bytes.length, k * w),
        Math.min(bytes.length, (k + 1) * w),
      );
      this.remember(`${blob}/${run[k]}`, part);
      b.resolve(part);
    });
  }

  private remember(key: string, part: Uint8Array): void {
    // An empty block (past the object's end) is not kept: only bytes bound the cache.
    if (this.cacheBytes <= 0 || part.length === 0 || part.length > this.cacheBytes) return;
    this.cached.set(key, part);
    this.cachedBytes += part.length;
    while (this.cachedBytes > this.cacheBytes) {
      const [oldKey, old] = this.cached.entries().next().value!;
      this.cached.delete(oldKey);
      this.cachedBytes -= old.length;
    }
  }

  /** What s3_http.ts needs for a request about `blob`. */
  private call(deadline: Deadline, blob: string) {
    return {
      url: objectUrl(this.opts, this.key(blob)),
      signer: this.signer,
      signal: deadline.signal,
      attempts: this.options.maxAttempts ?? 3,
      attemptTimeoutMs: this.options.requestTimeoutMs ?? Math.ceil(this.timeoutMs / 2),
    };
  }

  /**
   * One ranged GET: up to `length` bytes at `position` (fewer where the object
   * ends), with fetch (s3_http.ts) and the credentials the SDK resolved.
   */
  private async get(blob: string, position: number, length: number): Promise<Uint8Array> {
    await this.connection();
    const deadline = new Deadline(this.timeoutMs);
    try {
      return await rangedGet(this.call(deadline, blob), position, length);
    } catch (e) {
      throw this.failure(`GET ${this.key(blob)} bytes ${position}+${length}`, e, deadline);
    } finally {
      deadline.clear();
    }
  }

  async sweep(referenced: Set<string>, graceMs: number): Promise<number> {
    const { sdk, s3 } = await this.connection();
    const cutoff = Date.now() - graceMs;
    const base = this.opts.prefix ? `${this.opts.prefix}/` : "";
    const doomed: string[] = [];
    let token: string | undefined;
    do {
      const deadline = new Deadline(this.timeoutMs);
      const page = await s3.send(
        new sdk.ListObjectsV2Command({
          Bucket: this.opts.bucket,
          Prefix: base,
          ContinuationToken: token,
        }),
        { abortSignal: deadline.signal },
      ).catch((e) => {
        throw this.failure(`LIST ${base}`, e, deadline);
      }).finally(() => deadline.clear());
      for (const o of page.Contents ?? []) {
        const name = o.Key?.slice(base.length) ?? "";
        const m = BLOB.exec(name);
        if (!m || referenced.has(name)) continue;
        // Young by either clock (the writer's in the key, the server's) means keep:
        // its commit may still be in flight.
        if (Number(m[1]) > cutoff) continue;
        if ((o.LastModified?.getTime() ?? Date.now()) > cutoff) continue;
        doomed.push(o.Key!);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // One DELETE per object (every S3-compatible server has it), a few at a time.
    let removed = 0;
    for (let i = 0; i < doomed.length; i += 8) {
      const deadline = new Deadline(this.timeoutMs);
      const done = await Promise.allSettled(
        doomed.slice(i, i + 8).map((Key) =>
          s3.send(new sdk.DeleteObjectCommand({ Bucket: this.opts.bucket, Key }), {
            abortSignal: deadline.signal,
          })
        ),
      ).finally(() => deadline.clear());
      removed += done.filter((r) => r.status === "fulfilled").length;
    }
    this.forget(new Set(doomed.map((key) => key.slice(base.length))));
    return removed;
  }

  /** Drops the cached blocks of objects swept away: their memory goes back at once. */
  private forget(blobs: Set<string>): void {
    if (blobs.size === 0) return;
    for (const [key, bytes] of this.cached) {
      if (!blobs.has(key.slice(0, key.lastIndexOf("/")))) continue;
      this.cached.delete(key);
      this.cachedBytes -= bytes.length;
    }
  }
}
