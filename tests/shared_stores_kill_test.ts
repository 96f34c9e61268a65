/**
 * Three broker processes sharing one meta store and one log store (Redis + S3,
 * then SQLite + files), six real producers writing concurrently through them
 * while one broker is killed with SIGKILL and restarted on its port. Every
 * acknowledged record must be in the log once, at the offset its
 * acknowledgement named; offsets stay contiguous per partition; two consumers
 * through two brokers read the same bytes. Then a meta store that goes away
 * and comes back: the broker survives and producing resumes.
 */

import assert from "node:assert/strict";
import { type BrokerProcess, DENO, spawnBrokerCommand } from "./broker_util.ts";
import { DRIVERS, runDriver } from "./client_drivers.ts";
import { type Consumed, parseLines, type Produced } from "./contract_records.ts";
import { startRedisServer } from "./servers/redis_server.ts";
import { startS3Server } from "./servers/s3_server.ts";
import { WireClient } from "./wire_client.ts";
import {
  assertRecord,
  brokerArgs,
  createTopic,
  fetchedRecords,
  fetchPartition,
  produceAcross,
  produceAll,
  runAny,
  sleep,
  topicOffsets,
} from "./helpers.ts";
import { ErrorCode } from "../protocol/errors.ts";

const PER_PRODUCER = 10_000;
const PARTITIONS = 6;
const driver = (name: string) => DRIVERS.find((d) => d.name === name)!;

/** The contract index of a consumed record, from its idx header or its key. */
function indexOf(c: Consumed): number {
  const idx = c.h.find(([k]) => k === "idx");
  if (idx && idx[1] !== null) return Number(atob(idx[1]));
  assert.ok(c.k !== null, `record at ${c.p}/${c.o} has neither key nor idx header`);
  return Number(atob(c.k).slice("key-".length));
}

