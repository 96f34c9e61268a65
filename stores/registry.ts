/**
 * Opens a store from its URL. The scheme picks the backend; an unknown scheme
 * is an error that lists the supported ones (never a silent fallback).
 *
 *   meta: memory:  sqlite:///abs/path.db  sqlite:rel/path.db  (bare path = SQLite file)
 *         file:///abs/dir  file:rel/dir  (one broker process; ?fsync=true fsyncs every change)
 *         redis://[user:password@]host:6379/0[?prefix=skb:]  rediss://... (TLS)
 *         upstash:  (UPSTASH_REDIS_REST_URL)  upstash://host  https://host  (token from
 *         UPSTASH_REDIS_REST_TOKEN; http:// only for a loopback emulator)
 *   log:  memory:  file:///abs/dir        file:rel/dir        (bare path = directory)
 *         memory:?max-bytes=64m  (a bound: past it the oldest data of delete-policy topics goes)
 *         s3://bucket/prefix?endpoint=...&region=...&force_path_style=true  (credentials from
 *         the standard AWS environment variables)
 */

import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { LogStore, MetaStore } from "./types.ts";
import { redactUrl } from "./redact.ts";
import { MemoryMetaStore } from "./meta/memory.ts";
import { SqliteMetaStore } from "./meta/sqlite.ts";
import { type MemoryLogOptions, MemoryLogStore } from "./log/memory.ts";
import { FileLogStore } from "./log/file.ts";
import { FileMetaStore } from "./meta/file.ts";
import { DirectoryLockedError } from "./meta/dir_lock.ts";
import { RedisMetaStore } from "./meta/redis.ts";
import { UpstashMetaStore } from "./meta/upstash.ts";
import { S3LogStore } from "./log/s3.ts";

/** A store URL that cannot be used, with a message saying what to write instead. */
export class StoreUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreUrlError";
  }
}

export { redactUrl };

export const META_SCHEMES = [
  "memory:",
  "sqlite:",
  "file:",
  "redis:",
  "rediss:",
  "upstash:",
  "https:",
] as const;
export const LOG_SCHEMES = ["memory:", "file:", "s3:"] as const;

function schemeOf(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  // A Windows drive letter ("C:\data") is a path, not a scheme.
  if (!m || m[1].length === 1) return null;
  return m[1].toLowerCase() + ":";
}

/**
 * The filesystem path in a `sqlite:` or `file:` URL. Accepts the absolute form
 * (`sqlite:///abs/x.db`), a relative form (`sqlite:data/x.db`) and bare paths;
 * refuses `sqlite://x.db`, where URL parsing would make "x.db" a host name.
 */
export function pathOf(url: string, scheme: string): string {
  if (schemeOf(url) === null) return resolve(url);
  const rest = url.slice(scheme.length);
  if (rest.startsWith("///")) return fileURLToPath("file://" + rest.slice(2));
  if (rest.startsWith("//")) {
    throw new StoreUrlError(
      `Store URL ${
        JSON.stringify(url)
      } names a host; write ${scheme}///absolute/path or ${scheme}relative/path`,
    );
  }
  return isAbsolute(rest) ? rest : resolve(rest);
}

/** Runs a store's constructor, turning its complaint about the URL into a StoreUrlError. */
function opened<T>(url: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof StoreUrlError) throw e;
    throw new StoreUrlError(
      `Store URL ${JSON.stringify(redactUrl(url))}: ${(e as Error).message}`,
    );
  }
}

/** Runs a file-backed store's constructor; its failure becomes one message naming the path. */
function openedAt<T>(what: string, path: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    // Already names the directory and says who holds it.
    if (e instanceof DirectoryLockedError) throw e;
    throw new StoreUrlError(
      `Cannot open ${what} at ${JSON.stringify(path)}: ${(e as Error).message}`,
    );
  }
}

