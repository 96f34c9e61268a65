/**
 * Compacted topics on brokers that share their stores: two and three broker
 * processes on one SQLite file + log directory, and on one redis-server + S3
 * (moto), every broker cleaning every 300 ms (whoever holds a partition's
 * lease cleans it). Producers write keyed records (a few tombstones, some
 * batches compressed) through every broker and a consumer follows the log
 * through a survivor while broker 0 is SIGKILLed at a random moment of the
 * cleaning. Then:
 *
 * - the consumer saw no error, offsets only ascending, only records sent;
 * - for every key, the latest acknowledged value is where its acknowledgement
 *   said (or a later write of the key is, which only a produce in flight at
 *   the kill may have made without an acknowledgement);
 * - the killed broker's leases (--cleaner-lease-ms 1500) run out and the
 *   survivors clean: every partition's checkpoint passes the high watermark
 *   it had at the kill, the survivors' skb_cleaner_removed_records_total
 *   grows after it, and in the end (max.compaction.lag.ms 1000 cleans the
 *   last dirty batches even under min.cleanable.dirty.ratio) each key is once
 *   below the checkpoint.
 *
 * Broker 0 runs as node 7, so its leases are the ones whose owner starts
 * "7-" (the other brokers are node 0). It is restarted and killed again (up to
 * 5 times) until a kill leaves a lease behind (on SQLite the passes are short and rarely are; on S3 usually
 * the first kill does); the test on every meta store at the end checks the
 * same rule in-process, with a claim made for a broker that died.
 *
 * SKB_TEST_SEED=<n> replays the random choices (not the timing); the seed is printed.
 */

import assert from "node:assert/strict";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  FETCH_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { decodeBatch, decodeBatches, encodeBatch } from "../protocol/batch_codec.ts";
import { Compression } from "../protocol/compression.ts";
import { buildBatch, type SimpleRecord } from "../protocol/record_batch.ts";
import type { MetaStore } from "../stores/types.ts";
import { SqliteMetaStore } from "../stores/meta/sqlite.ts";
import { RedisMetaStore } from "../stores/meta/redis.ts";
import { type BrokerProcess, DENO, spawnBrokerCommand } from "./broker_util.ts";
import { startRedisServer } from "./servers/redis_server.ts";
import { startS3Server } from "./servers/s3_server.ts";
import { brokerArgs, metaStoreTest, sleep, within } from "./helpers.ts";
import { testBroker } from "./broker_util.ts";
import { parsePrometheus } from "./prometheus.ts";
import { WireClient } from "./wire_client.ts";
import { fetchRequest, flattenRecords, produceRequest } from "./wire_requests.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const PARTITIONS = 4;
const KEYS = 40;
const LEASE_MS = 1500;
const MAX_KILLS = 5;
/** The killed broker's node id: its cleaning leases' owners start `${KILLED_NODE}-`. */
const KILLED_NODE = 7;
const CODECS = [Compression.NONE, Compression.GZIP, Compression.LZ4, Compression.ZSTD];

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** A value sent: acknowledged at an offset, or not (its produce failed or was in flight). */
interface Sent {
  p: number;
  key: string;
  value: string | null;
  offset: number | null;
}

