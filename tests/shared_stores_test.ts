/**
 * Three broker processes sharing one Redis meta store and one S3 log store
 * (real redis-server, real S3-compatible server), driven by a real client
 * (librdkafka through confluent-kafka): two producers write concurrently
 * through two different brokers, a consumer reads through the third. Offsets
 * must be contiguous per partition and every record must arrive exactly once,
 * at the offset its acknowledgement named.
 */

import assert from "node:assert/strict";
import { type BrokerProcess, DENO, spawnBrokerCommand } from "./broker_util.ts";
import { DRIVERS, runDriver } from "./client_drivers.ts";
import { type Consumed, contractRecord, parseLines, type Produced } from "./contract_records.ts";
import { startRedisServer } from "./servers/redis_server.ts";
import { startS3Server } from "./servers/s3_server.ts";
import { b64, brokerArgs } from "./helpers.ts";

const PER_PRODUCER = 1500;
const BUCKET = "skb-shared";

Deno.test({
  name: "brokers sharing redis and s3: produce through two, consume through a third, exactly once",
  // Child processes and their pipes are awaited, but the client driver's own
  // timers finish on their own schedule; the test bounds itself below.
  async fn() {
    const driver = DRIVERS.find((d) => d.name === "librdkafka")!;
    await driver.check();
    await using redis = await startRedisServer();
    await using s3 = await startS3Server();
    await s3.createBucket(BUCKET);
    const meta = redis.url(0, "e2e:");
    const log = s3.url(BUCKET, "cluster-1");

    const brokers: BrokerProcess[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        brokers.push(
          await spawnBrokerCommand(
            DENO,
            brokerArgs(0, meta, log, ["--default-partitions", "3"]),
            { env: s3.env, timeoutMs: 60_000 },
          ),
        );
      }
      const [a, b, c] = brokers.map((x) => `127.0.0.1:${x.port}`);
      const topic = "shared";
      const produce = (bootstrap: string, start: number) =>
        runDriver(driver, [
          "produce",
          "--bootstrap",
          bootstrap,
          "--topic",
          topic,
          "--count",
          String(PER_PRODUCER),
          "--start",
          String(start),
          "--create-partitions",
          "3",
          "--compression",
          "lz4",
        ], 90_000);
      const outputs = await Promise.all([produce(a, 0), produce(b, PER_PRODUCER)]);
      const produced = outputs.flatMap((o) => parseLines<Produced>(o).records);
      assert.equal(produced.length, 2 * PER_PRODUCER);

      const consumed = parseLines<Consumed>(
        await runDriver(driver, [
          "consume",
          "--bootstrap",
          c,
          "--topic",
          topic,
          "--count",
          String(2 * PER_PRODUCER),
          "--timeout-ms",
          "60000",
        ], 90_000),
      ).records;
      assert.equal(consumed.length, 2 * PER_PRODUCER, "every acknowledged record is read");

      // Offsets per partition: contiguous from 0, each once.
      const byPartition = new Map<number, number[]>();
      const at = new Map<string, Consumed>();
      for (const r of consumed) {
        assert.ok(!at.has(`${r.p}/${r.o}`), `offset ${r.p}/${r.o} read twice`);
        at.set(`${r.p}/${r.o}`, r);
        byPartition.set(r.p, [...(byPartition.get(r.p) ?? []), r.o]);
      }
      assert.equal(byPartition.size, 3, "records spread over the 3 partitions");
      for (const [p, offsets] of byPartition) {
        offsets.sort((x, y) => x - y);
        assert.deepEqual(offsets, offsets.map((_, i) => i), `partition ${p} offsets`);
      }
      // Every record exactly once, at the offset its acknowledgement named.
      const seen = new Set<number>();
      for (const r of produced) {
        assert.ok(!seen.has(r.i), `record ${r.i} acknowledged twice`);
        seen.add(r.i);
        const got = at.get(`${r.p}/${r.o}`);
        assert.ok(got, `record ${r.i} acknowledged at ${r.p}/${r.o} was not read`);
        const want = contractRecord(r.i);
        assert.equal(got.k, b64(want.key), `key of record ${r.i}`);
        assert.equal(got.v, b64(want.value), `value of record ${r.i}`);
      }
      // Each producer's records keep their order within a partition.
      for (const start of [0, PER_PRODUCER]) {
        const mine = produced.filter((r) => r.i >= start && r.i < start + PER_PRODUCER);
        for (const p of [0, 1, 2]) {
          const os = mine.filter((r) => r.p === p).sort((x, y) => x.i - y.i).map((r) => r.o);
          for (let j = 1; j < os.length; j++) assert.ok(os[j] > os[j - 1], `order in ${p}`);
        }
      }
      // Both producers' brokers wrote objects to the shared bucket.
      const { S3Client, ListObjectsV2Command } = await import("@aws-sdk/client-s3");
      const client = new S3Client({
        region: s3.region,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: s3.credentials,
      });
      try {
        const listed = await client.send(
          new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "cluster-1/" }),
        );
        assert.ok((listed.KeyCount ?? 0) >= 2, `objects in the bucket: ${listed.KeyCount}`);
      } finally {
        client.destroy();
      }
    } catch (e) {
      for (const [i, x] of brokers.entries()) {
        console.error(`--- broker ${i} output ---\n${x.output().slice(-3000)}`);
      }
      throw e;
    } finally {
      for (const x of brokers) await x.stop("SIGTERM");
    }
  },
});
