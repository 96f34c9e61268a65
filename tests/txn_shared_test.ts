/**
 * Transactions on broker processes that share their stores (SQLite + files,
 * then Redis + S3 on moto), driven over our wire client for exact control:
 *
 * - one transaction whose requests land on different brokers (InitProducerId
 *   on A, AddPartitionsToTxn on B, Produce to C, EndTxn on A) commits, and
 *   the next one (spread the other way round) aborts;
 * - the broker a transaction went through is SIGKILLed between
 *   AddPartitionsToTxn and EndTxn, and EndTxn goes to another broker;
 * - the broker handling EndTxn is SIGKILLed right after its Prepare write and
 *   right after its markers (SKB_TEST_TXN_PAUSE, a test-only hook that stops
 *   the coordinator there and says so on stderr, so the kill lands in that
 *   window without sleeping blindly): until a survivor takes the stale
 *   Prepare over (--txn-takeover-ms 2000) read_committed shows none of the
 *   transaction, and afterwards all of it, or none when it aborted; every
 *   partition holds exactly one marker of the transaction, all of one kind;
 * - the same without the pause: the EndTxn broker is killed a random few
 *   milliseconds after EndTxn is sent, the producer retries on a survivor;
 * - a producer that dies with its transaction open blocks read_committed
 *   readers of its partition (another producer's committed records behind it
 *   too) only until its timeout; then a broker aborts it and the LSO moves on.
 */

