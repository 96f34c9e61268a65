/**
 * Share groups (KIP-932) with the real Java KafkaShareConsumer (kafka-clients
 * 4.4, explicit acknowledgement mode, through the Java driver's
 * share-consume command, see tests/clients/CONTRACT.md) over real TCP:
 *
 * - three consumers in one share group on a one-partition topic together
 *   receive every record, and no record is acknowledged twice;
 * - a consumer that closes without acknowledging, and one that releases its
 *   records, give them back: the next consumer receives them with the
 *   delivery count raised by one per earlier delivery;
 * - Kafka's kafka-console-share-consumer (implicit acknowledgement) reads a
 *   group set to share.auto.offset.reset=earliest by IncrementalAlterConfigs;
 *   kafka-share-groups describes it, resets its offsets, deletes them, then
 *   deletes the group;
 * - a read_committed share group (share.isolation.level) gets committed and
 *   plain records only, and the client acknowledges the transaction markers
 *   as gaps.
 */

import assert from "node:assert/strict";
import {
  defaultShareFetchRequest,
  defaultShareGroupHeartbeatRequest,
  SHARE_FETCH_API,
  SHARE_GROUP_HEARTBEAT_API,
} from "../protocol/generated/mod.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { DRIVERS, type Run, runAny } from "./client_drivers.ts";
import { createTopic, produceAll, sleep } from "./helpers.ts";
import { runKafkaTool } from "./kafka_tools.ts";
import { INCREMENTAL_ALTER_CONFIGS_API } from "../protocol/generated/mod.ts";
import { setGroupConfigs, txnProducer } from "./share_groups_util.ts";

const java = DRIVERS.find((d) => d.name === "java")!;

interface Line {
  p?: number;
  o?: number;
  dc?: number;
  acked?: [number, number][];
  done?: boolean;
}

function lines(stdout: string): Line[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/**
 * Starts the group's share-partition at offset 0 while the topic is empty
 * (share.auto.offset.reset is latest), as a member that joins, fetches and leaves.
 */
async function startAtZero(c: WireClient, group: string, topic: string, topicId: string) {
  const hb = (memberEpoch: number) =>
    c.call(SHARE_GROUP_HEARTBEAT_API, 1, {
      ...defaultShareGroupHeartbeatRequest(),
      groupId: group,
      memberId: "initializer",
      memberEpoch,
      subscribedTopicNames: memberEpoch === 0 ? [topic] : null,
    });
  assert.equal((await hb(0)).errorCode, 0);
  const f = await c.call(SHARE_FETCH_API, 1, {
    ...defaultShareFetchRequest(),
    groupId: group,
    memberId: "initializer",
    shareSessionEpoch: 0,
    maxRecords: 1,
    batchSize: 1,
    topics: [{
      topicId,
      partitions: [{ partitionIndex: 0, partitionMaxBytes: 0, acknowledgementBatches: [] }],
    }],
  });
  assert.equal(f.errorCode, 0);
  assert.equal((await hb(-1)).errorCode, 0);
}

function shareConsumer(port: number, topic: string, group: string, extra: string[]): Run {
  return runAny(java, [
    "share-consume",
    "--bootstrap",
    `127.0.0.1:${port}`,
    "--topic",
    topic,
    "--group",
    group,
    "--timeout-ms",
    "60000",
    ...extra,
  ], 100_000);
}

async function members(meta: MemoryMetaStore, group: string): Promise<number> {
  const g = await meta.getGroup(group);
  return g ? JSON.parse(g.state).members.length : 0;
}

Deno.test({
  name: "three Java share consumers on one partition receive every record once between them",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await java.check();
    const meta = new MemoryMetaStore();
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const topicId = await createTopic(c, "queue", 1);
    await startAtZero(c, "workers", "queue", topicId);
    const stop = await Deno.makeTempFile({ prefix: "skb-share-stop-" });
    await Deno.remove(stop);
    const runs = [0, 1, 2].map(() =>
      shareConsumer(broker.port, "queue", "workers", ["--stop-file", stop])
    );
    try {
      // All three in the group before the records exist, so that they share them.
      for (let i = 0; i < 300 && await members(meta, "workers") < 3; i++) await sleep(100);
      assert.equal(await members(meta, "workers"), 3, "three members joined");
      const N = 30_000;
      const t0 = performance.now();
      for (let i = 0; i < N; i += 500) await produceAll(c, "queue", 1, i, 500);
      // Done when the share-partition start offset reaches the end: every record acknowledged.
      let start = 0;
      for (let i = 0; i < 900 && start < N; i++) {
        await sleep(100);
        const s = await meta.getShareState("workers", topicId, 0);
        start = s ? JSON.parse(s.state).start : 0;
      }
      const secs = (performance.now() - t0) / 1000;
      console.log(`${N} records produced and acknowledged in ${secs.toFixed(1)} s`);
      assert.equal(start, N, "every record acknowledged");
    } finally {
      await Deno.writeTextFile(stop, "");
    }
    const outs = await Promise.all(runs.map((r) => r.done));
    await Deno.remove(stop).catch(() => {});
    const acked = new Map<number, number>();
    const perConsumer: number[] = [];
    // A record's first delivery (delivery count 1) happens once.
    const firstTo = new Map<number, number>();
    for (const [k, out] of outs.entries()) {
      assert.equal(out.code, 0, `consumer ${k}: ${out.stderr.slice(-2000)}`);
      let n = 0;
      for (const l of lines(out.stdout)) {
        if (l.o !== undefined && l.dc === 1) {
          assert.equal(firstTo.get(l.o), undefined, `offset ${l.o} first delivered twice`);
          firstTo.set(l.o, k);
        }
        for (const [, o] of l.acked ?? []) {
          assert.equal(
            acked.get(o),
            undefined,
            `offset ${o} acknowledged by ${acked.get(o)} and ${k}`,
          );
          acked.set(o, k);
          n++;
        }
      }
      perConsumer.push(n);
    }
    console.log(`acknowledged per consumer: ${perConsumer.join(", ")}`);
    assert.equal(acked.size, 30_000);
    for (let o = 0; o < 30_000; o++) assert.ok(acked.has(o), `offset ${o} never acknowledged`);
    assert.ok(perConsumer.filter((n) => n > 0).length >= 2, "the records were shared");
  },
});