async function removedTotal(b: BrokerProcess): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${b.httpPort}/metrics`);
  return parsePrometheus(await res.text()).sum("skb_cleaner_removed_records_total");
}

async function until(what: string, ms: number, ok: () => Promise<boolean>) {
  const deadline = Date.now() + ms;
  while (!await ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

async function scenario(
  label: string,
  count: number,
  meta: string,
  log: string,
  openMeta: () => MetaStore,
  env?: Record<string, string>,
) {
  const seed = Number(Deno.env.get("SKB_TEST_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const rnd = prng(seed);
  const t0 = Date.now();
  const at = () => `${Date.now() - t0} ms`;
  const extra = [
    "--cleaner-interval-ms",
    "300",
    "--cleaner-lease-ms",
    String(LEASE_MS),
    "--http-port",
    "0",
    "--log-level",
    "info",
  ];
  const killedArgs = [...extra, "--node-id", String(KILLED_NODE)];
  const brokers: BrokerProcess[] = await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        spawnBrokerCommand(DENO, brokerArgs(0, meta, log, i === 0 ? killedArgs : extra), {
          env,
          timeoutMs: 60_000,
        }),
    ),
  );
  const store = openMeta();
  const clients: WireClient[] = [];
  let topicId = "";
  try {
    const admin = await WireClient.connect(brokers[count - 1].port);
    clients.push(admin);
    const req = defaultCreateTopicsRequest();
    req.timeoutMs = 5000;
    req.topics = [{
      ...defaultCreateTopicsRequestTopic(),
      name: "shared-table",
      numPartitions: PARTITIONS,
      replicationFactor: -1,
      configs: Object.entries({
        "cleanup.policy": "compact",
        "segment.ms": "100",
        "min.cleanable.dirty.ratio": "0.01",
        // A quiet partition's last dirty batches can be under the ratio (a few
        // compressed bytes against the whole cleaned log): KIP-354's lag cleans them.
        "max.compaction.lag.ms": "1000",
        "delete.retention.ms": "0",
      }).map(([name, value]) => ({ name, value })),
    }];
    const created = (await admin.call(CREATE_TOPICS_API, 7, req)).topics[0];
    assert.equal(created.errorCode, 0, `${label}: create: ${created.errorMessage}`);
    const topic = { name: "shared-table", id: created.topicId };
    topicId = topic.id;

    // Producers, one per broker, until `stop`; a failed produce ends that producer.
    const sent: Sent[] = [];
    const byValue = new Map<string, Sent>();
    let stop = false;
    let seq = 0;
    const produceVia = async (i: number) => {
      const c = await WireClient.connect(brokers[i].port);
      clients.push(c);
      while (!stop) {
        const p = rnd.int(0, PARTITIONS - 1);
        const recs: SimpleRecord[] = [];
        const mine: Sent[] = [];
        for (let j = rnd.int(1, 6); j > 0; j--) {
          const key = `key-${rnd.int(0, KEYS - 1)}`;
          const value = rnd.next() < 0.08
            ? null
            : `${key}@${i}/${seq++}:${"x".repeat(rnd.int(200, 1500))}`;
          const s: Sent = { p, key, value, offset: null };
          mine.push(s);
          if (value !== null) byValue.set(value, s);
          recs.push({
            key: enc.encode(key),
            value: value === null ? null : enc.encode(value),
            headers: [],
          });
        }
        let batch = buildBatch(recs);
        const codec = CODECS[rnd.int(0, CODECS.length - 1)];
        if (codec !== Compression.NONE) {
          const plain = decodeBatch(batch);
          batch = encodeBatch(plain.header, plain.records, codec);
        }
        const r = produceRequest(topic.name, batch);
        r.topicData[0].partitionData[0].index = p;
        sent.push(...mine);
        let res;
        try {
          res = (await within(c.call(PRODUCE_API, 12, r), 20_000, "produce")).responses[0]
            .partitionResponses[0];
        } catch {
          return; // this broker was killed
        }
        assert.equal(res.errorCode, 0, `${label}: produce via broker ${i}: ${res.errorMessage}`);
        mine.forEach((s, j) => (s.offset = Number(res.baseOffset) + j));
        await sleep(rnd.int(0, 8));
      }
    };
    // Failures are kept for the end (a rejection left unawaited would end the whole file).
    const failures: string[] = [];
    const producers = brokers.map((_, i) =>
      produceVia(i).catch((e) => failures.push(`producer ${i}: ${e}`))
    );

    // A consumer following every partition through the last broker (a survivor).
    const consumed: { p: number; offset: number; key: string; value: string | null }[] = [];
    let consuming = true;
    const consumer = (async () => {
      const c = await WireClient.connect(brokers[count - 1].port);
      clients.push(c);
      const next = new Array(PARTITIONS).fill(0);
      while (consuming) {
        for (let p = 0; p < PARTITIONS; p++) {
          const f = await within(
            c.call(FETCH_API, 17, fetchRequest(topic, p, next[p], 50)),
            20_000,
            "fetch",
          );
          const part = f.responses[0].partitions[0];
          assert.equal(part.errorCode, 0, `${label}: the consumer got error ${part.errorCode}`);
          for (const b of decodeBatches(flattenRecords(part.records))) {
            for (const r of b.records) {
              const offset = b.header.baseOffset + r.offsetDelta;
              if (offset < next[p]) continue;
              consumed.push({
                p,
                offset,
                key: dec.decode(r.key!),
                value: r.value === null ? null : dec.decode(r.value),
              });
              next[p] = offset + 1;
            }
            next[p] = Math.max(next[p], b.header.baseOffset + b.header.lastOffsetDelta + 1);
          }
        }
      }
    })().catch((e) => failures.push(`consumer: ${e}`));

    const removedAll = async () => {
      let n = 0;
      for (const b of brokers) n += await removedTotal(b).catch(() => 0);
      return n;
    };
    const states = () =>
      Promise.all(
        Array.from({ length: PARTITIONS }, async (_, p) => ({
          st: (await store.partitionState(topic.id, p))!,
          cs: (await store.cleanerState(topic.id, p))!,
        })),
      );

    // The cleaning-heavy phase: once the cleaners have removed records, broker 0 dies
    // at a random moment of the next 0.3-2.5 s.
    await until(`${label}: cleaning begins`, 30_000, async () => (await removedAll()) > 0);
    const tCleaning = at();
    await sleep(rnd.int(300, 2500));
    // Broker 0 is killed, and restarted for another kill, until a kill leaves a lease
    // behind: a partition whose unexpired cleaning claim is the killed broker's.
    const leftBehind = async () => {
      const held: { p: number; untilMs: number }[] = [];
      for (let p = 0; p < PARTITIONS; p++) {
        const lease = await store.cleaningLease(topic.id, p);
        if (lease?.owner.startsWith(`${KILLED_NODE}-`) && lease.untilMs > Date.now()) {
          held.push({ p, untilMs: lease.untilMs });
        }
      }
      return held;
    };
    const kills: string[] = [];
    let killedLines = 0;
    let dead: { p: number; untilMs: number }[] = [];
    let killedAt = 0;
    let atKill!: Awaited<ReturnType<typeof states>>;
    let survivorRemovedAtKill: number[] = [];
    const survivors = brokers.slice(1);
    for (let k = 0; k < MAX_KILLS; k++) {
      if (k > 0) await sleep(rnd.int(300, 1500));
      killedLines += brokers[0].output().split("\n").filter((l) => /Cleaned /.test(l)).length;
      await brokers[0].stop("SIGKILL");
      killedAt = Date.now();
      kills.push(at());
      survivorRemovedAtKill = await Promise.all(survivors.map(removedTotal));
      atKill = await states();
      dead = await leftBehind();
      if (dead.length > 0 || k === MAX_KILLS - 1) break;
      brokers[0] = await spawnBrokerCommand(DENO, brokerArgs(0, meta, log, killedArgs), {
        env,
        timeoutMs: 60_000,
      });
    }
    // A lease left behind was claimed or renewed before the kill, so it runs out
    // within LEASE_MS of it; until then no survivor can take the partition (the
    // owner stays the killed broker's), and after it a survivor may.
    let leaseFreeMs = -1;
    const deadParts = dead.map((d) => d.p);
    if (dead.length > 0) {
      for (const d of dead) {
        assert.ok(
          d.untilMs <= killedAt + LEASE_MS,
          `${label}: the killed broker's lease on ${d.p} runs to ${
            d.untilMs - killedAt
          } ms after the kill`,
        );
      }
      await until(
        `${label}: the killed broker's leases on ${deadParts} run out`,
        LEASE_MS + 3000,
        async () => (await leftBehind()).length === 0,
      );
      leaseFreeMs = Date.now() - killedAt;
      const lastUntil = Math.max(...dead.map((d) => d.untilMs));
      assert.ok(
        Date.now() >= lastUntil,
        `${label}: a lease of the killed broker was taken ${lastUntil - Date.now()} ms early`,
      );
    }

    // More writes through the survivors, then quiet.
    await sleep(1500);
    stop = true;
    await Promise.all(producers);
    assert.deepEqual(failures, [], `${label}: producers and consumer`);
    const tStopped = at();

    // The dead broker's leases run out: every partition is cleaned past where it was.
    await until(
      `${label}: every partition cleaned past its kill-time high watermark`,
      30_000,
      async () =>
        (await states()).every((x, p) => x.cs.cleanedThrough >= atKill[p].st.highWatermark),
    );
    const tPast = at();
    await until(`${label}: the survivors remove records after the kill`, 30_000, async () => {
      const now = await Promise.all(survivors.map(removedTotal));
      return now.some((n, i) => n > survivorRemovedAtKill[i]);
    });
    // And cleaned to the end once quiet (segment.ms=100).
    await until(
      `${label}: every partition cleaned to its end`,
      30_000,
      async () => (await states()).every((x) => x.cs.cleanedThrough >= x.st.highWatermark),
    );
    const tClean = at();
    consuming = false;
    await consumer;
    assert.deepEqual(failures, [], `${label}: producers and consumer`);
    const final = await states();

    // The whole log, read through a survivor.
    const reader = await WireClient.connect(survivors[0].port);
    clients.push(reader);
    let kept = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const log: { offset: number; key: string; value: string | null }[] = [];
      let from = 0;
      while (from < final[p].st.highWatermark) {
        const f = await c0(reader, topic, p, from);
        const batches = decodeBatches(flattenRecords(f.records));
        if (batches.length === 0) break;
        for (const b of batches) {
          for (const r of b.records) {
            const offset = b.header.baseOffset + r.offsetDelta;
            if (offset < from) continue;
            log.push({
              offset,
              key: dec.decode(r.key!),
              value: r.value === null ? null : dec.decode(r.value),
            });
          }
          from = b.header.baseOffset + b.header.lastOffsetDelta + 1;
        }
      }
      kept += log.length;
      const where = new Map(log.map((r) => [r.offset, r]));
      const latestOffsetOf = new Map<string, number>();
      for (let j = 1; j < log.length; j++) {
        assert.ok(log[j].offset > log[j - 1].offset, `${label}: offsets ascend in ${p}`);
      }
      const seen = new Set<string>();
      for (const r of log) {
        // Only records that were sent, to this partition, with this key.
        if (r.value !== null) {
          const s = byValue.get(r.value);
          assert.ok(s && s.p === p && s.key === r.key, `${label}: ${p}/${r.offset} never sent`);
          if (s.offset !== null) assert.equal(s.offset, r.offset, `${label}: ${r.value} moved`);
        }
        // Cleaned to the end: each key once.
        assert.ok(!seen.has(r.key), `${label}: ${r.key} twice in cleaned partition ${p}`);
        seen.add(r.key);
        latestOffsetOf.set(r.key, r.offset);
      }
      // Every key's latest acknowledged write is there, or a later write of the key.
      const latestAcked = new Map<string, Sent>();
      for (const s of sent) {
        if (s.p !== p || s.offset === null) continue;
        if ((latestAcked.get(s.key)?.offset ?? -1) < s.offset) latestAcked.set(s.key, s);
      }
      for (const [key, s] of latestAcked) {
        const got = where.get(s.offset!);
        if (got && got.key === key) {
          assert.equal(got.value, s.value, `${label}: ${p}/${s.offset} holds another value`);
          continue;
        }
        const later = latestOffsetOf.get(key);
        if (later !== undefined) {
          assert.ok(later > s.offset!, `${label}: ${key} in ${p} older than its last ack`);
          const laterValue = where.get(later)!.value;
          const w = laterValue === null ? undefined : byValue.get(laterValue);
          assert.ok(
            laterValue === null || (w && w.offset === null),
            `${label}: ${key} in ${p}: acked ${s.offset} gone, ${later} kept`,
          );
        } else {
          // Gone altogether: only a tombstone (its own, or an unacknowledged later one).
          assert.ok(
            s.value === null || sent.some((x) => x.p === p && x.key === key && x.offset === null),
            `${label}: ${key}'s latest acknowledged value (${p}/${s.offset}) was lost`,
          );
        }
      }
    }
    // Everything the consumer read was sent there, in ascending offsets.
    const lastOf = new Array(PARTITIONS).fill(-1);
    for (const r of consumed) {
      assert.ok(r.offset > lastOf[r.p], `${label}: consumer offsets ascend`);
      lastOf[r.p] = r.offset;
      if (r.value !== null) assert.equal(byValue.get(r.value)?.p, r.p, `${label}: consumed`);
    }
    const removedAfter = await Promise.all(survivors.map(removedTotal));
    const acked = sent.filter((s) => s.offset !== null).length;
    console.log(
      `${label}: seed ${seed}; cleaning from ${tCleaning}, broker 0 killed at ${
        kills.join(", ")
      } ` +
        `(${killedLines} "Cleaned" lines of its own before); ` +
        (dead.length > 0
          ? `partitions ${deadParts} held by its leases at the kill, ` +
            `free ${leaseFreeMs} ms after it; `
          : `no kill caught it holding a lease; `) +
        `producers stopped ${tStopped}; ` +
        `every partition cleaned past its kill-time end by ${tPast}, to its end by ${tClean}; ` +
        `${sent.length} sent, ${acked} acknowledged, ${consumed.length} consumed, ${kept} kept; ` +
        `survivors removed ${survivorRemovedAtKill.join("+")} before the kill, ` +
        `${removedAfter.join("+")} in all`,
    );
  } catch (e) {
    console.error(`${label}: failed with seed ${seed} at ${at()}`);
    for (let p = 0; p < PARTITIONS; p++) {
      const st = await store.partitionState(topicId, p).catch(() => null);
      const cs = await store.cleanerState(topicId, p).catch(() => null);
      const lease = await store.cleaningLease(topicId, p).catch(() => null);
      console.error(
        `partition ${p}: high watermark ${st?.highWatermark}, cleaned through ${cs?.cleanedThrough}, ` +
          `lease ${lease ? `${lease.owner} until ${lease.untilMs - t0} ms` : "none"}`,
      );
    }
    for (const [i, x] of brokers.entries()) {
      console.error(`--- broker ${i} output ---\n${x.output().slice(-3000)}`);
    }
    throw e;
  } finally {
    for (const c of clients) await c[Symbol.asyncDispose]();
    await store.close().catch(() => {});
    for (const x of brokers) await x.stop("SIGKILL");
  }
}