import assert from "node:assert/strict";
import {
  ADD_PARTITIONS_TO_TXN_API,
  defaultAddPartitionsToTxnRequest,
  DESCRIBE_TRANSACTIONS_API,
  END_TXN_API,
  FETCH_API,
  INIT_PRODUCER_ID_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { buildBatch } from "../protocol/record_batch.ts";
import { BatchAttributes, decodeBatches } from "../protocol/batch_codec.ts";
import { type BrokerProcess, DENO, spawnBrokerCommand } from "./broker_util.ts";
import { startRedisServer } from "./servers/redis_server.ts";
import { startS3Server } from "./servers/s3_server.ts";
import { WireClient } from "./wire_client.ts";
import { brokerArgs, createTopic, records, sleep, within } from "./helpers.ts";
import { fetchRequest, flattenRecords, produceRequest } from "./wire_requests.ts";

const TAKEOVER_MS = 2000;
const PARTITIONS = 3;
const dec = new TextDecoder();

// ------------------------------------------------------------ wire helpers

async function init(c: WireClient, tid: string, timeoutMs = 60_000) {
  const r = await c.call(INIT_PRODUCER_ID_API, 5, {
    transactionalId: tid,
    transactionTimeoutMs: timeoutMs,
    producerId: -1,
    producerEpoch: -1,
    enable2Pc: false,
    keepPreparedTxn: false,
  });
  assert.equal(r.errorCode, ErrorCode.NONE, `InitProducerId ${tid}`);
  return { pid: Number(r.producerId), epoch: r.producerEpoch };
}

async function addPartitions(c: WireClient, tid: string, p: Producer, topic: string) {
  const res = await c.call(ADD_PARTITIONS_TO_TXN_API, 3, {
    ...defaultAddPartitionsToTxnRequest(),
    v3AndBelowTransactionalId: tid,
    v3AndBelowProducerId: p.pid,
    v3AndBelowProducerEpoch: p.epoch,
    v3AndBelowTopics: [{
      name: topic,
      partitions: Array.from({ length: PARTITIONS }, (_, i) => i),
    }],
  });
  const codes = res.resultsByTopicV3AndBelow.flatMap((t) =>
    t.resultsByPartition.map((x) => x.partitionErrorCode)
  );
  assert.deepEqual(codes, Array(PARTITIONS).fill(0), `AddPartitionsToTxn ${tid}`);
}

interface Producer {
  pid: number;
  epoch: number;
  /** The next sequence number (the same in every partition: each gets every batch). */
  seq: number;
}

/** Records `k<from>`.. (n of them) to every partition in one transactional Produce. */
async function produceTxn(
  c: WireClient,
  tid: string,
  p: Producer,
  topic: string,
  from: number,
  n: number,
) {
  const batch = buildBatch(records(n, from), {
    producerId: p.pid,
    producerEpoch: p.epoch,
    baseSequence: p.seq,
    attributes: BatchAttributes.TRANSACTIONAL,
  });
  const req = produceRequest(topic, batch, PARTITIONS);
  req.transactionalId = tid;
  const res = await within(c.call(PRODUCE_API, 9, req), 30_000, "produce");
  const codes = res.responses[0].partitionResponses.map((x) => x.errorCode);
  assert.deepEqual(codes, Array(PARTITIONS).fill(0), `transactional produce of ${tid}`);
  p.seq += n;
}

function endTxn(c: WireClient, tid: string, p: Producer, committed: boolean) {
  return c.call(END_TXN_API, 4, {
    transactionalId: tid,
    producerId: p.pid,
    producerEpoch: p.epoch,
    committed,
  }).then((r) => r.errorCode);
}

/** EndTxn retried (as clients retry CONCURRENT_TRANSACTIONS) until it is answered otherwise. */
async function endTxnRetrying(c: WireClient, tid: string, p: Producer, committed: boolean) {
  const t = Date.now();
  let tries = 0;
  for (;;) {
    tries++;
    const code = await endTxn(c, tid, p, committed);
    if (code !== ErrorCode.CONCURRENT_TRANSACTIONS || Date.now() - t > 20_000) {
      return { code, tries, ms: Date.now() - t };
    }
    await sleep(100);
  }
}

async function txnState(c: WireClient, tid: string): Promise<string> {
  const d = await c.call(DESCRIBE_TRANSACTIONS_API, 0, { transactionalIds: [tid] });
  return d.transactionStates[0].transactionState;
}

interface PartitionView {
  highWatermark: number;
  lastStableOffset: number;
  /** The record keys a read_committed consumer gets (aborted ranges dropped, as Java does). */
  committed: string[];
  /** Every marker in the log: [producer id, "commit" | "abort"]. */
  markers: [number, string][];
}

/** A read_committed Fetch of a whole partition (Fetch v12, isolation level 1). */
async function readCommitted(
  c: WireClient,
  topic: { name: string; id: string },
  partition: number,
): Promise<PartitionView> {
  const req = fetchRequest(topic, partition, 0);
  req.isolationLevel = 1;
  const res = await within(c.call(FETCH_API, 12, req), 30_000, "fetch");
  const part = res.responses[0].partitions[0];
  assert.equal(part.errorCode, 0, `read_committed fetch of ${topic.name}-${partition}`);
  const aborted = (part.abortedTransactions ?? [])
    .map((a) => ({ pid: Number(a.producerId), first: Number(a.firstOffset) }))
    .sort((a, b) => a.first - b.first);
  const open = new Set<number>();
  const committed: string[] = [];
  const markers: [number, string][] = [];
  for (const b of decodeBatches(flattenRecords(part.records))) {
    const h = b.header;
    while (aborted.length > 0 && aborted[0].first <= h.baseOffset) open.add(aborted.shift()!.pid);
    const pid = Number(h.producerId);
    if (h.isControl) {
      const k = b.records[0].key!;
      const type = new DataView(k.buffer, k.byteOffset).getInt16(2);
      markers.push([pid, type === 1 ? "commit" : "abort"]);
      if (type === 0) open.delete(pid);
      continue;
    }
    if (h.isTransactional && open.has(pid)) continue;
    for (const r of b.records) committed.push(dec.decode(r.key!));
  }
  // The records of the fetch stop at the LSO; markers past it are not served, so read the
  // markers of the whole log through read_uncommitted.
  const all = await within(c.call(FETCH_API, 12, fetchRequest(topic, partition, 0)), 30_000, "f");
  const every: [number, string][] = [];
  for (const b of decodeBatches(flattenRecords(all.responses[0].partitions[0].records))) {
    if (!b.header.isControl) continue;
    const k = b.records[0].key!;
    const type = new DataView(k.buffer, k.byteOffset).getInt16(2);
    every.push([Number(b.header.producerId), type === 1 ? "commit" : "abort"]);
  }
  return {
    highWatermark: Number(part.highWatermark),
    lastStableOffset: Number(part.lastStableOffset),
    committed,
    markers: every,
  };
}

async function readAll(c: WireClient, topic: { name: string; id: string }) {
  const out: PartitionView[] = [];
  for (let p = 0; p < PARTITIONS; p++) out.push(await readCommitted(c, topic, p));
  return out;
}

const keys = (from: number, n: number) => Array.from({ length: n }, (_, j) => `k${from + j}`);

/** Polls `ok` every 100 ms until it holds (at most `ms`); how long that took. */
async function until(what: string, ms: number, ok: () => Promise<boolean>): Promise<number> {
  const t = Date.now();
  while (!await ok()) {
    if (Date.now() - t > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
  return Date.now() - t;
}

// ------------------------------------------------------------ the scenarios

interface Cluster {
  brokers: BrokerProcess[];
  spawn(pause?: "prepared" | "markers"): Promise<BrokerProcess>;
}

async function scenarios(label: string, meta: string, log: string, env: Record<string, string>) {
  const t0 = Date.now();
  const extra = ["--txn-takeover-ms", String(TAKEOVER_MS)];
  const all: BrokerProcess[] = [];
  const clients: WireClient[] = [];
  const cluster: Cluster = {
    brokers: [],
    async spawn(pause) {
      const b = await spawnBrokerCommand(DENO, brokerArgs(0, meta, log, extra), {
        env: pause ? { ...env, SKB_TEST_TXN_PAUSE: pause } : env,
        timeoutMs: 60_000,
      });
      all.push(b);
      return b;
    },
  };
  const connect = async (b: BrokerProcess) => {
    const c = await WireClient.connect(b.port);
    clients.push(c);
    return c;
  };
  const notes: string[] = [];
  try {
    const [a, b, c] = await Promise.all([cluster.spawn(), cluster.spawn(), cluster.spawn()]);
    const [ca, cb, cc] = [await connect(a), await connect(b), await connect(c)];

    // (a) One transaction across three brokers commits; the next aborts.
    {
      const topic = { name: "cross", id: await createTopic(cb, "cross", PARTITIONS) };
      const p = { ...await init(ca, "cross"), seq: 0 };
      await addPartitions(cb, "cross", p, "cross");
      await produceTxn(cc, "cross", p, "cross", 0, 4);
      assert.equal(await endTxn(ca, "cross", p, true), 0, `${label}: commit across brokers`);
      await addPartitions(cc, "cross", p, "cross");
      await produceTxn(ca, "cross", p, "cross", 100, 3);
      await produceTxn(cb, "cross", p, "cross", 200, 2);
      assert.equal(await endTxn(cb, "cross", p, false), 0, `${label}: abort across brokers`);
      for (const via of [ca, cb, cc]) {
        for (const [i, v] of (await readAll(via, topic)).entries()) {
          assert.deepEqual(v.committed, keys(0, 4), `${label}: cross-${i} read_committed`);
          assert.deepEqual(v.markers, [[p.pid, "commit"], [p.pid, "abort"]], `cross-${i}`);
          assert.deepEqual([v.highWatermark, v.lastStableOffset], [11, 11], `cross-${i} LSO`);
        }
      }
      assert.equal(await txnState(cc, "cross"), "CompleteAbort");
    }

    // (b0) The broker of AddPartitionsToTxn and Produce is killed; EndTxn goes elsewhere.
    {
      const d = await cluster.spawn();
      const cd = await WireClient.connect(d.port);
      const topic = { name: "lost", id: await createTopic(ca, "lost", PARTITIONS) };
      const p = { ...await init(cb, "lost"), seq: 0 };
      await addPartitions(cd, "lost", p, "lost");
      await produceTxn(cd, "lost", p, "lost", 0, 5);
      assert.equal((await d.stop("SIGKILL")).signal, "SIGKILL");
      await cd[Symbol.asyncDispose]();
      assert.equal(await endTxn(ca, "lost", p, true), 0, `${label}: commit after the kill`);
      for (const [i, v] of (await readAll(cc, topic)).entries()) {
        assert.deepEqual(v.committed, keys(0, 5), `${label}: lost-${i}`);
        assert.deepEqual(v.markers, [[p.pid, "commit"]], `${label}: lost-${i} markers`);
      }
    }

    // (b) The broker handling EndTxn dies after its Prepare write or after its markers.
    const cases: { pause: "prepared" | "markers"; commit: boolean }[] = [
      { pause: "prepared", commit: true },
      { pause: "markers", commit: true },
      { pause: "prepared", commit: false },
      { pause: "markers", commit: false },
    ];
    for (const { pause, commit } of cases) {
      const name = `kill-${pause}-${commit ? "commit" : "abort"}`;
      const what = `${label}: ${name}`;
      const d = await cluster.spawn(pause);
      const cd = await WireClient.connect(d.port);
      const topic = { name, id: await createTopic(cc, name, PARTITIONS) };
      // A committed transaction first, so there is something read_committed must keep showing.
      const p = { ...await init(ca, name), seq: 0 };
      await addPartitions(cb, name, p, name);
      await produceTxn(cc, name, p, name, 0, 2);
      assert.equal(await endTxn(ca, name, p, true), 0);
      await addPartitions(cb, name, p, name);
      await produceTxn(cc, name, p, name, 10, 3);
      await produceTxn(ca, name, p, name, 20, 2);
      const ending = endTxn(cd, name, p, commit).catch((e) => e as Error);
      await within(
        (async () => {
          while (!d.output().includes(`skb test pause: ${pause} ${name}`)) await sleep(10);
        })(),
        30_000,
        `${what}: the pause`,
      );
      const killedAt = Date.now();
      assert.equal((await d.stop("SIGKILL")).signal, "SIGKILL");
      const answer = await ending;
      assert.ok(
        answer instanceof Error,
        `${what}: EndTxn was answered (${answer}) before the kill`,
      );
      await cd[Symbol.asyncDispose]();

      // Right after the kill: the decision stands, its ending is not complete.
      const state = await txnState(cb, name);
      assert.equal(state, commit ? "PrepareCommit" : "PrepareAbort", `${what}: state`);
      for (const [i, v] of (await readAll(cb, topic)).entries()) {
        if (pause === "prepared") {
          assert.deepEqual(v.committed, keys(0, 2), `${what}-${i}: nothing of the open one`);
          assert.deepEqual(v.markers, [[p.pid, "commit"]], `${what}-${i}: no marker yet`);
          assert.equal(v.lastStableOffset, 3, `${what}-${i}: the LSO holds at the open one`);
        } else {
          // The markers went in one atomic commit: every partition has the same one.
          const m = commit ? "commit" : "abort";
          assert.deepEqual(v.markers, [[p.pid, "commit"], [p.pid, m]], `${what}-${i}: markers`);
          assert.deepEqual(
            v.committed,
            commit ? [...keys(0, 2), ...keys(10, 3), ...keys(20, 2)] : keys(0, 2),
            `${what}-${i}: read_committed`,
          );
        }
      }

      // A survivor finishes the stale Prepare: the client's retry (after a prepared kill)
      // or the sweep (after a markers kill: nobody asks).
      let took: number;
      if (pause === "prepared") {
        const r = await endTxnRetrying(cb, name, p, commit);
        assert.equal(r.code, 0, `${what}: the retried EndTxn`);
        took = Date.now() - killedAt;
        notes.push(`${name}: retried EndTxn answered after ${r.tries} tries, ${took} ms`);
      } else {
        await until(
          `${what}: completion`,
          15_000,
          async () => (await txnState(ca, name)).startsWith("Complete"),
        );
        took = Date.now() - killedAt;
        notes.push(`${name}: completed by a survivor's sweep ${took} ms after the kill`);
        assert.equal(await endTxn(cb, name, p, commit), 0, `${what}: a retry after completion`);
      }
      assert.equal(await txnState(cc, name), commit ? "CompleteCommit" : "CompleteAbort");
      assert.ok(took < TAKEOVER_MS + 10_000, `${what}: taken over in ${took} ms`);
      const want = commit ? [...keys(0, 2), ...keys(10, 3), ...keys(20, 2)] : keys(0, 2);
      for (const via of [ca, cb, cc]) {
        for (const [i, v] of (await readAll(via, topic)).entries()) {
          assert.deepEqual(v.committed, want, `${what}-${i}: read_committed after`);
          assert.deepEqual(
            v.markers,
            [[p.pid, "commit"], [p.pid, commit ? "commit" : "abort"]],
            `${what}-${i}: exactly one marker for the transaction, the decided one`,
          );
          assert.deepEqual(v.lastStableOffset, v.highWatermark, `${what}-${i}: LSO = HW`);
        }
      }
      // The id goes on: the next producer's transaction commits.
      const q = { ...await init(cc, name), seq: 0 };
      assert.equal(q.epoch, p.epoch + 1, `${what}: the next epoch`);
      await addPartitions(ca, name, q, name);
      await produceTxn(cb, name, q, name, 30, 1);
      assert.equal(await endTxn(ca, name, q, true), 0);
      for (const v of await readAll(cb, topic)) {
        assert.deepEqual(v.committed, [...want, "k30"], `${what}: the next transaction`);
      }
    }

    // (b') No pause: the EndTxn broker is SIGKILLed a random 0-8 ms after EndTxn is sent (before
    // its Prepare, inside the ending, or after its answer), and the producer retries EndTxn on a
    // survivor: every partition ends with exactly one marker, of the outcome asked for.
    {
      const name = "random-kill";
      const topic = { name, id: await createTopic(ca, name, PARTITIONS) };
      const seen: string[] = [];
      const want: string[] = [];
      const p = { ...await init(cb, name), seq: 0 };
      for (let round = 0; round < 4; round++) {
        const commit = round % 2 === 0;
        const d = await cluster.spawn();
        const cd = await WireClient.connect(d.port);
        await addPartitions(cc, name, p, name);
        await produceTxn(ca, name, p, name, 1000 * round, 3);
        const delay = Math.random() * 8;
        const ending = endTxn(cd, name, p, commit).then((code) => `answered ${code}`, () => "cut");
        await sleep(delay);
        await d.stop("SIGKILL");
        const first = await ending;
        await cd[Symbol.asyncDispose]();
        const r = await endTxnRetrying(cb, name, p, commit);
        assert.equal(r.code, 0, `${label}: ${name} ${round}: the retried EndTxn`);
        seen.push(`${delay.toFixed(1)} ms: ${first}, retry after ${r.ms} ms`);
        if (commit) want.push(...keys(1000 * round, 3));
        for (const [i, v] of (await readAll(cc, topic)).entries()) {
          assert.deepEqual(
            v.markers.map(([, m]) => m),
            Array.from({ length: round + 1 }, (_, j) => j % 2 === 0 ? "commit" : "abort"),
            `${label}: ${name} ${round}-${i}: one marker per transaction, the one asked for`,
          );
          assert.deepEqual(v.committed, want, `${label}: ${name} ${round}-${i}: read_committed`);
          assert.equal(v.lastStableOffset, v.highWatermark, `${label}: ${name} ${round}-${i}`);
        }
      }
      notes.push(`random kills of EndTxn's broker: ${seen.join("; ")}`);
    }

    // (c) A producer dies with its transaction open (2 s timeout).
    {
      const name = "orphan";
      const topic = { name, id: await createTopic(ca, name, PARTITIONS) };
      const dying = await WireClient.connect(b.port);
      const p = { ...await init(dying, "orphan", 2000), seq: 0 };
      const startedAt = Date.now();
      await addPartitions(dying, "orphan", p, name);
      await produceTxn(dying, "orphan", p, name, 0, 4);
      await dying[Symbol.asyncDispose]();
      // Another producer commits behind it on every partition.
      const q = { ...await init(cc, "behind"), seq: 0 };
      await addPartitions(cc, "behind", q, name);
      await produceTxn(ca, "behind", q, name, 100, 2);
      assert.equal(await endTxn(cc, "behind", q, true), 0);
      for (const [i, v] of (await readAll(cb, topic)).entries()) {
        assert.deepEqual(v.committed, [], `${label}: orphan-${i}: blocked behind the open one`);
        assert.equal(v.lastStableOffset, 0, `${label}: orphan-${i}: LSO`);
        assert.equal(v.highWatermark, 7, `${label}: orphan-${i}: HW`);
      }
      await until(`${label}: the orphan's abort`, 15_000, async () => {
        const vs = await readAll(ca, topic);
        return vs.every((v) => v.lastStableOffset === v.highWatermark);
      });
      const blockedMs = Date.now() - startedAt;
      assert.ok(blockedMs >= 2000, `${label}: LSO moved after ${blockedMs} ms, before the timeout`);
      notes.push(`orphan: read_committed blocked ${blockedMs} ms (timeout 2000 ms)`);
      for (const via of [cb, cc]) {
        for (const [i, v] of (await readAll(via, topic)).entries()) {
          assert.deepEqual(v.committed, keys(100, 2), `${label}: orphan-${i}: after the abort`);
          assert.deepEqual(
            v.markers,
            [[q.pid, "commit"], [p.pid, "abort"]],
            `${label}: orphan-${i}: markers`,
          );
          assert.equal(v.highWatermark, 8);
        }
      }
      assert.equal(await txnState(cb, "orphan"), "CompleteAbort");
    }
    console.log(`${label}: ${Date.now() - t0} ms\n  ${notes.join("\n  ")}`);
  } catch (e) {
    for (const [i, x] of all.entries()) {
      console.error(`--- broker ${i} output ---\n${x.output().slice(-3000)}`);
    }
    throw e;
  } finally {
    for (const c of clients) await c[Symbol.asyncDispose]();
    for (const x of all) await x.stop("SIGKILL");
  }
}

Deno.test({
  name: "transactions across brokers sharing SQLite + files survive a killed coordinator",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "skb-txn-shared-" });
    try {
      await scenarios("sqlite+files", `sqlite:${dir}/meta.db`, `file:${dir}/log`, {});
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "transactions across brokers sharing Redis + S3 survive a killed coordinator",
  async fn() {
    await using redis = await startRedisServer();
    await using s3 = await startS3Server();
    await s3.createBucket("skb-txn");
    await scenarios("redis+s3", redis.url(0, "txn:"), s3.url("skb-txn", "c"), s3.env);
  },
});
