/**
 * The log cleaner against a model, on every meta store and on the memory,
 * file and S3 (moto) log stores: random keys, values and tombstones across
 * many produce requests (some batches compressed, in every codec), cleaner
 * passes interleaved with more produces (the broker's own pass, and cleaners
 * with small windows so a pass swaps many windows), and after each pass the
 * whole log compared with what the model says must be left:
 *
 * - below the cleaner's checkpoint, exactly the latest record of each key
 *   there, at its original offset, less the tombstones a pass found already
 *   cleaned and past delete.retention.ms (0 on one topic, an hour on another);
 * - from the checkpoint on (the uncleaned head), every record as produced;
 * - offsets strictly increasing, a fetch from inside a gap starting at the
 *   next record kept, the high watermark and ListOffsets earliest/latest
 *   unchanged by cleaning.
 *
 * SKB_TEST_SEED=<n> replays a run; each test prints the seed it used.
 */

import assert from "node:assert/strict";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  defaultListOffsetsRequest,
  FETCH_API,
  LIST_OFFSETS_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { decodeBatch, decodeBatches, encodeBatch } from "../protocol/batch_codec.ts";
import { Compression } from "../protocol/compression.ts";
import { buildBatch, type SimpleRecord } from "../protocol/record_batch.ts";
import { LogCleaner } from "../broker/cleaner.ts";
import { Metrics } from "../broker/metrics.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { FileLogStore } from "../stores/log/file.ts";
import { S3LogStore } from "../stores/log/s3.ts";
import type { LogStore, MetaStore } from "../stores/types.ts";
import { startS3Server } from "./servers/s3_server.ts";
import { testBroker } from "./broker_util.ts";
import { metaStoreTest, sleep, within } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";
import { fetchRequest, flattenRecords, produceRequest } from "./wire_requests.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** mulberry32: a small seeded PRNG, so a failing run replays from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}

/** One record the model knows: where it was written and what it holds. */
interface ModelRecord {
  offset: number;
  key: string;
  value: string | null;
  ts: number;
}

/** One partition of one topic, its records as produced and what cleaning must have left. */
interface ModelLog {
  topic: string;
  id: string;
  partition: number;
  deleteRetentionMs: number;
  produced: ModelRecord[];
  /** The records the log must hold, by offset. */
  alive: Map<number, ModelRecord>;
  /** The cleaner's checkpoint as last read. */
  cleanedThrough: number;
  /** The checkpoint the last pass that cleaned this log began from. */
  lastFrom: number;
}

/** Applies one cleaning from checkpoint `from` to `to` at about `now` (the cleaner's rules). */
function applyCleaning(m: ModelLog, from: number, to: number, passStart: number) {
  if (to <= from) return;
  const latest = new Map<string, number>();
  for (const r of m.alive.values()) {
    if (r.offset >= from && r.offset < to) {
      latest.set(r.key, Math.max(latest.get(r.key) ?? -1, r.offset));
    }
  }
  const horizon = passStart - m.deleteRetentionMs;
  for (const r of [...m.alive.values()]) {
    if (r.offset >= to) continue;
    const newest = latest.get(r.key);
    if (newest !== undefined && r.offset < newest) m.alive.delete(r.offset);
    else if (r.value === null && r.offset < from && r.ts < horizon) m.alive.delete(r.offset);
  }
}

async function createCompacted(
  c: WireClient,
  name: string,
  partitions: number,
  configs: Record<string, string>,
) {
  const req = defaultCreateTopicsRequest();
  req.timeoutMs = 5000;
  req.topics = [{
    ...defaultCreateTopicsRequestTopic(),
    name,
    numPartitions: partitions,
    replicationFactor: -1,
    configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
  }];
  const created = (await c.call(CREATE_TOPICS_API, 7, req)).topics[0];
  assert.equal(created.errorCode, 0, `create ${name}: ${created.errorMessage}`);
  return created.topicId;
}