Deno.test({
  name:
    "records a Java share consumer closes on or releases are redelivered with a higher delivery count",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await java.check();
    const meta = new MemoryMetaStore();
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const topicId = await createTopic(c, "jobs", 1);
    await startAtZero(c, "crew", "jobs", topicId);
    const N = 200;
    for (let i = 0; i < N; i += 20) await produceAll(c, "jobs", 1, i, 20);
    const seen = new Map<number, number>();
    const note = (stdout: string) => {
      const got: number[] = [];
      for (const l of lines(stdout)) {
        if (l.o === undefined) continue;
        assert.equal(l.dc, (seen.get(l.o) ?? 0) + 1, `delivery count of offset ${l.o}`);
        got.push(l.o);
      }
      for (const o of got) seen.set(o, (seen.get(o) ?? 0) + 1);
      return got;
    };
    // The first closes without acknowledging what it got; the second releases what it got.
    const t0 = performance.now();
    const closed = await shareConsumer(broker.port, "jobs", "crew", ["--ack", "none"]).done;
    assert.equal(closed.code, 0, closed.stderr.slice(-2000));
    const first = note(closed.stdout);
    assert.ok(first.length > 0, "the first consumer got records");
    const released = await shareConsumer(broker.port, "jobs", "crew", ["--ack", "release"]).done;
    assert.equal(released.code, 0, released.stderr.slice(-2000));
    const second = note(released.stdout);
    assert.ok(second.length > 0);
    assert.ok(second.some((o) => first.includes(o)), "the second got the first's records again");
    // The third acknowledges everything: each record once, counted from its earlier deliveries.
    const last = await shareConsumer(broker.port, "jobs", "crew", ["--count", String(N)]).done;
    assert.equal(last.code, 0, last.stderr.slice(-2000));
    const third = note(last.stdout);
    assert.deepEqual([...third].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i));
    assert.ok(
      [...seen.values()].some((n) => n === 3),
      "some records were delivered three times (closed on, released, accepted)",
    );
    console.log(
      `deliveries: first ${first.length}, second ${second.length}, third ${third.length}`,
    );
    const s = JSON.parse((await meta.getShareState("crew", topicId, 0))!.state);
    assert.equal(s.start, N);
    // Bounded well below the 30 s acquisition lock: records came back at once.
    assert.ok(
      performance.now() - t0 < 30_000,
      "redelivered without waiting for the lock to expire",
    );
  },
});