async function killScenario(
  label: string,
  meta: string,
  log: string,
  env?: Record<string, string>,
) {
  const t0 = Date.now();
  const brokers: BrokerProcess[] = [];
  const spawn = (port: number) =>
    spawnBrokerCommand(DENO, brokerArgs(port, meta, log), { env, timeoutMs: 60_000 });
  try {
    for (let i = 0; i < 3; i++) brokers.push(await spawn(0));
    const addr = brokers.map((x) => `127.0.0.1:${x.port}`);
    const list = (first: number) => [0, 1, 2].map((j) => addr[(first + j) % 3]).join(",");
    const topic = "kill";
    const rdk = driver("librdkafka");
    await runDriver(rdk, [
      "produce",
      "--bootstrap",
      list(1),
      "--topic",
      topic,
      "--count",
      "0",
      "--create-partitions",
      String(PARTITIONS),
    ], 60_000);

    // Two producers per broker; broker 0 (Java, idempotent, and librdkafka) is killed.
    const plan: { d: string; via: number; idempotent: boolean }[] = [
      { d: "java", via: 0, idempotent: true },
      { d: "librdkafka", via: 0, idempotent: false },
      { d: "librdkafka", via: 1, idempotent: false },
      { d: "kafkajs", via: 1, idempotent: false },
      { d: "kafkajs", via: 2, idempotent: false },
      { d: "librdkafka", via: 2, idempotent: false },
    ];
    for (const name of new Set(plan.map((p) => p.d))) await driver(name).check();
    const start = (n: number) =>
      runAny(driver(plan[n].d), [
        "produce",
        "--bootstrap",
        list(plan[n].via),
        "--topic",
        topic,
        "--count",
        String(PER_PRODUCER),
        "--start",
        String(n * PER_PRODUCER),
        "--compression",
        "lz4",
        "--timeout-ms",
        "100000",
      ], 130_000);
    // All six at once. The Java driver prints its acknowledgements only at the
    // end, so no output says when it is under way: broker 0 is killed with
    // SIGKILL 0.6 s in and then 0.2 s after each restart on the same port,
    // until every producer is done, so the kills overlap each producer's run.
    const runs = plan.map((_, n) => start(n));
    let finished = false;
    const all = Promise.all(runs.map((r) => r.done)).finally(() => (finished = true));
    await Promise.race([all, sleep(600)]);
    const kills: string[] = [];
    let acksAtKill: number[] = [];
    do {
      if (kills.length === 0) acksAtKill = runs.map((r) => r.acks);
      const tKill = Date.now() - t0;
      const killed = await brokers[0].stop("SIGKILL");
      assert.equal(killed.signal, "SIGKILL");
      const port = brokers[0].port;
      brokers[0] = await spawn(port);
      kills.push(`${tKill}-${Date.now() - t0} ms`);
      await Promise.race([all, sleep(200)]);
    } while (!finished && kills.length < 20);
    const outputs = await all;
    const tProduced = Date.now() - t0;

    const acked: Produced[] = [];
    const summary: string[] = [];
    for (const [n, o] of outputs.entries()) {
      const { records, done } = parseLines<Produced>(o.stdout);
      summary.push(
        `${plan[n].d}@${plan[n].via}: acked ${acksAtKill[n]} before the first kill, ` +
          `${records.length} in all, exit ${o.code}`,
      );
      const errors = Number(done?.errors ?? (o.code === 0 ? 0 : 1));
      if (plan[n].idempotent) {
        assert.equal(
          o.code,
          0,
          `${label}: the idempotent producer failed:\n${o.stderr.slice(-2000)}`,
        );
      }
      if (o.code !== 0) {
        assert.ok(errors > 0 || done === null, `${label}: ${plan[n].d} exited ${o.code}`);
      }
      for (const r of records) {
        assert.ok(r.i >= n * PER_PRODUCER && r.i < (n + 1) * PER_PRODUCER, `ack of ${r.i}`);
        assert.ok(r.o >= 0, `${label}: record ${r.i} acknowledged without an offset`);
        acked.push(r);
      }
    }
    assert.ok(acked.length > 0);

    // How many records each partition holds, then read them all through two brokers.
    const offsets = await topicOffsets(addr[1], topic);
    assert.equal(offsets.length, PARTITIONS);
    const total = offsets.reduce((s, x) => s + x.latest, 0);
    for (const x of offsets) assert.equal(x.earliest, 0, `${label}: partition ${x.p} earliest`);
    const consume = async (via: string) =>
      parseLines<Consumed>(
        await runDriver(rdk, [
          "consume",
          "--bootstrap",
          via,
          "--topic",
          topic,
          "--count",
          String(total),
          "--timeout-ms",
          "60000",
        ], 90_000),
      ).records;
    const [viaRestarted, viaOther] = await Promise.all([consume(addr[0]), consume(addr[2])]);
    const tConsumed = Date.now() - t0;
    assert.equal(viaRestarted.length, total);
    assert.equal(viaOther.length, total);

    const at = new Map<string, Consumed>();
    for (const c of viaRestarted) {
      const k = `${c.p}/${c.o}`;
      assert.ok(!at.has(k), `${label}: offset ${k} read twice`);
      at.set(k, c);
    }
    // The same bytes through both brokers.
    for (const c of viaOther) {
      assert.deepEqual(
        { ...c, ts: 0 },
        { ...at.get(`${c.p}/${c.o}`), ts: 0 },
        `${label}: ${c.p}/${c.o} differs between brokers`,
      );
      assert.equal(c.ts, at.get(`${c.p}/${c.o}`)!.ts, `${label}: timestamp of ${c.p}/${c.o}`);
    }
    // Contiguous offsets from 0 in every partition, up to its high watermark.
    for (const x of offsets) {
      for (let o = 0; o < x.latest; o++) {
        assert.ok(at.has(`${x.p}/${o}`), `${label}: partition ${x.p} misses offset ${o}`);
      }
    }
    // Every record in the log is a contract record of some producer's range.
    const copies = new Map<number, Consumed[]>();
    for (const c of viaRestarted) {
      const i = indexOf(c);
      assert.ok(i >= 0 && i < plan.length * PER_PRODUCER, `${label}: unknown record ${i}`);
      assertRecord(c, i, label);
      copies.set(i, [...(copies.get(i) ?? []), c]);
    }
    // Every acknowledged record is where its acknowledgement said.
    const ackedSet = new Set<number>();
    for (const r of acked) {
      assert.ok(!ackedSet.has(r.i), `${label}: record ${r.i} acknowledged twice`);
      ackedSet.add(r.i);
      const c = at.get(`${r.p}/${r.o}`);
      assert.ok(c, `${label}: record ${r.i} acknowledged at ${r.p}/${r.o} is not in the log`);
      assert.equal(indexOf(c), r.i, `${label}: ${r.p}/${r.o} holds another record than ${r.i}`);
    }
    let duplicates = 0;
    let unacked = 0;
    for (const [i, cs] of copies) {
      const n = Math.floor(i / PER_PRODUCER);
      if (cs.length > 1) duplicates += cs.length - 1;
      if (plan[n].idempotent) {
        assert.equal(cs.length, 1, `${label}: idempotent record ${i} is in the log ${cs.length}x`);
      }
      if (!ackedSet.has(i)) {
        unacked++;
        // In the log without an acknowledgement: only when its producer reported errors.
        assert.notEqual(outputs[n].code, 0, `${label}: record ${i} stored but never acknowledged`);
      }
    }
    // The idempotent producer: every record once, in send order per partition.
    const javaAcked = acked.filter((r) => r.i < PER_PRODUCER);
    assert.equal(javaAcked.length, PER_PRODUCER, `${label}: Java acknowledged every record`);
    for (let p = 0; p < PARTITIONS; p++) {
      const os = javaAcked.filter((r) => r.p === p).sort((a, b) => a.i - b.i).map((r) => r.o);
      for (let j = 1; j < os.length; j++) assert.ok(os[j] > os[j - 1], `${label}: order in ${p}`);
    }
    console.log(
      `${label}: broker 0 killed and restarted at ${
        kills.join(", ")
      }; produced by ${tProduced} ms, ` +
        `consumed by ${tConsumed} ms; log ${total} records, acked ${acked.length}, ` +
        `duplicates ${duplicates} (non-idempotent retries), stored unacked ${unacked}\n  ` +
        summary.join("\n  "),
    );
  } catch (e) {
    for (const [i, x] of brokers.entries()) {
      console.error(`--- broker ${i} output ---\n${x.output().slice(-3000)}`);
    }
    throw e;
  } finally {
    for (const x of brokers) await x.stop("SIGKILL");
  }
}

