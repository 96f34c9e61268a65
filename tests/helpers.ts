/**
 * The helpers the tests share, one copy each:
 *
 * - waits and encodings: `sleep`, `within` (a bounded wait), `b64`;
 * - records and requests over a WireClient: `records` / `batchOf` (records
 *   `k<i>`/`v<i>`), `createTopic`, `produceAll`, `fetchPartition`,
 *   `fetchedRecords`, `listLatest` (request builders: `wire_requests.ts`);
 * - the meta stores the wire tests run on (`META_STORES`, `metaStoreTest`):
 *   memory, SQLite in a temp file, file in a temp dir, a real redis-server and
 *   Upstash's REST API in front of one (a missing server fails the test with
 *   how to install it);
 * - broker processes and client drivers under a failing store: `brokerArgs`,
 *   `runAny`, `untilAcks`, `topicOffsets`, `produceAcross`, `assertRecord`.
 *
 * Starting brokers is `broker_util.ts`; a store that fails on demand is
 * `faulty_store.ts`.
 */

import assert from "node:assert/strict";
import { ROOT } from "./broker_util.ts";
import { DRIVERS, type Run, runAny, runDriver } from "./client_drivers.ts";

export { type Run, runAny };
import { type Consumed, contractRecord, parseLines, type Produced } from "./contract_records.ts";
import type { WireClient } from "./wire_client.ts";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  defaultListOffsetsRequest,
  FETCH_API,
  type FetchResponsePartition,
  LIST_OFFSETS_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { buildBatch, decodeRecords, type SimpleRecord } from "../protocol/record_batch.ts";
import { fetchRequest, flattenRecords, produceRequest } from "./wire_requests.ts";
import type { MetaStore } from "../stores/types.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { SqliteMetaStore } from "../stores/meta/sqlite.ts";
import { FileMetaStore } from "../stores/meta/file.ts";
import { RedisMetaStore } from "../stores/meta/redis.ts";
import { UpstashMetaStore } from "../stores/meta/upstash.ts";
import { startRedisServer } from "./servers/redis_server.ts";
import { startUpstashRestProxy } from "./upstash_rest_proxy.ts";

/** `deno run main.ts` arguments for a broker on the two store URLs (5 ms linger). */
export function brokerArgs(port: number, meta: string, log: string, extra: string[] = []) {
  return [
    "run",
    "-A",
    new URL("main.ts", ROOT).pathname,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--meta",
    meta,
    "--log",
    log,
    "--linger-ms",
    "5",
    "--log-level",
    "warning",
    ...extra,
  ];
}

/** Rejects when `p` takes longer than `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    ),
  ]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function b64(b: Uint8Array | null): string | null {
  if (b === null) return null;
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/** Checks one consumed record is byte for byte contract record i. */
export function assertRecord(c: Consumed, i: number, label: string) {
  const want = contractRecord(i);
  assert.equal(c.k, b64(want.key), `${label}: key of record ${i}`);
  assert.equal(c.v, b64(want.value), `${label}: value of record ${i}`);
  assert.deepEqual(c.h, want.headers.map(([k, v]) => [k, b64(v)]), `${label}: headers of ${i}`);
}

/** Waits until a driver run has `acks` acknowledgements or ended (at most `ms`). */
export async function untilAcks(run: Run, acks: number, ms: number): Promise<void> {
  let ended = false;
  run.done.finally(() => (ended = true));
  for (let waited = 0; run.acks < acks && !ended && waited < ms; waited += 10) await sleep(10);
}

/** A driver command line's start: `cmd --bootstrap <bootstrap> --topic <topic>`. */
const on = (
  cmd: string,
  bootstrap: string,
  topic: string,
) => [cmd, "--bootstrap", bootstrap, "--topic", topic];

/** Each partition's earliest and latest offsets, as librdkafka's driver lists them. */
export async function topicOffsets(bootstrap: string, topic: string) {
  const rdk = DRIVERS.find((d) => d.name === "librdkafka")!;
  return parseLines<{ p: number; earliest: number; latest: number }>(
    await runDriver(rdk, [...on("offsets", bootstrap, topic), "--timestamp", "0"], 60_000),
  ).records;
}

/**
 * librdkafka's driver producing `count` contract records to a new
 * 3-partition topic through `bootstrap`, and `disturb` (a store going away and
 * coming back) run from its 1000th acknowledgement. The producer must succeed
 * and every acknowledged record be in the log at the offset its
 * acknowledgement named; with `exactlyOnce`, the log must hold nothing else.
 * Returns how many records were acknowledged when the disturbance began.
 */