Deno.test("kafka-console-share-consumer reads from the start with share.auto.offset.reset=earliest", async () => {
  const meta = new MemoryMetaStore();
  await using broker = await testBroker({ meta });
  await using c = await WireClient.connect(broker.port);
  const topicId = await createTopic(c, "console", 1);
  await produceAll(c, "console", 1, 0, 50);
  const set = await c.call(INCREMENTAL_ALTER_CONFIGS_API, 1, {
    resources: [{
      resourceType: 32,
      resourceName: "console-group",
      configs: [{ name: "share.auto.offset.reset", configOperation: 0, value: "earliest" }],
    }],
    validateOnly: false,
  });
  assert.equal(set.responses[0].errorCode, 0, set.responses[0].errorMessage ?? "");
  const run = await runKafkaTool("kafka-console-share-consumer", [
    "--bootstrap-server",
    `127.0.0.1:${broker.port}`,
    "--topic",
    "console",
    "--group",
    "console-group",
    "--max-messages",
    "50",
    "--timeout-ms",
    "30000",
  ], 60_000);
  assert.equal(run.code, 0, run.stderr.slice(-2000));
  const values = run.stdout.split("\n").filter((l) => l.startsWith("v"));
  assert.deepEqual(values, Array.from({ length: 50 }, (_, i) => `v${i}`));
  // Implicit acknowledgement: what was consumed is acknowledged (by the next poll or the close).
  for (let i = 0; i < 50; i++) {
    const s = await meta.getShareState("console-group", topicId, 0);
    if (s && JSON.parse(s.state).start === 50) break;
    await sleep(100);
  }
  assert.equal(
    JSON.parse((await meta.getShareState("console-group", topicId, 0))!.state).start,
    50,
  );
  // kafka-share-groups --describe (ShareGroupDescribe + DescribeShareGroupOffsets v1): start 50, lag 5.
  await produceAll(c, "console", 1, 50, 5);
  const d = await runKafkaTool("kafka-share-groups", [
    "--bootstrap-server",
    `127.0.0.1:${broker.port}`,
    "--describe",
    "--group",
    "console-group",
  ], 60_000);
  assert.equal(d.code, 0, d.stderr.slice(-2000));
  const row = d.stdout.split("\n").find((l) => l.startsWith("console-group"));
  assert.ok(row, d.stdout);
  assert.deepEqual(row.trim().split(/\s+/).slice(0, 5), [
    "console-group",
    "console",
    "0",
    "50",
    "5",
  ]);
  // --reset-offsets --to-earliest (AlterShareGroupOffsets), then --delete-offsets.
  const tool = (args: string[]) =>
    runKafkaTool("kafka-share-groups", [
      "--bootstrap-server",
      `127.0.0.1:${broker.port}`,
      "--group",
      "console-group",
      ...args,
    ], 60_000);
  const reset = await tool(["--reset-offsets", "--topic", "console", "--to-earliest", "--execute"]);
  assert.equal(reset.code, 0, reset.stderr.slice(-2000) + reset.stdout);
  assert.equal(JSON.parse((await meta.getShareState("console-group", topicId, 0))!.state).start, 0);
  const del = await tool(["--delete-offsets", "--topic", "console"]);
  assert.equal(del.code, 0, del.stderr.slice(-2000) + del.stdout);
  assert.equal(await meta.getShareState("console-group", topicId, 0), null);
  // --delete (DeleteGroups): the empty share group goes.
  assert.notEqual(await meta.getGroup("console-group"), null);
  const gone = await tool(["--delete"]);
  assert.equal(gone.code, 0, gone.stderr.slice(-2000) + gone.stdout);
  assert.equal(await meta.getGroup("console-group"), null);
  const list = await runKafkaTool("kafka-share-groups", [
    "--bootstrap-server",
    `127.0.0.1:${broker.port}`,
    "--list",
  ], 60_000);
  assert.equal(list.code, 0, list.stderr.slice(-2000));
  assert.ok(!list.stdout.split("\n").includes("console-group"), list.stdout);
});

