/**
 * Apache Kafka 4.4's own command-line tools against an in-process broker, as
 * an operator would run them: kafka-log-dirs (DescribeLogDirs), kafka-topics
 * --describe (DescribeTopicPartitions, paged), kafka-leader-election
 * (ElectLeaders), kafka-reassign-partitions --list
 * (ListPartitionReassignments) and kafka-broker-api-versions. The JVMs run side
 * by side to keep the test short.
 */

import assert from "node:assert/strict";
import { DESCRIBE_LOG_DIRS_API } from "../protocol/generated/mod.ts";
import { testBroker } from "./broker_util.ts";
import { type KafkaTool, runKafkaTool } from "./kafka_tools.ts";
import { batchOf, createTopic, produceAll } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";

/** Requests the broker has handled for one API, in any version. */
function requestsOf(metrics: { requests: Map<string, number> }, api: string): number {
  let n = 0;
  for (const [k, v] of metrics.requests) if (k.includes(`api="${api}"`)) n += v;
  return n;
}

/** The admin APIs these tools need; none may be UNSUPPORTED. */
const ADMIN_APIS = [
  "AlterReplicaLogDirs(34)",
  "DescribeLogDirs(35)",
  "ElectLeaders(43)",
  "AlterPartitionReassignments(45)",
  "ListPartitionReassignments(46)",
  "DescribeTopicPartitions(75)",
];

Deno.test({
  name: "Kafka 4.4's admin tools describe log dirs, topics, elections and reassignments",
  // The JVMs' own threads outlive nothing of ours, but Deno.Command resources are awaited.
  async fn(t) {
    await using broker = await testBroker();
    await using c = await WireClient.connect(broker.port);
    const bootstrap = `127.0.0.1:${broker.port}`;
    await createTopic(c, "logs-a", 3);
    await createTopic(c, "logs-b", 1);
    // Two produces to every partition of logs-a, one to logs-b: sizes differ by topic.
    for (const from of [0, 10]) {
      for (const p of await produceAll(c, "logs-a", 3, from)) assert.equal(p.errorCode, 0);
    }
    for (const p of await produceAll(c, "logs-b", 1, 100)) assert.equal(p.errorCode, 0);

    const run = (tool: KafkaTool, ...args: string[]) =>
      runKafkaTool(tool, ["--bootstrap-server", bootstrap, ...args], 45_000);
    const [logDirs, topics, election, reassign, versions] = await Promise.all([
      run("kafka-log-dirs", "--describe"),
      run("kafka-topics", "--describe", "--partition-size-limit-per-response", "2"),
      run("kafka-leader-election", "--election-type", "preferred", "--all-topic-partitions"),
      run("kafka-reassign-partitions", "--list"),
      run("kafka-broker-api-versions"),
    ]);

    await t.step(
      "kafka-log-dirs lists every partition with the sizes DescribeLogDirs gives",
      async () => {
        assert.equal(logDirs.code, 0, logDirs.stderr);
        const json = JSON.parse(logDirs.stdout.split("\n").find((l) => l.startsWith("{"))!);
        const ours = await c.call(DESCRIBE_LOG_DIRS_API, 5, { topics: null });
        const dir = ours.results[0];
        const want = dir.topics.flatMap((tp) =>
          tp.partitions.map((p) => ({
            partition: `${tp.name}-${p.partitionIndex}`,
            size: p.partitionSize,
            offsetLag: 0,
            isFuture: false,
          }))
        );
        // The tool lists partitions in its own map's order: compare them sorted.
        const byName = (a: { partition: string }, b: { partition: string }) =>
          a.partition < b.partition ? -1 : 1;
        for (const d of json.brokers?.[0]?.logDirs ?? []) d.partitions?.sort(byName);
        assert.deepEqual(json, {
          brokers: [{
            broker: 0,
            logDirs: [{ partitions: [...want].sort(byName), error: null, logDir: "memory:" }],
          }],
          version: 1,
        }, logDirs.stdout);
        // The sizes are the bytes produced: two batches in each of logs-a's partitions, one in logs-b's.
        const size = (name: string) => want.find((w) => w.partition === name)?.size;
        const a = batchOf(0, 10).length + batchOf(10, 10).length;
        for (const p of [0, 1, 2]) assert.equal(size(`logs-a-${p}`), a, `logs-a-${p}`);
        assert.equal(size("logs-b-0"), batchOf(100, 10).length, "logs-b-0");
      },
    );

    await t.step("kafka-topics --describe pages with DescribeTopicPartitions", () => {
      assert.equal(topics.code, 0, topics.stderr);
      // The tool prints topics in the order its own map holds them: compare them sorted.
      const lines = topics.stdout.trim().split("\n").map((l) => l.trim().split("\t"))
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const heads = lines.filter((l) => l[0].startsWith("Topic:") && l[1].startsWith("TopicId:"));
      assert.deepEqual(heads.map((l) => [l[0], l[2], l[3]]), [
        ["Topic: logs-a", "PartitionCount: 3", "ReplicationFactor: 1"],
        ["Topic: logs-b", "PartitionCount: 1", "ReplicationFactor: 1"],
      ], topics.stdout);
      const parts = lines.filter((l) => l[1]?.startsWith("Partition:"));
      assert.deepEqual(
        parts,
        [
          ...[0, 1, 2].map((p) => ["Topic: logs-a", `Partition: ${p}`]),
          ["Topic: logs-b", "Partition: 0"],
        ].map(([tp, p]) => [tp, p, "Leader: 0", "Replicas: 0", "Isr: 0", "Elr: ", "LastKnownElr:"]),
      );
      // Four partitions at two a page: the tool asked at least twice.
      assert.ok(requestsOf(broker.context.metrics, "DescribeTopicPartitions") >= 2);
    });

    await t.step("kafka-leader-election finds no election needed", () => {
      assert.equal(election.code, 0, election.stderr);
      // As with Kafka: partitions whose preferred leader leads are not listed at all.
      assert.equal(election.stdout.trim(), "");
      assert.equal(requestsOf(broker.context.metrics, "ElectLeaders"), 1);
    });

    await t.step("kafka-reassign-partitions --list finds none in progress", () => {
      assert.equal(reassign.code, 0, reassign.stderr);
      assert.equal(reassign.stdout.trim(), "No partition reassignments found.");
    });

    await t.step("kafka-broker-api-versions lists the admin APIs as supported", () => {
      assert.equal(versions.code, 0, versions.stderr);
      for (const api of ADMIN_APIS) {
        const line = versions.stdout.split("\n").find((l) => l.trim().startsWith(api));
        assert.ok(line, `${api} is listed`);
        assert.doesNotMatch(line, /UNSUPPORTED/, line);
      }
    });
  },
});
