/**
 * `upstash:` meta store: Upstash Redis over its REST API (HTTPS, no TCP
 * connection to keep), through `@upstash/redis`. It runs the same Lua scripts
 * as the `redis://` store (`redis_scripts.ts`) through EVALSHA/EVAL, so the key
 * layout (documented in `redis.ts`) and the atomicity are the same, and both
 * backends can even share one database.
 *
 * URL forms (the token always comes from UPSTASH_REDIS_REST_TOKEN, never the URL):
 *   `upstash:`               the REST URL from UPSTASH_REDIS_REST_URL
 *   `upstash://host[:port]`  https://host[:port]
 *   `https://host[:port]`    as given
 *   `http://127.0.0.1:port`  plain HTTP, for a local emulator on a loopback address only
 * Each may end in `?prefix=skb:` (the key prefix, "skb:" by default).
 */

import type { Redis } from "@upstash/redis";
import { LuaMetaStore, type RedisEval } from "./redis_scripts.ts";
import { DEFAULT_PREFIX } from "./redis.ts";
import { redactUrl } from "../redact.ts";

/** Where the REST API is and how to authenticate. */
export interface UpstashUrlOptions {
  /** The REST endpoint, e.g. https://eu1-xyz.upstash.io. */
  restUrl: string;
  token: string;
  prefix: string;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** Reads an `upstash:` / `https:` meta store URL and the token from the environment. */
export function parseUpstashUrl(
  url: string,
  token = env("UPSTASH_REDIS_REST_TOKEN"),
): UpstashUrlOptions {
  const shown = JSON.stringify(redactUrl(url));
  const [base, query] = url.split("?", 2);
  const params = new URLSearchParams(query ?? "");
  const prefix = params.get("prefix") ?? DEFAULT_PREFIX;
  let rest: string;
  if (/^upstash:\/*$/i.test(base)) {
    const fromEnv = env("UPSTASH_REDIS_REST_URL");
    if (!fromEnv) {
      throw new Error(
        `Meta store URL ${shown} takes the REST URL from UPSTASH_REDIS_REST_URL, which is not set`,
      );
    }
    rest = fromEnv;
  } else if (/^upstash:\/\//i.test(base)) {
    rest = "https://" + base.slice("upstash://".length);
  } else {
    rest = base;
  }
  let u: URL;
  try {
    u = new URL(rest);
  } catch {
    throw new Error(`Upstash REST URL ${shown} does not parse; write https://host or upstash:`);
  }
  if (u.protocol === "http:" && !LOOPBACK.test(u.hostname)) {
    throw new Error(
      `Upstash REST URL ${shown} uses plain http to ${
        JSON.stringify(u.hostname)
      }; the token would travel in clear text: use https://`,
    );
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new Error(`Upstash REST URL ${shown} must be https://`);
  }
  if (u.username || u.password) {
    throw new Error(
      `Upstash REST URL ${shown} holds credentials; put the token in UPSTASH_REDIS_REST_TOKEN`,
    );
  }
  if (!token) {
    throw new Error(
      `The Upstash meta store needs its REST token in UPSTASH_REDIS_REST_TOKEN (URL ${shown})`,
    );
  }
  return { restUrl: u.toString().replace(/\/$/, ""), token, prefix };
}

/** Runs scripts through the REST API; @upstash/redis is imported on first use. */
class UpstashEval implements RedisEval {
  private client: Promise<Redis> | null = null;

  constructor(private readonly opts: UpstashUrlOptions, private readonly timeoutMs: number) {}

  private connection(): Promise<Redis> {
    this.client ??= import("@upstash/redis").then(({ Redis }) =>
      new Redis({
        url: this.opts.restUrl,
        token: this.opts.token,
        // Script results are ours to parse: no JSON guessing on strings.
        automaticDeserialization: false,
        enableTelemetry: false,
        // A request that cannot be sent is retried a little, then fails (retriable for clients).
        retry: { retries: 2, backoff: (n) => 50 * 2 ** n },
        signal: () => AbortSignal.timeout(this.timeoutMs),
      })
    );
    return this.client;
  }

  async evalsha(sha1: string, keys: string[], args: string[]): Promise<unknown> {
    return await (await this.connection()).evalsha(sha1, keys, args);
  }

  async eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    return await (await this.connection()).eval(script, keys, args);
  }

  close(): Promise<void> {
    // HTTP requests hold nothing open between calls.
    this.client = null;
    return Promise.resolve();
  }
}

/** Tunables of the REST client. */
export interface UpstashOptions {
  /** The token; UPSTASH_REDIS_REST_TOKEN when absent. */
  token?: string;
  /** A request with no answer after this long fails (its outcome is then unknown). */
  requestTimeoutMs?: number;
}

/** The Upstash meta store. */
export class UpstashMetaStore extends LuaMetaStore {
  constructor(url: string, opts: UpstashOptions = {}) {
    const parsed = parseUpstashUrl(url, opts.token ?? env("UPSTASH_REDIS_REST_TOKEN"));
    super(new UpstashEval(parsed, opts.requestTimeoutMs ?? 15000), parsed.prefix);
  }
}
