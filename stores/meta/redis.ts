/**
 * `redis://` and `rediss://` meta store: Redis (or anything speaking its
 * protocol with Lua scripting: Valkey, KeyDB, Dragonfly) over TCP through
 * ioredis. Every operation is one Lua script from `redis_scripts.ts`, run by
 * EVALSHA with an EVAL fallback, so a change touching several keys is atomic
 * and any number of brokers can share one database.
 *
 * URL: `redis://[user:password@]host[:port][/db][?prefix=skb:]`; `rediss://`
 * for TLS. Credentials may also come from REDIS_USERNAME / REDIS_PASSWORD.
 *
 * Key layout (P is the prefix, "skb:" by default; <t> a topic id, <p> a partition):
 *
 *   P cluster            string  the cluster id recorded at first start
 *   P topics             hash    topic name -> topic id
 *   P topic:<t>          hash    name, partitions, configs (JSON)
 *   P p:<t>:<p>          hash    ls (log start offset), hw (high watermark), lso (last stable offset)
 *                                bytes (batch bytes from the log start to hw; absent on partitions
 *                                made before it existed, until partitionSizes counts them)
 *                                abspan (the longest aborted range, lastOffset - firstOffset, ever
 *                                recorded: abortedTransactions scans markers up to to + abspan)
 *   P idx:<t>:<p>        zset    the partition's index: score = base offset, member =
 *                                "base|last|position|length|maxTimestamp|blob"
 *   P ts:<t>:<p>         zset    the index entries that raise the running maximum timestamp:
 *                                score = max timestamp, member = base offset (both increase,
 *                                so the first hit of a timestamp search is the answer)
 *   P pp:<t>:<p>         hash    producer id -> "epoch,lastSeq,(firstSeq,lastSeq,baseOffset)x<=5;
 *                                txnStart,lastTimestamp" (txnStart: first offset of the producer's
 *                                open transaction, -1 if none; states from before transactions
 *                                have no ";...")
 *   P ot:<t>:<p>         zset    open transactions (KIP-98): member = producer id, score = first
 *                                offset; the lowest score is the last stable offset (or hw)
 *   P ab:<t>:<p>         zset    aborted transactions: score = the abort marker's offset (its
 *                                lastOffset, unique), member = "lastOffset|firstOffset|producerId";
 *                                a range query [from, to) scans scores >= from and keeps those with
 *                                firstOffset < to; advanceLogStart drops scores below the log start
 *   P cl:<t>:<p>         hash    the log cleaner's (KIP-58): owner and until (the cleaning claim and
 *                                its lease's end, absent when free), ct (cleaned through: offsets
 *                                below are clean), cb (bytes of the entries ending below ct);
 *                                absent until a cleaner first claims the partition
 *   P producers          hash    producer id -> current epoch
 *   P next_pid           string  last producer id handed out (the first is 1000)
 *   P txn                hash    transactional id -> "producerId,epoch"
 *   P blobs              hash    blob -> how many index entries point into it (sweep keeps these)
 *   P brokers            hash    node id -> broker registration (JSON, with its lease's end)
 *   P txs                set     transactional ids with a coordinator record
 *   P tx:<id>            hash    version, state (the versioned transaction coordinator record)
 *   P groups             set     group ids
 *   P group:<g>          hash    version, state (the versioned group record)
 *   P hb:<g>             hash    member id -> last heartbeat (ms)
 *   P off:<g>            hash    "<partition>:<topic>" -> committed offset (JSON)
 *   P cfg:<type>         hash    entity name -> its configs (JSON), per entity type (brokers,
 *                                groups, quotas): dynamic configs that are not a topic's
 *   P cfgv:<type>        hash    entity name -> version of its configs (for compare-and-set)
 */

import type { Redis, RedisOptions } from "ioredis";
import { getLogger } from "@logtape/logtape";
import { LuaMetaStore, type RedisEval } from "./redis_scripts.ts";
import { redactUrl } from "../redact.ts";

const log = getLogger(["skb", "redis"]);

/** The default key prefix. */
export const DEFAULT_PREFIX = "skb:";

/** Connection settings read from a `redis://` URL. */
export interface RedisUrlOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  prefix: string;
}