Deno.test({
  name: "Java share consumers spread over two brokers sharing the stores get each record once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await java.check();
    const meta = new MemoryMetaStore();
    const log = new MemoryLogStore();
    await using a = await testBroker({ meta, log });
    await using b = await testBroker({ meta, log });
    await using c = await WireClient.connect(a.port);
    const topicId = await createTopic(c, "spread", 1);
    await startAtZero(c, "pair", "spread", topicId);
    const stop = await Deno.makeTempFile({ prefix: "skb-share-stop-" });
    await Deno.remove(stop);
    const runs = [a.port, b.port, b.port].map((port) =>
      shareConsumer(port, "spread", "pair", ["--stop-file", stop])
    );
    const N = 6000;
    try {
      for (let i = 0; i < 300 && await members(meta, "pair") < 3; i++) await sleep(100);
      assert.equal(await members(meta, "pair"), 3, "three members joined");
      for (let i = 0; i < N; i += 500) await produceAll(c, "spread", 1, i, 500);
      let start = 0;
      for (let i = 0; i < 900 && start < N; i++) {
        await sleep(100);
        const s = await meta.getShareState("pair", topicId, 0);
        start = s ? JSON.parse(s.state).start : 0;
      }
      assert.equal(start, N, "every record acknowledged");
    } finally {
      await Deno.writeTextFile(stop, "");
    }
    const outs = await Promise.all(runs.map((r) => r.done));
    await Deno.remove(stop).catch(() => {});
    const delivered = new Map<number, number>();
    const perBroker = [0, 0];
    for (const [k, out] of outs.entries()) {
      assert.equal(out.code, 0, `consumer ${k}: ${out.stderr.slice(-2000)}`);
      for (const l of lines(out.stdout)) {
        if (l.o === undefined) continue;
        // Never delivered to two consumers: every record was delivered exactly once.
        assert.equal(
          delivered.get(l.o),
          undefined,
          `offset ${l.o} to ${delivered.get(l.o)} and ${k}`,
        );
        delivered.set(l.o, k);
        perBroker[k === 0 ? 0 : 1]++;
      }
    }
    assert.equal(delivered.size, N);
    console.log(`delivered through broker a: ${perBroker[0]}, through broker b: ${perBroker[1]}`);
    assert.ok(perBroker[0] > 0 && perBroker[1] > 0, "both brokers served records");
  },
});

Deno.test({
  name: "a Java share consumer in a read_committed share group never gets an aborted transaction",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await java.check();
    const meta = new MemoryMetaStore();
    await using broker = await testBroker({ meta, groupInitialRebalanceDelayMs: 0 });
    await using c = await WireClient.connect(broker.port);
    const topicId = await createTopic(c, "ledger", 1);
    await setGroupConfigs(c, "rc", {
      "share.auto.offset.reset": "earliest",
      "share.isolation.level": "read_committed",
    });
    // 0-2 committed (marker 3), 4-6 aborted (marker 7), 8 plain, 9-10 committed (marker 11).
    const p = await txnProducer(c, "ledger-java", "ledger");
    await p.send(0, 3);
    await p.end(true);
    await p.send(4, 3);
    await p.end(false);
    await produceAll(c, "ledger", 1, 8, 1);
    await p.send(9, 2);
    await p.end(true);
    const out = await shareConsumer(broker.port, "ledger", "rc", ["--count", "6"]).done;
    assert.equal(out.code, 0, out.stderr.slice(-2000));
    const got = lines(out.stdout).filter((l) => l.o !== undefined).map((l) => l.o!);
    assert.deepEqual(got.sort((a, b) => a - b), [0, 1, 2, 8, 9, 10]);
    // The markers were acknowledged as gaps and the aborted records archived: all 12 offsets done.
    let start = 0;
    for (let i = 0; i < 50 && start < 12; i++) {
      const s = await meta.getShareState("rc", topicId, 0);
      start = s ? JSON.parse(s.state).start : 0;
      if (start < 12) await sleep(100);
    }
    assert.equal(start, 12);
  },
});
