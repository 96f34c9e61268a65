/**
 * The S3 log store failing under a running broker (the log-store half of
 * "a store that fails gives producers retriable errors"; the meta-store half
 * is in shared_stores_kill_test.ts). A fault-injecting proxy
 * (servers/fault_proxy.ts) sits between the broker and a real S3 server
 * (moto, or MinIO) and answers every request with 503 SlowDown or 500
 * InternalError, or holds it unanswered, then forwards again.
 *
 * While S3 fails: Produce gets KAFKA_STORAGE_ERROR (retriable) in bounded
 * time, the broker keeps running, and no index entry is committed for the
 * failed flushes (ListOffsets and the high watermark do not move); fetches of
 * data in the broker's blob cache still succeed, fetches that miss it get
 * KAFKA_STORAGE_ERROR in bounded time. Once S3 answers again, offsets carry on
 * from where they were and every acknowledged record reads back exactly once.
 */

import assert from "node:assert/strict";
import { DENO, spawnBrokerCommand } from "./broker_util.ts";
import { type FaultMode, type ProxiedRequest, startFaultProxy } from "./servers/fault_proxy.ts";
import { startRedisServer } from "./servers/redis_server.ts";
import { startS3Server } from "./servers/s3_server.ts";
import {
  batchOf,
  brokerArgs,
  createTopic,
  fetchedRecords,
  fetchPartition,
  listLatest,
  produceAcross,
  produceAll,
  sleep,
} from "./helpers.ts";
import { WireClient } from "./wire_client.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { PRODUCE_API } from "../protocol/generated/mod.ts";
import { produceRequest } from "./wire_requests.ts";

/** The broker's --store-timeout-ms: a log store call with no answer fails after this. */
const STORE_TIMEOUT_MS = 2000;
/** Allowance for a loaded machine on top of the store timeout. */
const SLACK_MS = 3000;
const PARTITIONS = 3;
const N = 10;

/**
 * Kafka's retriable errors among those a Produce can get here
 * (org.apache.kafka.common.errors: KafkaStorageException and TimeoutException
 * both extend RetriableException).
 */
const RETRIABLE = new Set<number>([ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.REQUEST_TIMED_OUT]);