/** The directory and options of a `file:` URL (`file:dir?fsync=true`). */
function fileUrl(url: string): { path: string; fsync: boolean } {
  const [path, query] = url.split("?", 2);
  const fsync = new URLSearchParams(query ?? "").get("fsync") === "true";
  return { path: pathOf(path, "file:"), fsync };
}

/** A byte count as URLs write it: digits, optionally followed by k, m or g (KiB, MiB, GiB). */
function byteCount(text: string): number | null {
  const m = /^([0-9]+)([kmg]?)$/i.exec(text.trim());
  if (!m) return null;
  const scale = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()]!;
  const n = Number(m[1]) * scale;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** The options of a `memory:` log store URL (`memory:?max-bytes=64m`). */
function memoryLogUrl(url: string): MemoryLogOptions {
  const query = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
  const opts: MemoryLogOptions = {};
  for (const [key, value] of new URLSearchParams(query)) {
    if (key !== "max-bytes") {
      throw new StoreUrlError(
        `Log store URL ${JSON.stringify(url)} has an unknown option ${
          JSON.stringify(key)
        }; memory: takes only max-bytes`,
      );
    }
    const n = byteCount(value);
    if (n === null) {
      throw new StoreUrlError(
        `Log store URL ${JSON.stringify(url)}: max-bytes ${
          JSON.stringify(value)
        } is not a positive whole number of bytes; write e.g. max-bytes=67108864 or max-bytes=64m`,
      );
    }
    opts.maxBytes = n;
  }
  return opts;
}

/** Settings of the meta store that are not in its URL. */
export interface MetaStoreOptions {
  /**
   * A call to a remote store (redis:, upstash:) with no answer after this
   * long is abandoned by its client; the broker passes its store timeout,
   * the same deadline its store guard gives every call.
   */
  timeoutMs?: number;
}

/** Opens the meta store a URL names. */
export function openMetaStore(url: string, options: MetaStoreOptions = {}): MetaStore {
  const scheme = schemeOf(url);
  if (scheme === "memory:") return new MemoryMetaStore();
  if (scheme === "sqlite:" || scheme === null) {
    const path = pathOf(url, "sqlite:");
    return openedAt("SQLite meta store", path, () => new SqliteMetaStore(path));
  }
  if (scheme === "file:") {
    const { path, fsync } = fileUrl(url);
    return openedAt("file meta store", path, () => new FileMetaStore(path, { fsync }));
  }
  if (scheme === "redis:" || scheme === "rediss:") {
    return opened(url, () => new RedisMetaStore(url, { commandTimeoutMs: options.timeoutMs }));
  }
  if (scheme === "upstash:" || scheme === "https:" || scheme === "http:") {
    return opened(url, () => new UpstashMetaStore(url, { requestTimeoutMs: options.timeoutMs }));
  }
  throw new StoreUrlError(
    `Meta store URL ${JSON.stringify(redactUrl(url))} has an unknown scheme; supported: ${
      META_SCHEMES.join(" ")
    }`,
  );
}

/** Settings of the log store that are not in its URL. */
export interface LogStoreOptions {
  /**
   * A call to a remote store (s3:) with no answer after this long fails, and
   * its requests are abandoned; the broker passes its store timeout, the same
   * deadline its store guard gives every call.
   */
  timeoutMs?: number;
}

/** Opens the log store a URL names. */
export function openLogStore(url: string, options: LogStoreOptions = {}): LogStore {
  const scheme = schemeOf(url);
  if (scheme === "memory:") return new MemoryLogStore(memoryLogUrl(url));
  if (scheme === "file:" || scheme === null) {
    const { path, fsync } = fileUrl(url);
    return new FileLogStore(path, { fsync });
  }
  if (scheme === "s3:") {
    return opened(url, () => new S3LogStore(url, { timeoutMs: options.timeoutMs }));
  }
  throw new StoreUrlError(
    `Log store URL ${JSON.stringify(redactUrl(url))} has an unknown scheme; supported: ${
      LOG_SCHEMES.join(" ")
    }`,
  );
}
