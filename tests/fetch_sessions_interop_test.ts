/**
 * Fetch sessions (KIP-227) with real consumers over real TCP, on a
 * 100-partition topic: the Java consumer (kafka-clients) opens a session and
 * fetches incrementally, also while records keep arriving, and reads every
 * record exactly once; confluent-kafka (librdkafka) sends sessionless
 * fetches (session id 0, epoch -1), as it does against Kafka, and reads
 * everything too. The broker's session counters say which was which.
 */

import assert from "node:assert/strict";
import { sessionsOf } from "../broker/fetch_sessions.ts";
import { testBroker } from "./broker_util.ts";
import { DRIVERS, runAny, runDriver } from "./client_drivers.ts";
import { assertSameRecords, type Consumed, parseLines, type Produced } from "./contract_records.ts";
import { sleep } from "./helpers.ts";

const PARTITIONS = 100;
const FIRST = 3000;
const SECOND = 3000;

const driver = (name: string) => DRIVERS.find((d) => d.name === name)!;

Deno.test({
  name: "fetch sessions: Java consumes 100 partitions incrementally, librdkafka sessionless",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const java = driver("java");
    const rdkafka = driver("librdkafka");
    await java.check();
    await rdkafka.check();
    await using broker = await testBroker();
    const bootstrap = `127.0.0.1:${broker.port}`;
    const topic = "sessions-100";
    const sessions = sessionsOf(broker.context);

    const produce = async (start: number, count: number) => {
      const p = parseLines<Produced>(
        await runDriver(rdkafka, [
          "produce",
          "--bootstrap",
          bootstrap,
          "--topic",
          topic,
          "--count",
          String(count),
          "--start",
          String(start),
          "--create-partitions",
          String(PARTITIONS),
        ]),
      );
      assert.equal(p.records.length, count);
      return p.records;
    };
    const consume = (d: typeof java, count: number) =>
      runAny(d, [
        "consume",
        "--bootstrap",
        bootstrap,
        "--topic",
        topic,
        "--count",
        String(count),
        "--timeout-ms",
        "90000",
      ], 120_000).done;

    const produced = await produce(0, FIRST);
    assert.ok(new Set(produced.map((r) => r.p)).size > 90, "records spread over the partitions");

    // Java: reads the first records, goes on fetching incrementally while
    // idle, then reads the second lot produced meanwhile.
    const before = { ...sessions.counts };
    const javaRun = consume(java, FIRST + SECOND);
    const deadline = Date.now() + 60_000;
    while (sessions.counts.incremental - before.incremental < 20 && Date.now() < deadline) {
      await sleep(100);
    }
    assert.ok(
      sessions.counts.incremental - before.incremental >= 20,
      `the Java consumer fetches incrementally: ${JSON.stringify(sessions.counts)}`,
    );
    produced.push(...await produce(FIRST, SECOND));
    const javaOut = await javaRun;
    assert.equal(
      javaOut.code,
      0,
      `java consume exited ${javaOut.code}: ${javaOut.stderr.slice(-2000)}`,
    );
    assertSameRecords(produced, parseLines<Consumed>(javaOut.stdout).records, "java");
    const javaCounts = diff(sessions.counts, before);
    assert.ok(javaCounts.full >= 1, `a session was opened: ${JSON.stringify(javaCounts)}`);
    assert.ok(
      javaCounts.incremental > 10 * javaCounts.full,
      `most fetches were incremental: ${JSON.stringify(javaCounts)}`,
    );
    // At most one: the fetch with epoch -1 that closes the session when the consumer closes.
    assert.ok(javaCounts.sessionless <= 1, `no sessionless fetch: ${JSON.stringify(javaCounts)}`);

    // librdkafka: sessionless, every record.
    const mid = { ...sessions.counts };
    const rdOut = await consume(rdkafka, FIRST + SECOND);
    assert.equal(
      rdOut.code,
      0,
      `librdkafka consume exited ${rdOut.code}: ${rdOut.stderr.slice(-2000)}`,
    );
    assertSameRecords(produced, parseLines<Consumed>(rdOut.stdout).records, "librdkafka");
    const rdCounts = diff(sessions.counts, mid);
    assert.ok(rdCounts.sessionless > 0, `librdkafka fetched: ${JSON.stringify(rdCounts)}`);
    assert.equal(rdCounts.incremental + rdCounts.full, 0, JSON.stringify(rdCounts));
    console.log(
      `session use: java ${JSON.stringify(javaCounts)}, librdkafka ${JSON.stringify(rdCounts)}`,
    );
  },
});

function diff<T extends Record<string, number>>(a: T, b: T): T {
  const out = {} as Record<string, number>;
  for (const k of Object.keys(a)) out[k] = a[k] - b[k];
  return out as T;
}