Deno.test({
  name: "three brokers sharing Redis + S3 survive a SIGKILL and restart",
  async fn() {
    await using redis = await startRedisServer();
    await using s3 = await startS3Server();
    await s3.createBucket("skb-kill");
    await killScenario(
      "redis+s3",
      redis.url(0, "kill:"),
      s3.url("skb-kill", "cluster"),
      s3.env,
    );
  },
});

Deno.test({
  name: "three brokers sharing SQLite + files survive a SIGKILL and restart",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "skb-kill-" });
    try {
      await killScenario("sqlite+files", `sqlite:${dir}/meta.db`, `file:${dir}/log`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "a meta store that stops gives producers retriable errors and recovers",
  async fn() {
    await using redis = await startRedisServer();
    await using s3 = await startS3Server();
    await s3.createBucket("skb-meta-down");
    await using broker = await spawnBrokerCommand(
      DENO,
      brokerArgs(0, redis.url(0, "down:"), s3.url("skb-meta-down", "c")),
      { env: s3.env, timeoutMs: 60_000 },
    );
    let exited = false;
    broker.child.status.then(() => (exited = true));
    try {
      await using c = await WireClient.connect(broker.port);
      const topic = { name: "down", id: await createTopic(c, "down", 3) };

      const before = await produceAll(c, "down", 3, 0);
      assert.deepEqual(before.map((r) => [r.errorCode, r.baseOffset]), [[0, 0], [0, 0], [0, 0]]);

      // Redis goes away: every partition gets a retriable error; the connection stays.
      await redis.stop();
      const t = Date.now();
      const during = await produceAll(c, "down", 3, 10);
      const tookMs = Date.now() - t;
      const codes = during.map((r) => r.errorCode);
      for (const code of codes) {
        assert.ok(
          code === ErrorCode.REQUEST_TIMED_OUT || code === ErrorCode.KAFKA_STORAGE_ERROR,
          `error code ${code} while the meta store is down (${codes})`,
        );
      }
      assert.ok(!exited, "the broker is still running");

      // Redis comes back on the same port with its data: producing succeeds again.
      await redis.start();
      const t2 = Date.now();
      let after = await produceAll(c, "down", 3, 20);
      while (after.some((r) => r.errorCode !== 0) && Date.now() - t2 < 30_000) {
        await new Promise((r) => setTimeout(r, 250));
        after = await produceAll(c, "down", 3, 20);
      }
      const recoveredMs = Date.now() - t2;
      assert.deepEqual(after.map((r) => r.errorCode), [0, 0, 0], "produce after the restart");
      // The failed produce wrote nothing the log shows.
      assert.deepEqual(after.map((r) => Number(r.baseOffset)), [10, 10, 10]);

      // The records acknowledged before the outage are intact, then the new ones.
      for (let p = 0; p < 3; p++) {
        const got = await fetchPartition(c, topic, p, 0);
        assert.equal(got.errorCode, 0);
        assert.equal(Number(got.highWatermark), 20);
        assert.deepEqual(
          fetchedRecords(got),
          [
            ...Array.from({ length: 10 }, (_, j) => [j, `k${j}`, `v${j}`]),
            ...Array.from({ length: 10 }, (_, j) => [10 + j, `k${20 + j}`, `v${20 + j}`]),
          ],
          `partition ${p}`,
        );
      }

      // A real client (librdkafka) producing while redis stops for 2 s: it
      // retries, every record is acknowledged once, where the log has it.
      const acksAtStop = await produceAcross(
        `127.0.0.1:${broker.port}`,
        "down-rdk",
        PER_PRODUCER,
        async () => {
          await redis.stop();
          await new Promise((r) => setTimeout(r, 2000));
          await redis.start();
        },
        "librdkafka across the outage",
        false,
      );
      assert.ok(!exited, "the broker is still running");
      console.log(
        `meta store down: produce answered ${codes} in ${tookMs} ms; ` +
          `producing again ${recoveredMs} ms after redis restarted; ` +
          `librdkafka: redis stopped after ${acksAtStop} acks, all ${PER_PRODUCER} acknowledged`,
      );
    } catch (e) {
      console.error(`--- broker output ---\n${broker.output().slice(-3000)}`);
      throw e;
    }
  },
});
