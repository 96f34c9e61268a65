/**
 * kafka-python 3.x's KafkaAdminClient against an in-process broker: the calls
 * kafka-python's own admin integration tests make (describe_log_dirs,
 * describe_metadata_quorum, elect_leaders, alter/list_partition_reassignments,
 * describe_topic_partitions, describe_topics, topics, partitions, configs,
 * groups, delete_records), asserted the way those tests assert them. The
 * client negotiates versions with ApiVersions (no api_version pinned), so a
 * broker it took for too old would answer IncompatibleBrokerVersion.
 *
 * kafka-python comes from scripts/install_test_deps.sh; missing, the test fails
 * saying so (never skips).
 */

import assert from "node:assert/strict";
import { ROOT, testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic, produceAll, within } from "./helpers.ts";

const KAFKA_PYTHON = "3.0.12";
const SCRIPT = new URL("tests/clients/python/kafka_python_admin.py", ROOT).pathname;
const TOPIC = "kp-data";
const PARTITIONS = 4;
const OTHER = "kp-other";
const GROUP = "kp-group";
/** Records produced to every partition of both topics: three batches of ten. */
const RECORDS = 30;

/** Runs `python3 args`, killed after `timeoutMs`. */
async function python(args: string[], timeoutMs: number) {
  const child = new Deno.Command("python3", {
    args,
    stdout: "piped",
    stderr: "piped",
    cwd: new URL(".", ROOT).pathname,
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Fails, naming the install script, unless python3 imports kafka-python KAFKA_PYTHON. */
async function checkKafkaPython(): Promise<void> {
  let why: string;
  try {
    const out = await python(["-c", "import kafka; print(kafka.__version__)"], 30_000);
    const version = out.stdout.trim();
    if (out.code === 0 && version === KAFKA_PYTHON) return;
    why = out.code === 0
      ? `python3 has kafka-python ${version}, not ${KAFKA_PYTHON}`
      : `python3 cannot import kafka: ${out.stderr.trim().slice(-300)}`;
  } catch (e) {
    why = `python3 does not run: ${(e as Error).message}`;
  }
  throw new Error(
    `kafka-python ${KAFKA_PYTHON} is not available (${why}). Install the test dependencies ` +
      "with: bash scripts/install_test_deps.sh",
  );
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** assert.deepEqual as a plain function (no assertion signature), for brevity. */
function eq(actual: unknown, expected: unknown, message?: string): void {
  assert.deepEqual(actual, expected, message);
}
interface Line {
  call: string;
  ok?: Json;
  error?: string;
  message?: string;
}

Deno.test("kafka-python admin client: log dirs, quorum, reassignments, elections, DescribeTopicPartitions and the rest", async () => {
  await checkKafkaPython();
  await using broker = await testBroker();
  {
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, TOPIC, PARTITIONS);
    await createTopic(c, OTHER, 1);
    for (let from = 0; from < RECORDS; from += 10) {
      for (const [topic, n] of [[TOPIC, PARTITIONS], [OTHER, 1]] as const) {
        const answers = await produceAll(c, topic, n, from);
        assert(answers.every((p) => p.errorCode === 0), `produce to ${topic}`);
      }
    }
  }

  const run = await within(
    python([
      SCRIPT,
      ...["--bootstrap", `127.0.0.1:${broker.port}`, "--topic", TOPIC],
      ...["--partitions", String(PARTITIONS), "--other-topic", OTHER, "--group", GROUP],
      ...["--timeout-ms", "10000"],
    ], 150_000),
    160_000,
    "kafka_python_admin.py",
  );
  const context = `kafka_python_admin.py exited ${run.code}\nstdout:\n${
    run.stdout.slice(-4000)
  }\nstderr:\n${run.stderr.slice(-3000)}`;
  assert.equal(run.code, 0, context);
  const lines: Line[] = run.stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const byCall = new Map(lines.map((l) => [l.call, l]));

  // Nothing was refused as too new or too old, anywhere in any answer.
  for (const l of lines) {
    const text = JSON.stringify(l);
    assert(
      !/IncompatibleBrokerVersion|UnsupportedVersion|UnrecognizedBrokerVersion/.test(text),
      `${l.call} hit a version refusal: ${text.slice(0, 1000)}`,
    );
  }
  /** The result of a call that must have succeeded. */
  const ok = (call: string): Json => {
    const l = byCall.get(call);
    assert(l, `no line for ${call}\n${context}`);
    assert(
      l.error === undefined,
      `${call} failed: ${l.error}: ${l.message}`,
    );
    return l.ok;
  };

  eq(ok("version"), KAFKA_PYTHON);

  // describe_cluster: this broker, our cluster id, ourselves as the controller.
  const cluster = ok("describe_cluster");
  eq(cluster.cluster_id, broker.clusterId);
  eq(cluster.controller_id, 0);
  eq(cluster.brokers.map((b: Json) => [b.broker_id, b.host, b.port]), [
    [0, "127.0.0.1", broker.port],
  ]);
  eq(ok("brokers"), [0]);

  // describe_metadata_quorum: __cluster_metadata-0 led by our node, its only voter.
  const quorum = ok("describe_metadata_quorum");
  eq(quorum.topics.length, 1);
  eq(quorum.topics[0].topic_name, "__cluster_metadata");
  eq(quorum.topics[0].partitions.length, 1);
  const qp = quorum.topics[0].partitions[0];
  eq(qp.partition_index, 0);
  eq(qp.error, null);
  eq(qp.leader_id, 0);
  assert(qp.leader_epoch >= 0, `leader epoch ${qp.leader_epoch}`);
  eq(qp.current_voters.map((v: Json) => v.replica_id), [0]);
  eq(qp.observers, []);

  // describe_log_dirs (test_describe_log_dirs): every broker, each with a log dir and no error;
  // every partition written to is listed with its size.
  const sizes = (logDirs: Json) => {
    eq(logDirs.map((b: Json) => b.broker), [0], "one answer per broker");
    const dirs = logDirs[0].log_dirs;
    assert(dirs.length > 0, "the broker has a log dir");
    const out = new Map<string, number>();
    for (const d of dirs) {
      assert("log_dir" in d && typeof d.log_dir === "string", "log_dir named");
      eq(d.error_code, 0, `log dir ${d.log_dir}`);
      for (const t of d.topics) {
        for (const p of t.partitions) out.set(`${t.name}/${p.partition_index}`, p.partition_size);
      }
    }
    return out;
  };
  const all = sizes(ok("describe_log_dirs"));
  const written = [
    ...Array.from({ length: PARTITIONS }, (_, p) => `${TOPIC}/${p}`),
    `${OTHER}/0`,
  ];
  for (const tp of written) assert((all.get(tp) ?? 0) > 0, `log dirs: ${tp} has a size > 0`);
  const scoped = sizes(ok("describe_log_dirs_topic"));
  eq([...scoped.keys()].sort(), written.slice(0, PARTITIONS), "scoped to the topic asked for");
  for (const size of scoped.values()) assert(size > 0);

  const features = ok("describe_features");
  assert(features["metadata.version"]?.finalized, "metadata.version finalized");

  // list_topics / describe_topics: both topics; every partition led by node 0.
  const topics: string[] = ok("list_topics");
  assert(topics.includes(TOPIC) && topics.includes(OTHER), `list_topics: ${topics}`);
  const described = ok("describe_topics");
  eq(described.map((t: Json) => [t.name, t.error_code, t.partitions.length]), [
    [TOPIC, 0, PARTITIONS],
    [OTHER, 0, 1],
  ]);
  for (const t of described) {
    for (const p of t.partitions) {
      eq([p.error_code, p.leader_id, p.replica_nodes, p.isr_nodes], [0, 0, [0], [0]]);
    }
  }

  // describe_topic_partitions (test_describe_topic_partitions[_pagination]).
  const dtp = ok("describe_topic_partitions");
  assert("topics" in dtp && "next_cursor" in dtp);
  eq(dtp.next_cursor, null);
  eq(dtp.topics.length, 1);
  const dt = dtp.topics[0];
  eq([dt.name, dt.error_code, dt.is_internal], [TOPIC, 0, false]);
  eq(dt.topic_id, described[0].topic_id, "the same topic id as Metadata");
  eq(dt.partitions.map((p: Json) => p.partition_index), [0, 1, 2, 3]);
  for (const p of dt.partitions) {
    eq(p.error_code, 0);
    assert(p.leader_id >= 0, `leader ${p.leader_id}`);
    assert(p.replica_nodes.length >= 1);
  }
  const paged = ok("describe_topic_partitions_paged");
  eq(paged.first.topics[0].partitions.map((p: Json) => p.partition_index), [0]);
  eq(paged.first.next_cursor, { topic_name: TOPIC, partition_index: 1 });
  assert(paged.next, "the cursor was followed");
  eq(paged.next.topics[0].partitions.map((p: Json) => p.partition_index), [1, 2, 3]);
  eq(paged.next.next_cursor, null);

  // elect_leaders (test_elect_leaders): one topic, every partition ELECTION_NOT_NEEDED (84).
  const elect = ok("elect_leaders");
  eq(elect.error_code, 0);
  eq(elect.replica_election_results.length, 1);
  const er = elect.replica_election_results[0];
  eq(er.topic, TOPIC);
  eq(
    er.partition_result.map((p: Json) => [p.partition_id, p.error_code]).sort(),
    [[0, 84], [1, 84], [2, 84], [3, 84]],
  );

  // alter/list_partition_reassignments: onto the one broker is accepted; none in progress.
  eq(ok("alter_partition_reassignments"), { [`${TOPIC}/0`]: null });
  eq(ok("list_partition_reassignments"), {});
  eq(ok("list_partition_reassignments_scoped"), {});

  // create_topics / create_partitions / delete_topics (test_create_delete_topics,
  // test_create_partitions).
  const created: string[] = [];
  for (const call of ["create_topics_newtopic", "create_topics_dict", "create_topics_names"]) {
    const r = ok(call);
    eq(r.topics.length, 1, call);
    eq(r.topics[0].error_code, 0, call);
    created.push(r.topics[0].name);
  }
  const grown = ok("create_partitions");
  eq(grown.results.map((r: Json) => [r.name, r.error_code]), [[created[0], 0]]);
  eq(ok("describe_topics_grown")[0].partitions.length, 3);
  eq(
    ok("delete_topics").topics.map((t: Json) => [t.name, t.error_code]),
    created.map((n) => [n, 0]),
  );

  // describe_configs (test_describe_configs_*).
  const brokerConfigs = ok("describe_configs_broker").broker["0"];
  assert(Object.keys(brokerConfigs).length > 1, "broker configs");
  const al = brokerConfigs["advertised.listeners"];
  assert(al, "advertised.listeners described");
  eq(al.config_source, "STATIC_BROKER_CONFIG");
  assert(["LIST", "STRING"].includes(al.config_type), al.config_type);
  eq([al.read_only, al.is_sensitive, al.synonyms], [true, false, []]);
  assert("value" in al);
  // Nothing set dynamically: "modified" (kafka-python's default filter) keeps nothing.
  eq(ok("describe_configs_broker_modified"), { broker: { "0": {} } });
  const rb = ok("describe_configs_topic").topic[TOPIC]["retention.bytes"];
  assert(rb, "retention.bytes described");
  eq(
    [rb.config_source, rb.config_type, rb.read_only, rb.is_sensitive, rb.synonyms, rb.value],
    ["DEFAULT_CONFIG", "LONG", false, false, [], "-1"],
  );
  const mixed = ok("describe_configs_mixed");
  assert(Object.keys(mixed.topic[TOPIC]).length > 1, "topic configs in the mixed answer");
  assert(Object.keys(mixed.broker["0"]).length > 1, "broker configs in the mixed answer");
  eq(ok("describe_configs_invalid_broker_id"), "ValueError");
  eq(ok("alter_configs"), { topic: { [OTHER]: "OK" } });
  const altered = ok("describe_configs_altered").topic[OTHER];
  eq(Object.keys(altered), ["retention.ms"], "only the altered key is modified");
  eq([altered["retention.ms"].value, altered["retention.ms"].config_source], [
    "3600000",
    "DYNAMIC_TOPIC_CONFIG",
  ]);

  // Groups (test_describe_consumer_group_exists, test_delete_consumer_groups[_with_errors]).
  eq(ok("consumer_assignment"), [0, 1, 2, 3].map((p) => `${TOPIC}/${p}`));
  const listed = ok("list_groups").filter((g: Json) => g.group_id === GROUP);
  eq(listed.length, 1, "list_groups has the group");
  eq([listed[0].group_state, listed[0].protocol_type], ["Stable", "consumer"]);
  const group = ok("describe_groups")[GROUP];
  assert(group, "describe_groups has the group");
  eq([group.error, group.group_state, group.protocol_type], [null, "Stable", "consumer"]);
  // kafka-python asks for them (KIP-430); with no ACLs, every group operation, as Kafka 4.4.
  eq(group.authorized_operations, [
    "READ",
    "DELETE",
    "DESCRIBE",
    "DESCRIBE_CONFIGS",
    "ALTER_CONFIGS",
  ]);
  eq(group.members.length, 1);
  const member = group.members[0];
  eq(member.member_metadata.topics, [TOPIC]);
  eq(member.member_assignment.assigned_partitions, [{ topic: TOPIC, partitions: [0, 1, 2, 3] }]);
  eq(ok("delete_groups_live"), {
    [GROUP]: "NonEmptyGroupError",
    [`${GROUP}-missing`]: "GroupIdNotFoundError",
  });
  const offsets = ok("list_group_offsets")[GROUP];
  eq(
    Object.entries(offsets).map(([tp, o]) => [tp, (o as Json)[0]]).sort(),
    [0, 1, 2, 3].map((p) => [`${TOPIC}/${p}`, RECORDS]),
    "the consumer's commits",
  );
  eq(ok("delete_groups"), { [GROUP]: "OK" });
  assert(!ok("list_groups_after").some((g: Json) => g.group_id === GROUP), "the group is gone");

  // delete_records (test_delete_records[_with_errors]).
  eq(ok("delete_records"), {
    [`${OTHER}/0`]: { low_watermark: 1, error_code: 0, partition_index: 0 },
  });
  const unknown = byCall.get("delete_records_unknown");
  eq(unknown?.error, "UnknownTopicOrPartitionError", JSON.stringify(unknown));
});