export async function produceAcross(
  bootstrap: string,
  topic: string,
  count: number,
  disturb: () => Promise<void>,
  label: string,
  exactlyOnce: boolean,
): Promise<number> {
  const rdk = DRIVERS.find((d) => d.name === "librdkafka")!;
  await rdk.check();
  const run = runAny(
    rdk,
    [
      ...on("produce", bootstrap, topic),
      ...["--count", String(count), "--create-partitions", "3", "--timeout-ms", "60000"],
    ],
    90_000,
  );
  await untilAcks(run, 1000, 30_000);
  const acksAtStart = run.acks;
  await disturb();
  const o = await run.done;
  assert.equal(o.code, 0, `${label}:\n${o.stderr.slice(-2000)}`);
  assert.ok(acksAtStart < count, `${label}: the disturbance began while librdkafka produced`);
  const acked = parseLines<Produced>(o.stdout).records;
  assert.equal(acked.length, count);
  // Read the whole log, not just `count` records: without idempotence a retry
  // whose first try was committed (its answer lost with the store) adds a
  // duplicate, so the log may hold more than was sent.
  const offsets = await topicOffsets(bootstrap, topic);
  const total = offsets.reduce((n, x) => n + x.latest - x.earliest, 0);
  const consumed = parseLines<Consumed>(
    await runDriver(rdk, [
      ...on("consume", bootstrap, topic),
      ...["--count", String(total), "--timeout-ms", "30000"],
    ], 60_000),
  ).records;
  assert.equal(consumed.length, total, `${label}: the consumer read the whole log`);
  const at = new Map(consumed.map((x) => [`${x.p}/${x.o}`, x]));
  for (const r of acked) {
    const got = at.get(`${r.p}/${r.o}`);
    assert.ok(got, `${label}: record ${r.i} acknowledged at ${r.p}/${r.o} is not in the log`);
    assertRecord(got, r.i, label);
  }
  if (exactlyOnce) {
    assert.equal(total, count, `${label}: the log holds ${total} records for ${count} sent`);
  }
  return acksAtStart;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Records `k<i>`/`v<i>` for i in from..from+n-1. */
export function records(n: number, from = 0): SimpleRecord[] {
  return Array.from({ length: n }, (_, j) => ({
    key: enc.encode(`k${from + j}`),
    value: enc.encode(`v${from + j}`),
    headers: [],
  }));
}

/** records(n, from) in one batch. */
export const batchOf = (from: number, n: number) => buildBatch(records(n, from));

/** Creates a topic (CreateTopics v7 unless `version` says otherwise), which must succeed; its id. */
export async function createTopic(
  c: WireClient,
  name: string,
  partitions: number,
  version = 7,
): Promise<string> {
  const create = defaultCreateTopicsRequest();
  create.timeoutMs = 5000;
  create.topics = [{
    ...defaultCreateTopicsRequestTopic(),
    name,
    numPartitions: partitions,
    replicationFactor: -1,
  }];
  const res = await within(c.call(CREATE_TOPICS_API, version, create), 30_000, "create");
  const created = res.topics[0];
  assert.equal(created.errorCode, 0, `create ${name}`);
  if (version >= 5) assert.equal(created.numPartitions, partitions, `partitions of ${name}`);
  return created.topicId;
}

/** Creates a one-partition topic with configs (CreateTopics v7); its name and id. */
export async function createTopicWithConfigs(
  c: WireClient,
  name: string,
  configs: Record<string, string>,
): Promise<{ name: string; id: string }> {
  const req = defaultCreateTopicsRequest();
  req.timeoutMs = 5000;
  req.topics = [{
    ...defaultCreateTopicsRequestTopic(),
    name,
    numPartitions: 1,
    replicationFactor: -1,
    configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
  }];
  const created = (await within(c.call(CREATE_TOPICS_API, 7, req), 30_000, "create")).topics[0];
  assert.equal(created.errorCode, 0, `create ${name}: ${created.errorMessage}`);
  return { name, id: created.topicId };
}

/** One Produce v12 (acks=all) of batchOf(from, n) to every partition; the per-partition answers. */
export async function produceAll(
  c: WireClient,
  topic: string,
  partitions: number,
  from: number,
  n = 10,
) {
  const req = produceRequest(topic, batchOf(from, n), partitions);
  const res = await within(c.call(PRODUCE_API, 12, req), 30_000, "produce");
  return res.responses[0].partitionResponses;
}

/** One Fetch v17 of one partition from `offset` (up to 1 MiB). */
export async function fetchPartition(
  c: WireClient,
  topic: { name: string; id: string },
  partition: number,
  offset: number,
  maxWaitMs = 0,
): Promise<FetchResponsePartition> {
  const req = fetchRequest(topic, partition, offset, maxWaitMs);
  return (await within(c.call(FETCH_API, 17, req), 30_000, "fetch")).responses[0].partitions[0];
}

/** A fetched partition's records as [offset, key, value]. */
export function fetchedRecords(p: FetchResponsePartition): [number, string, string][] {
  return decodeRecords(flattenRecords(p.records))
    .map((r) => [r.offset, dec.decode(r.key!), dec.decode(r.value!)]);
}

/** ListOffsets v7 latest (-1) of every partition: [errorCode, offset] each. */
export async function listLatest(c: WireClient, topic: string, partitions: number) {
  const req = defaultListOffsetsRequest();
  req.replicaId = -1;
  req.topics = [{
    name: topic,
    partitions: Array.from(
      { length: partitions },
      (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1 }),
    ),
  }];
  const res = await within(c.call(LIST_OFFSETS_API, 7, req), 30_000, "list offsets");
  return res.topics[0].partitions
    .sort((a, b) => a.partitionIndex - b.partitionIndex)
    .map((p) => [p.errorCode, Number(p.offset)]);
}