function c0(c: WireClient, topic: { name: string; id: string }, p: number, from: number) {
  return within(c.call(FETCH_API, 17, fetchRequest(topic, p, from)), 20_000, "fetch")
    .then((f) => {
      const part = f.responses[0].partitions[0];
      assert.equal(part.errorCode, 0);
      return part;
    });
}

for (const count of [2, 3]) {
  Deno.test(`${count} brokers cleaning one compacted topic on SQLite + files survive a SIGKILL`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "skb-compact-shared-" });
    try {
      await scenario(
        `sqlite+files x${count}`,
        count,
        `sqlite:${dir}/meta.db`,
        `file:${dir}/log`,
        () => new SqliteMetaStore(`${dir}/meta.db`),
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });

  Deno.test(`${count} brokers cleaning one compacted topic on Redis + S3 survive a SIGKILL`, async () => {
    await using redis = await startRedisServer();
    await using s3 = await startS3Server();
    await s3.createBucket("skb-compact");
    await scenario(
      `redis+s3 x${count}`,
      count,
      redis.url(0, "compact:"),
      s3.url("skb-compact", "c"),
      () => new RedisMetaStore(redis.url(0, "compact:")),
      s3.env,
    );
  });
}

// The same rule without processes or timing luck: a claim whose holder died
// keeps every other broker off the partition until it runs out, then one cleans.
metaStoreTest("a dead cleaner's lease holds its partition until it runs out", async (meta) => {
  await using broker = await testBroker({ meta, cleanerIntervalMs: 0 });
  await using c = await WireClient.connect(broker.port);
  const req = defaultCreateTopicsRequest();
  req.topics = [{
    ...defaultCreateTopicsRequestTopic(),
    name: "leased",
    numPartitions: 1,
    replicationFactor: -1,
    configs: [
      { name: "cleanup.policy", value: "compact" },
      { name: "segment.ms", value: "1" },
      { name: "min.cleanable.dirty.ratio", value: "0.01" },
    ],
  }];
  const id = (await c.call(CREATE_TOPICS_API, 7, req)).topics[0].topicId;
  for (let i = 0; i < 4; i++) {
    const batch = buildBatch([{ key: enc.encode("k"), value: enc.encode(`v${i}`), headers: [] }]);
    const res = await c.call(PRODUCE_API, 12, produceRequest("leased", batch));
    assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
  }
  await sleep(5);
  const m = broker.context.meta;
  assert.ok(await m.claimCleaning(id, 0, "a-broker-that-died", Date.now(), 400));
  assert.deepEqual(
    await broker.clean(),
    [],
    "the partition is another broker's while its lease runs",
  );
  await sleep(450);
  const done = await broker.clean();
  assert.equal(done.length, 1, "cleaned once the lease ran out");
  assert.ok(done[0].completed);
  assert.equal(done[0].recordsRemoved, 3, "v0, v1 and v2: v3 is the latest");
});