/** Parses `redis://[user:password@]host[:port][/db][?prefix=...]` (and `rediss://`). */
export function parseRedisUrl(url: string): RedisUrlOptions {
  const shown = JSON.stringify(redactUrl(url));
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(
      `Redis URL ${shown} does not parse; write redis://host:6379/0`,
    );
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new Error(`Redis URL ${shown} must start with redis:// or rediss://`);
  }
  if (!u.hostname) {
    throw new Error(`Redis URL ${shown} names no host; write redis://host:6379/0`);
  }
  const path = u.pathname.replace(/^\/+|\/+$/g, "");
  if (path !== "" && !/^\d+$/.test(path)) {
    throw new Error(
      `Redis URL ${shown}: the path must be a database number, like /0`,
    );
  }
  const env = (k: string) => {
    try {
      return Deno.env.get(k) || undefined;
    } catch {
      return undefined; // no --allow-env
    }
  };
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : 6379,
    db: path === "" ? 0 : Number(path),
    username: u.username ? decodeURIComponent(u.username) : env("REDIS_USERNAME"),
    password: u.password ? decodeURIComponent(u.password) : env("REDIS_PASSWORD"),
    tls: u.protocol === "rediss:",
    prefix: u.searchParams.get("prefix") ?? DEFAULT_PREFIX,
  };
}

/** Tunables of the TCP connection. */
export interface RedisConnectionOptions {
  /** A command with no answer after this long fails (its outcome is then unknown). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** Runs scripts over one ioredis connection, imported on first use (it is slow to load). */
class IoRedisEval implements RedisEval {
  private client: Promise<Redis> | null = null;
  private closed = false;
  /** The last connection error, to explain a command that failed for want of a connection. */
  private lastError = "";

  constructor(
    private readonly opts: RedisUrlOptions,
    private readonly conn: RedisConnectionOptions,
  ) {}

  private connection(): Promise<Redis> {
    if (this.closed) return Promise.reject(new Error("The Redis meta store is closed"));
    this.client ??= import("ioredis").then(({ Redis }) => {
      const options: RedisOptions = {
        host: this.opts.host,
        port: this.opts.port,
        db: this.opts.db,
        username: this.opts.username,
        password: this.opts.password,
        tls: this.opts.tls ? {} : undefined,
        lazyConnect: true,
        connectTimeout: this.conn.connectTimeoutMs ?? 5000,
        commandTimeout: this.conn.commandTimeoutMs ?? 15000,
        // A command queued while disconnected fails after one reconnect attempt, so
        // callers get an error (retriable for Kafka clients) instead of waiting forever.
        maxRetriesPerRequest: 1,
        // Never send a script twice: one that was sent before the connection dropped
        // may have run, and running commitBatches again would store a flush twice.
        autoResendUnfulfilledCommands: false,
        retryStrategy: (times) => Math.min(100 * times, 2000),
      };
      const client = new Redis(options);
      client.on("error", (e: Error) => {
        // ioredis reports every failed reconnect; log each distinct error once.
        if (e.message !== this.lastError) {
          this.lastError = e.message;
          log.warn("Redis {host}:{port}: {message}", {
            host: this.opts.host,
            port: this.opts.port,
            message: e.message,
          });
        }
      });
      client.on("ready", () => (this.lastError = ""));
      return client;
    });
    return this.client;
  }

  /** ioredis says "max retries per request" when it could not connect; say why instead. */
  private explain(e: unknown): unknown {
    if ((e as Error)?.name !== "MaxRetriesPerRequestError") return e;
    return new Error(
      `Redis ${this.opts.host}:${this.opts.port} is unreachable${
        this.lastError ? ` (${this.lastError})` : ""
      }`,
      { cause: e },
    );
  }

  async evalsha(sha1: string, keys: string[], args: string[]): Promise<unknown> {
    const c = await this.connection();
    try {
      return await c.evalsha(sha1, keys.length, ...keys, ...args);
    } catch (e) {
      throw this.explain(e);
    }
  }

  async eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    const c = await this.connection();
    try {
      return await c.eval(script, keys.length, ...keys, ...args);
    } catch (e) {
      throw this.explain(e);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.client;
    this.client = null;
    if (!pending) return;
    const c = await pending;
    if (c.status === "end") return;
    // "end" follows once the socket is closed; a client waiting to reconnect has no
    // socket and may not say it, so do not wait for it forever.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 1000);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      c.once("end", done);
      c.disconnect(false);
      if (c.status === "end") done();
    });
  }
}

/** The Redis meta store. */
export class RedisMetaStore extends LuaMetaStore {
  constructor(url: string, conn: RedisConnectionOptions = {}) {
    const opts = parseRedisUrl(url);
    super(new IoRedisEval(opts, conn), opts.prefix);
  }
}