/** Every record of a partition from `from`, as [offset, key, value], checking offsets ascend. */
async function readFrom(c: WireClient, m: ModelLog, from: number, label: string) {
  const out: [number, string, string | null][] = [];
  for (let round = 0; round < 1000; round++) {
    const req = fetchRequest({ name: m.topic, id: m.id }, m.partition, from);
    const p = (await within(c.call(FETCH_API, 17, req), 30_000, "fetch")).responses[0]
      .partitions[0];
    assert.equal(p.errorCode, 0, `${label}: fetch from ${from}`);
    const batches = decodeBatches(flattenRecords(p.records));
    if (batches.length === 0) break;
    for (const b of batches) {
      for (const r of b.records) {
        const offset = b.header.baseOffset + r.offsetDelta;
        if (offset < from && out.length === 0) continue; // before the fetch offset, in its batch
        const prev = out.length > 0 ? out[out.length - 1][0] : -1;
        assert.ok(offset > prev, `${label}: offset ${offset} after ${prev}`);
        out.push([offset, dec.decode(r.key!), r.value === null ? null : dec.decode(r.value)]);
      }
      from = b.header.baseOffset + b.header.lastOffsetDelta + 1;
    }
    if (from >= Number(p.highWatermark)) break;
  }
  return out;
}

/** ListOffsets v7 earliest and latest of a partition. */
async function earliestLatest(c: WireClient, m: ModelLog): Promise<[number, number]> {
  const at = async (timestamp: number) => {
    const req = defaultListOffsetsRequest();
    req.replicaId = -1;
    req.topics = [{
      name: m.topic,
      partitions: [{ partitionIndex: m.partition, currentLeaderEpoch: -1, timestamp }],
    }];
    const p = (await c.call(LIST_OFFSETS_API, 7, req)).topics[0].partitions[0];
    assert.equal(p.errorCode, 0);
    return Number(p.offset);
  };
  return [await at(-2), await at(-1)];
}

const CODECS = [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD];
const ROUNDS = 8;
const PRODUCES_PER_ROUND = 16;
const KEYS = 36;