/** A meta store for one test and what it runs on (temp files, servers), removed on dispose. */
export interface MetaFixture extends AsyncDisposable {
  meta: MetaStore;
}

/** A fixture closing `meta` (again: a broker closes it too), then running `cleanup`. */
function fixture(meta: MetaStore, cleanup: () => PromiseLike<unknown> = () => Promise.resolve()) {
  return {
    meta,
    async [Symbol.asyncDispose]() {
      await meta.close().catch(() => {});
      await cleanup();
    },
  };
}

async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, remove: () => Deno.remove(path, { recursive: true }).catch(() => {}) };
}

/**
 * Every meta store backend, each opened fresh for one test: memory, SQLite on
 * a temp file, file in a temp dir, Redis on its own redis-server, and Upstash
 * (the REST proxy in front of its own redis-server). Without redis-server the
 * last two fail, saying to run scripts/install_test_deps.sh.
 */
export const META_STORES: Record<string, () => Promise<MetaFixture>> = {
  memory: () => Promise.resolve(fixture(new MemoryMetaStore())),
  sqlite: async () => {
    const dir = await tempDir("skb-wire-sqlite-");
    return fixture(new SqliteMetaStore(`${dir.path}/meta.db`), dir.remove);
  },
  file: async () => {
    const dir = await tempDir("skb-wire-file-");
    return fixture(new FileMetaStore(`${dir.path}/meta`), dir.remove);
  },
  redis: async () => {
    const server = await startRedisServer();
    return fixture(new RedisMetaStore(server.url(0, "wire:")), () => server[Symbol.asyncDispose]());
  },
  upstash: async () => {
    const server = await startRedisServer();
    const proxy = await startUpstashRestProxy(server.port).catch(async (e) => {
      await server[Symbol.asyncDispose]();
      throw e;
    });
    const meta = new UpstashMetaStore(`${proxy.url}?prefix=wire:`, { token: proxy.token });
    return fixture(meta, async () => {
      await proxy[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
    });
  },
};

/** The meta store backends by name. */
export const META_STORE_NAMES = Object.keys(META_STORES);

/**
 * `SKB_TEST_META_STORES=memory,sqlite,file` (what `deno task test:unit` sets):
 * the variants on other stores are registered as ignored, so the summary
 * counts them; unset, every store runs and a missing server fails its tests.
 */
const onlyStores = (() => {
  const v = Deno.env.get("SKB_TEST_META_STORES");
  if (!v) return null;
  const names = v.split(",").map((x) => x.trim()).filter((x) => x);
  for (const n of names) {
    if (!(n in META_STORES)) {
      throw new Error(`SKB_TEST_META_STORES: unknown store ${n} (${META_STORE_NAMES.join(", ")})`);
    }
  }
  return new Set(names);
})();

/**
 * Registers one test per meta store backend, named `<name> [<store>]`: `fn`
 * gets a fresh store of that kind (a broker given it closes it; its files and
 * servers go when the test ends).
 */
export function metaStoreTest(
  name: string,
  fn: (meta: MetaStore, t: Deno.TestContext) => Promise<void>,
  stores: string[] = META_STORE_NAMES,
): void {
  for (const store of stores) {
    Deno.test({
      name: `${name} [${store}]`,
      ignore: onlyStores !== null && !onlyStores.has(store),
      async fn(t) {
        await using f = await META_STORES[store]();
        await fn(f.meta, t);
      },
    });
  }
}