Deno.test({
  name: "an S3 log store that fails or hangs gives retriable errors, commits nothing, recovers",
  async fn() {
    await using redis = await startRedisServer();
    await using s3 = await startS3Server();
    await s3.createBucket("skb-log-faults");
    await using proxy = await startFaultProxy(s3.endpoint);
    const logUrl = s3.url("skb-log-faults", "c")
      .replace(encodeURIComponent(s3.endpoint), encodeURIComponent(proxy.endpoint));
    assert.ok(logUrl.includes(encodeURIComponent(proxy.endpoint)), logUrl);
    await using broker = await spawnBrokerCommand(
      DENO,
      brokerArgs(0, redis.url(0, "logfault:"), logUrl, [
        "--store-timeout-ms",
        String(STORE_TIMEOUT_MS),
      ]),
      { env: s3.env, timeoutMs: 60_000 },
    );
    let exited = false;
    broker.child.status.then(() => (exited = true));
    const report: string[] = [];
    try {
      await using c = await WireClient.connect(broker.port);
      const topic = { name: "faults", id: await createTopic(c, "faults", PARTITIONS) };
      /** Per partition, the record numbers acknowledged, in offset order. */
      const acked: number[][] = Array.from({ length: PARTITIONS }, () => []);
      const expected = (p: number) => acked[p].map((i, o) => [o, `k${i}`, `v${i}`]);
      let next = 0;
      const produceOk = async (label: string) => {
        const from = next;
        next += N;
        const res = await produceAll(c, topic.name, PARTITIONS, from, N);
        assert.deepEqual(
          res.map((r) => [r.errorCode, Number(r.baseOffset)]),
          acked.map((a) => [0, a.length]),
          `${label}: offsets carry on from the last acknowledged one`,
        );
        for (const a of acked) for (let j = 0; j < N; j++) a.push(from + j);
      };
      /** N records to partition `p` alone, so they get an S3 object of their own. */
      const produceOne = async (p: number, label: string) => {
        const req = produceRequest(topic.name, batchOf(next, N));
        req.topicData[0].partitionData[0].index = p;
        const [r] = (await c.call(PRODUCE_API, 12, req)).responses[0].partitionResponses;
        assert.deepEqual([r.errorCode, Number(r.baseOffset)], [0, acked[p].length], label);
        for (let j = 0; j < N; j++) acked[p].push(next + j);
        next += N;
      };
      /** Reads a partition from 0: exactly what was acknowledged, in order. */
      const readBack = async (p: number, label: string) => {
        const got = await fetchPartition(c, topic, p, 0);
        assert.equal(got.errorCode, 0, `${label}: fetch of partition ${p}`);
        assert.equal(Number(got.highWatermark), acked[p].length, `${label}: high watermark`);
        assert.deepEqual(fetchedRecords(got), expected(p), `${label}: partition ${p}`);
      };
      const assertNothingCommitted = async (label: string) => {
        assert.deepEqual(
          await listLatest(c, topic.name, PARTITIONS),
          acked.map((a) => [0, a.length]),
          `${label}: ListOffsets latest`,
        );
      };

      await produceOk("before the faults");
      await produceOk("before the faults");
      await assertNothingCommitted("before the faults");
      for (let p = 0; p < PARTITIONS; p++) await readBack(p, "before the faults");

      const modes: FaultMode[] = ["slowdown", "internal-error", "hang"];
      for (const [k, mode] of modes.entries()) {
        // Partition 0 was just read, so its bytes are in the broker's blob cache
        // (with the rest of the objects they are in); partition `uncached` then
        // gets a batch of its own, in an object nobody has read yet.
        const uncached = 1 + (k % 2);
        await produceOk(`before ${mode}`);
        await readBack(0, `before ${mode}`);
        await produceOne(uncached, `before ${mode}`);
        proxy.setMode(mode);
        const seen = proxy.requests.length;

        // Produce: a retriable error for every partition, in bounded time.
        let t = performance.now();
        const failed = await produceAll(c, topic.name, PARTITIONS, next, N);
        const produceMs = performance.now() - t;
        next += N; // never acknowledged: must never be read
        for (const r of failed) {
          assert.ok(RETRIABLE.has(r.errorCode), `${mode}: produce error ${r.errorCode}`);
          assert.equal(r.errorCode, ErrorCode.KAFKA_STORAGE_ERROR, `${mode}: a log store failure`);
          assert.equal(Number(r.baseOffset), -1);
        }
        assert.ok(
          produceMs < STORE_TIMEOUT_MS + SLACK_MS,
          `${mode}: produce answered in ${produceMs} ms`,
        );
        assert.ok(!exited, `${mode}: the broker is still running`);
        // No index entry for the failed flush.
        await assertNothingCommitted(mode);

        // A fetch served from the blob cache still works.
        t = performance.now();
        await readBack(0, `${mode}, cached`);
        const cachedMs = performance.now() - t;
        // A fetch that must read S3 gets an error, not a hang (max_wait 500 ms).
        t = performance.now();
        const miss = await fetchPartition(c, topic, uncached, 0, 500);
        const missMs = performance.now() - t;
        assert.equal(miss.errorCode, ErrorCode.KAFKA_STORAGE_ERROR, `${mode}: uncached fetch`);
        assert.equal(Number(miss.highWatermark), acked[uncached].length);
        assert.ok(
          missMs < Math.max(500, STORE_TIMEOUT_MS) + SLACK_MS,
          `${mode}: uncached fetch answered in ${missMs} ms`,
        );
        assert.ok(!exited, `${mode}: the broker is still running`);

        // The faults were met: S3 saw PUTs and GETs in this mode, and what it did to them.
        const during = proxy.requests.slice(seen);
        const puts = during.filter((r) => r.method === "PUT");
        const gets = during.filter((r) => r.method === "GET");
        assert.ok(puts.length >= 1 && gets.length >= 1, `${mode}: ${JSON.stringify(during)}`);
        if (mode === "hang") {
          // The broker gave up on its hung requests (the S3 store aborts them
          // at its deadline) instead of leaving them open.
          await sleep(500);
          const abandoned = during.filter((r) => r.outcome === "abandoned");
          assert.ok(
            abandoned.some((r) => r.method === "PUT") && abandoned.some((r) => r.method === "GET"),
            `hang: the broker abandons hung requests: ${JSON.stringify(during)}`,
          );
          for (const r of abandoned) {
            assert.ok(
              r.endedMs! - r.startedMs < STORE_TIMEOUT_MS + SLACK_MS,
              `hang: a request held ${r.endedMs! - r.startedMs} ms`,
            );
          }
        } else {
          const status = mode === "slowdown" ? 503 : 500;
          for (const r of during) assert.equal(r.outcome, status, JSON.stringify(r));
        }
        report.push(
          `${mode}: produce ${Math.round(produceMs)} ms, cached fetch ${
            Math.round(cachedMs)
          } ms, uncached fetch ${
            Math.round(missMs)
          } ms; S3 saw ${puts.length} PUT, ${gets.length} GET (${summary(during)})`,
        );

        // S3 answers again: producing carries on at the next offsets.
        proxy.setMode("forward");
        t = performance.now();
        await produceOk(`after ${mode}`);
        report.push(`  producing again ${Math.round(performance.now() - t)} ms after`);
        await assertNothingCommitted(`after ${mode}`);
      }

      // Everything acknowledged reads back exactly once, nothing else, from every partition.
      for (let p = 0; p < PARTITIONS; p++) await readBack(p, "at the end");
      assert.ok(!exited, "the broker is still running");

      // A real client across S3 failing then hanging: it retries, and every
      // record is acknowledged once and is in the log once, where it was acknowledged.
      const acksAtFault = await produceAcross(
        `127.0.0.1:${broker.port}`,
        "faults-rdk",
        10_000,
        async () => {
          proxy.setMode("slowdown");
          await sleep(1500);
          proxy.setMode("forward");
          await sleep(300);
          proxy.setMode("hang");
          await sleep(STORE_TIMEOUT_MS + 1000);
          proxy.setMode("forward");
        },
        "librdkafka across S3 faults",
        true,
      );
      assert.ok(!exited, "the broker is still running");
      report.push(`librdkafka: S3 failed after ${acksAtFault} acks; all 10000 once in the log`);
      console.log(`log store faults:\n  ${report.join("\n  ")}`);
    } catch (e) {
      console.error(`--- broker output ---\n${broker.output().slice(-3000)}`);
      throw e;
    }
  },
});

/** "3x PUT 503, 1x GET abandoned" */
function summary(requests: ProxiedRequest[]): string {
  const n = new Map<string, number>();
  for (const r of requests) {
    const k = `${r.method} ${r.outcome ?? "held"}`;
    n.set(k, (n.get(k) ?? 0) + 1);
  }
  return [...n].map(([k, v]) => `${v}x ${k}`).join(", ");
}