async function modelRun(meta: MetaStore, log: LogStore, label: string) {
  const seed = Number(Deno.env.get("SKB_TEST_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const rnd = prng(seed);
  const t0 = Date.now();
  await using broker = await testBroker({ meta, log, cleanerIntervalMs: 0 });
  await using c = await WireClient.connect(broker.port);
  const base = {
    "cleanup.policy": "compact",
    "min.cleanable.dirty.ratio": "0.01",
  };
  // "segments": the active segment closes by size only (a head always stays
  // uncleaned); tombstones go at the first pass after their first cleaning.
  const segId = await createCompacted(c, "segments", 2, {
    ...base,
    "segment.bytes": "1500",
    "delete.retention.ms": "0",
  });
  // "aged": every batch older than 1 ms is cleanable; tombstones stay an hour.
  const agedId = await createCompacted(c, "aged", 1, {
    ...base,
    "segment.ms": "1",
    "delete.retention.ms": "3600000",
    "compression.type": "lz4",
  });
  const logs: ModelLog[] = [
    ...[0, 1].map((partition) => ({ topic: "segments", id: segId, partition, ms: 0 })),
    { topic: "aged", id: agedId, partition: 0, ms: 3600000 },
  ].map((x) => ({
    topic: x.topic,
    id: x.id,
    partition: x.partition,
    deleteRetentionMs: x.ms,
    produced: [],
    alive: new Map(),
    cleanedThrough: 0,
    lastFrom: 0,
  }));
  const cleanerMeta = broker.context.meta;
  const stats = { produces: 0, records: 0, tombstones: 0, compressed: 0, passes: 0, removed: 0 };

  const produce = async (m: ModelLog) => {
    const n = rnd.int(1, 8);
    const recs: SimpleRecord[] = [];
    const values: [string, string | null][] = [];
    for (let i = 0; i < n; i++) {
      const key = `key-${rnd.int(0, KEYS - 1)}`;
      const value = rnd.next() < 0.15
        ? null
        : `${key}=${stats.records + i}:${"x".repeat(rnd.int(0, 40))}`;
      values.push([key, value]);
      recs.push({
        key: enc.encode(key),
        value: value === null ? null : enc.encode(value),
        headers: [],
      });
    }
    let batch = buildBatch(recs);
    if (rnd.next() < 0.5) {
      const plain = decodeBatch(batch);
      batch = encodeBatch(plain.header, plain.records, rnd.pick(CODECS));
      stats.compressed++;
    }
    const ts = decodeBatch(batch).header.maxTimestamp;
    const req = produceRequest(m.topic, batch);
    req.topicData[0].partitionData[0].index = m.partition;
    const res = (await within(c.call(PRODUCE_API, 12, req), 30_000, "produce")).responses[0]
      .partitionResponses[0];
    assert.equal(res.errorCode, 0, `${label}: produce`);
    const baseOffset = Number(res.baseOffset);
    assert.equal(baseOffset, m.produced.length, `${label}: offsets are contiguous`);
    for (const [i, [key, value]] of values.entries()) {
      const r = { offset: baseOffset + i, key, value, ts };
      m.produced.push(r);
      m.alive.set(r.offset, r);
      if (value === null) stats.tombstones++;
    }
    stats.produces++;
    stats.records += n;
  };

  // One pass: the broker's own (16 MiB windows), or a cleaner with windows of a
  // few batches, so that a pass swaps many windows.
  const pass = async () => {
    await sleep(3); // past delete.retention.ms=0 and segment.ms=1 of what was just produced
    const passStart = Date.now();
    const small = rnd.next() < 0.5;
    const results = small
      ? await new LogCleaner({
        meta: cleanerMeta,
        log: broker.context.log,
        metrics: new Metrics(),
        owner: `model-${stats.passes}`,
      }, { leaseMs: 30_000, windowBytes: rnd.int(150, 1500) }).runOnce()
      : await broker.clean();
    stats.passes++;
    for (const r of results) {
      assert.ok(r.completed, `${label}: the pass over ${r.topic}-${r.partition} completed`);
      stats.removed += r.recordsRemoved;
    }
    for (const m of logs) {
      const cs = await cleanerMeta.cleanerState(m.id, m.partition);
      assert.ok(cs, `${label}: cleaner state of ${m.topic}-${m.partition}`);
      const to = cs.cleanedThrough;
      assert.ok(to >= m.cleanedThrough, `${label}: the checkpoint of ${m.topic} went back`);
      assert.ok(to <= m.produced.length, `${label}: the checkpoint is past the high watermark`);
      const ran = results.some((r) => r.topic === m.topic && r.partition === m.partition);
      if (!ran) assert.equal(to, m.cleanedThrough, `${label}: a checkpoint moved without a pass`);
      applyCleaning(m, m.cleanedThrough, to, passStart);
      if (ran) m.lastFrom = m.cleanedThrough;
      m.cleanedThrough = to;
    }
  };

  const verify = async (when: string) => {
    for (const m of logs) {
      const what = `${label} ${when} ${m.topic}-${m.partition} (seed ${seed})`;
      const want = [...m.alive.values()].sort((a, b) => a.offset - b.offset)
        .map((r) => [r.offset, r.key, r.value]);
      const got = await readFrom(c, m, 0, what);
      assert.deepEqual(got, want, `${what}: the log and the model differ`);
      // Directly: at most one record per key below the checkpoint, the head intact.
      const seen = new Set<string>();
      for (const [offset, key] of got) {
        if (offset >= m.cleanedThrough) break;
        assert.ok(!seen.has(key), `${what}: ${key} twice in the cleaned part`);
        seen.add(key);
      }
      const head = m.produced.filter((r) => r.offset >= m.cleanedThrough)
        .map((r) => [r.offset, r.key, r.value]);
      assert.deepEqual(got.filter(([o]) => o >= m.cleanedThrough), head, `${what}: the head`);
      // The latest value of every key is where it was written.
      const latest = new Map<string, ModelRecord>();
      for (const r of m.produced) latest.set(r.key, r);
      const at = new Map(got.map((x) => [x[0], x]));
      for (const r of latest.values()) {
        if (r.value !== null) {
          assert.deepEqual(at.get(r.offset), [r.offset, r.key, r.value], `${what}: ${r.key}`);
        }
      }
      // A fetch from anywhere, gaps included, starts at the next record kept.
      for (let i = 0; i < 3 && m.produced.length > 0; i++) {
        const from = rnd.int(0, m.produced.length - 1);
        const next = want.find(([o]) => (o as number) >= from);
        const fromThere = await readFrom(c, m, from, `${what} from ${from}`);
        assert.deepEqual(fromThere[0], next, `${what}: fetch from ${from}`);
      }
      assert.deepEqual(
        await earliestLatest(c, m),
        [0, m.produced.length],
        `${what}: ListOffsets earliest/latest`,
      );
      const st = await cleanerMeta.partitionState(m.id, m.partition);
      assert.equal(st!.highWatermark, m.produced.length, `${what}: high watermark`);
      assert.equal(st!.logStartOffset, 0, `${what}: log start`);
    }
  };

  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < PRODUCES_PER_ROUND; i++) await produce(rnd.pick(logs));
      await pass();
      if (rnd.next() < 0.3) await pass();
      await verify(`after round ${round}`);
    }
    // A last round into every log, enough to close a segment of "segments", and
    // a pass: it begins from the previous checkpoint, so every tombstone below
    // that is gone (delete.retention.ms=0), and "aged" is cleaned to its end.
    for (const m of logs) for (let i = 0; i < 12; i++) await produce(m);
    await pass();
    await verify("at the end");
    for (const m of logs) {
      assert.ok(m.lastFrom > 0, `${label}: the last pass cleaned ${m.topic}-${m.partition}`);
      if (m.deleteRetentionMs > 0) continue;
      for (const r of m.alive.values()) {
        assert.ok(
          !(r.value === null && r.offset < m.lastFrom),
          `${label}: tombstone at ${m.topic}-${m.partition}/${r.offset} kept`,
        );
      }
    }
    const aged = logs[2];
    assert.equal(aged.cleanedThrough, aged.produced.length, `${label}: "aged" cleaned to its end`);
  } catch (e) {
    console.error(`${label}: failed with seed ${seed} (SKB_TEST_SEED=${seed} replays it)`);
    throw e;
  }
  const kept = logs.reduce((n, m) => n + m.alive.size, 0);
  console.log(
    `${label}: seed ${seed}; ${stats.produces} produces, ${stats.records} records ` +
      `(${stats.tombstones} tombstones, ${stats.compressed} compressed batches), ` +
      `${stats.passes} passes removed ${stats.removed}, ${kept} kept; ${Date.now() - t0} ms`,
  );
}

metaStoreTest("compaction matches the model [memory log]", async (meta, t) => {
  await modelRun(meta, new MemoryLogStore(), t.name);
});

metaStoreTest("compaction matches the model [file log]", async (meta, t) => {
  const dir = await Deno.makeTempDir({ prefix: "skb-model-" });
  try {
    await modelRun(meta, new FileLogStore(dir), t.name);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

// S3 (moto) takes some 6 s a run: with the meta stores brokers pair it with.
metaStoreTest("compaction matches the model [s3 log]", async (meta, t) => {
  await using s3 = await startS3Server();
  await s3.createBucket("skb-model");
  const log = new S3LogStore(s3.url("skb-model", "m"), { credentials: s3.credentials });
  await modelRun(meta, log, t.name);
}, ["memory", "redis"]);
