/**
 * Apache Kafka 4.4's own command-line tools against an in-process broker:
 * kafka-features describe (the levels in ApiVersions), kafka-features upgrade
 * (UpdateFeatures, dry run and refusal), kafka-metadata-quorum describe
 * --status and --replication (DescribeQuorum) and kafka-broker-api-versions.
 * The lines asserted on are the ones Kafka 4.4 printed against itself, with
 * our node id, address and levels. The JVMs run side by side to keep the test
 * short.
 */

import assert from "node:assert/strict";
import { testBroker } from "./broker_util.ts";
import { type KafkaTool, runKafkaTool, type ToolRun } from "./kafka_tools.ts";

/** The APIs these tools use, as kafka-broker-api-versions names them, with our versions. */
const CLUSTER_APIS = [
  "DescribeQuorum(55): 0 to 2 [usable: 2]",
  "UpdateFeatures(57): 0 to 2 [usable: 2]",
  "UnregisterBroker(64): 0 [usable: 0]",
  "AddRaftVoter(80): 0 to 1 [usable: 1]",
  "RemoveRaftVoter(81): 0 [usable: 0]",
  "UnregisterController(94): 0 [usable: 0]",
];

/** A tool's output lines, each with its runs of whitespace made one space. */
function lines(run: ToolRun): string[] {
  return run.stdout.split("\n").map((l) => l.trim().replace(/\s+/g, " ")).filter((l) => l !== "");
}

Deno.test("Kafka 4.4's features and metadata-quorum tools describe one broker as the whole quorum", async (t) => {
  await using broker = await testBroker({ nodeId: 3 });
  const bootstrap = `127.0.0.1:${broker.port}`;
  const run = (tool: KafkaTool, ...args: string[]) =>
    runKafkaTool(tool, ["--bootstrap-server", bootstrap, ...args], 60_000);
  const [features, status, replication, versions, dryRun, upgrade] = await Promise.all([
    run("kafka-features", "describe"),
    run("kafka-metadata-quorum", "describe", "--status"),
    run("kafka-metadata-quorum", "describe", "--replication"),
    run("kafka-broker-api-versions"),
    run("kafka-features", "upgrade", "--feature", "group.version=1", "--dry-run"),
    run("kafka-features", "upgrade", "--feature", "eligible.leader.replicas.version=1"),
  ]);

  await t.step("kafka-features describe prints every feature with our levels", () => {
    assert.equal(features.code, 0, features.stderr);
    const f = (name: string, min: string, max: string, level: string) =>
      `Feature: ${name} SupportedMinVersion: ${min} SupportedMaxVersion: ${max} FinalizedVersionLevel: ${level} Epoch: 0`;
    assert.deepEqual(lines(features), [
      f("eligible.leader.replicas.version", "0", "0", "0"),
      f("group.version", "0", "1", "1"),
      f("kraft.version", "0", "0", "0"),
      f("metadata.version", "4.4-IV2", "4.4-IV2", "4.4-IV2"),
      f("share.version", "0", "2", "2"),
      f("streams.version", "0", "1", "1"),
      f("transaction.version", "0", "2", "2"),
    ], features.stdout);
  });

  await t.step("kafka-features upgrade: our own level validates, another is refused", () => {
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /^group\.version can be upgraded to 1\.$/m, dryRun.stdout);
    assert.notEqual(upgrade.code, 0, upgrade.stdout);
    // The first line is on stdout, the count of failures on stderr.
    assert.deepEqual(lines({ ...upgrade, stdout: upgrade.stdout + upgrade.stderr }), [
      "Could not upgrade eligible.leader.replicas.version to 1. The update failed for all features since the following feature had an error: Invalid update version 1 for feature eligible.leader.replicas.version. This broker supports only version 0 and keeps eligible.leader.replicas.version finalized at 0: levels come with the broker's release, since brokers here keep no state to change them.",
      "1 out of 1 operation(s) failed.",
    ], upgrade.stdout + upgrade.stderr);
  });

  await t.step("kafka-metadata-quorum describe --status: this broker leads, alone", () => {
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(lines(status), [
      `ClusterId: ${broker.clusterId}`,
      "LeaderId: 3",
      "LeaderEpoch: 1",
      "HighWatermark: 0",
      "MaxFollowerLag: 0",
      "MaxFollowerLagTimeMs: 0",
      `CurrentVoters: [{"id": 3, "endpoints": ["PLAINTEXT://127.0.0.1:${broker.port}"]}]`,
      "CurrentObservers: []",
    ], status.stdout);
  });

  await t.step("kafka-metadata-quorum describe --replication: one leader, no lag", () => {
    assert.equal(replication.code, 0, replication.stderr);
    const rows = lines(replication);
    assert.equal(
      rows[0],
      "NodeId DirectoryId LogEndOffset Lag LastFetchTimestamp LastCaughtUpTimestamp Status",
    );
    assert.equal(rows.length, 2, replication.stdout);
    const m = /^3 AAAAAAAAAAAAAAAAAAAAAA 0 0 (\d+) (\d+) Leader$/.exec(rows[1]);
    assert.ok(m, rows[1]);
    // The leader reports itself fetched and caught up when it answered.
    const fetched = Number(m[1]);
    assert.equal(Number(m[2]), fetched);
    assert.ok(Math.abs(Date.now() - fetched) < 120_000, rows[1]);
  });

  await t.step("kafka-broker-api-versions lists the cluster APIs as supported", () => {
    assert.equal(versions.code, 0, versions.stderr);
    const listed = lines(versions);
    for (const api of CLUSTER_APIS) {
      assert.ok(listed.some((l) => l.replace(/,$/, "") === api), `${api}\n${versions.stdout}`);
    }
  });
});
