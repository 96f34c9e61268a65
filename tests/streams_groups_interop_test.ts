/**
 * Kafka Streams 4.4 with `group.protocol=streams` (KIP-1071) against a broker
 * process on memory stores: the word count of tests/clients/streams/WordCount.java
 * in two instances (two processes, one stream thread each) shares its four
 * tasks (two subtopologies, two partitions each) through the broker's task
 * assignment, with a standby of each stateful task on the other process
 * (streams.num.standby.replicas=1), counts every word exactly, and when one
 * instance stops its tasks move to the other, which goes on counting; an
 * instance killed with SIGKILL is removed after the session timeout (45 s) and
 * its tasks move too. Kafka 4.4's `kafka-streams-groups --describe`
 * (StreamsGroupCommand) shows the group, its members and offsets, and
 * `--delete` removes the empty group. A second test spreads two instances over
 * two brokers sharing the stores: both brokers serve the group's heartbeats. A
 * third runs exactly_once_v2: its transactional offset commits pass the
 * member-epoch check and the counts are exact. The jars come from Maven Central, resolved by
 * scripts/install_test_deps.sh into .tools/streams/lib and .tools/kafka-tools/lib;
 * without them or Java the test fails saying so.
 */

import assert from "node:assert/strict";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  defaultListGroupsRequest,
  defaultOffsetFetchRequest,
  INCREMENTAL_ALTER_CONFIGS_API,
  LIST_GROUPS_API,
  OFFSET_FETCH_API,
  STREAMS_GROUP_DESCRIBE_API,
  type StreamsGroupDescribeResponseGroup,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { type BrokerProcess, ROOT, spawnBroker, testBroker } from "./broker_util.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { fetchedRecords, fetchPartition, within } from "./helpers.ts";
import { runKafkaTool } from "./kafka_tools.ts";
import { WireClient } from "./wire_client.ts";
import { NINE_WORDS, wordCountInput } from "./word_count_input.ts";

const root = new URL(".", ROOT).pathname;
const STREAMS_LIB = `${root}.tools/streams/lib`;
const WORD_COUNT = `${root}tests/clients/streams/WordCount.java`;
const LOG4J = `${root}tests/clients/streams/log4j2.properties`;
const INSTALL = "run bash scripts/install_test_deps.sh (needs Java 17+ and Maven)";
const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function requireStreams(): Promise<void> {
  try {
    const out = await new Deno.Command("java", { args: ["-version"], stdout: "null" }).output();
    if (!out.success) throw new Error(`exit ${out.code}`);
  } catch (e) {
    throw new Error(`java does not run (${(e as Error).message}): ${INSTALL}`);
  }
  try {
    await Deno.stat(`${STREAMS_LIB}/.stamp`);
  } catch {
    throw new Error(`the Kafka Streams jars are not in ${STREAMS_LIB}: ${INSTALL}`);
  }
}

/** One WordCount instance: stdout lines kept, stderr kept for failure messages. */
class WordCountApp implements AsyncDisposable {
  readonly lines: string[] = [];
  private err = "";
  private readonly child: Deno.ChildProcess;
  private readonly pumps: Promise<unknown>;
  private readonly exited: Promise<Deno.CommandStatus>;
  private gone = false;

  constructor(readonly name: string, args: string[], props: string, cwd: string) {
    this.child = new Deno.Command("java", {
      args: [
        "-Xmx384m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        `-Dlog4j2.configurationFile=${LOG4J}`,
        `-Dskb.log.level=${Deno.env.get("SKB_JAVA_LOG_LEVEL") ?? "WARN"}`,
        "-cp",
        `${STREAMS_LIB}/*`,
        WORD_COUNT,
        ...args,
      ],
      cwd,
      env: { SKB_STREAMS_PROPS: props },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let partial = "";
    const pump = async (s: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) onText(chunk);
    };
    this.pumps = Promise.all([
      pump(this.child.stdout, (t) => {
        const parts = (partial + t).split("\n");
        partial = parts.pop()!;
        this.lines.push(...parts);
      }),
      pump(this.child.stderr, (t) => {
        this.err += t;
        if (this.err.length > 200_000) this.err = this.err.slice(-100_000);
        if (Deno.env.get("SKB_JAVA_LOG_LEVEL")) Deno.stderr.writeSync(enc.encode(t));
      }),
    ]);
    this.exited = this.child.status;
    this.exited.then(() => this.gone = true);
  }

  describe(): string {
    return `${this.name} stdout:\n${this.lines.join("\n")}\n${this.name} stderr (end):\n${
      this.err.slice(-4000)
    }`;
  }

  async waitLine(re: RegExp, ms: number): Promise<string> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit) return hit;
      if (this.gone) {
        throw new Error(`${this.name} exited before printing ${re}\n${this.describe()}`);
      }
      await sleep(100);
    }
    throw new Error(`${this.name} printed no ${re} within ${ms} ms\n${this.describe()}`);
  }

  /** SIGTERM (closes the app, leaving the group), SIGKILL after `ms`; whether it exited so. */
  async stop(ms = 30_000): Promise<boolean> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, ms);
    try {
      const s = await this.exited;
      await this.pumps;
      return s.code === 143 || s.code === 0;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL: a crash, the member never leaves (the broker must notice its silence). */
  async kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.exited;
    await this.pumps;
  }

  async [Symbol.asyncDispose]() {
    await this.stop(5000);
  }
}

async function eventually<T>(ms: number, what: string, check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (e) {
      last = e;
    }
    await sleep(500);
  }
  throw new Error(`${what}: not within ${ms} ms: ${(last as Error)?.message ?? last}`);
}

async function createTopic(c: WireClient, name: string, partitions: number) {
  const req = defaultCreateTopicsRequest();
  req.timeoutMs = 5000;
  req.topics = [{
    ...defaultCreateTopicsRequestTopic(),
    name,
    numPartitions: partitions,
    replicationFactor: -1,
  }];
  const t = (await within(c.call(CREATE_TOPICS_API, 7, req), 30_000, "create")).topics[0];
  assert.equal(t.errorCode, 0, `create ${name}: ${t.errorMessage}`);
  return { name, id: t.topicId };
}

const { expectedCounts, produceLines } = wordCountInput(NINE_WORDS);

/** The latest count of each word in the output topic. */
async function readCounts(
  c: WireClient,
  topic: { name: string; id: string },
  state: { offset: number; counts: Record<string, number> },
) {
  for (let round = 0; round < 1000; round++) {
    const p = await fetchPartition(c, topic, 0, state.offset);
    assert.equal(p.errorCode, 0, "fetch of the output topic");
    const recs = fetchedRecords(p);
    if (recs.length === 0) return;
    for (const [offset, word, count] of recs) {
      state.offset = offset + 1;
      // Transaction markers (exactly-once runs) are control records: key version 0, type 0/1.
      if (word.startsWith("\x00")) continue;
      state.counts[word] = Number(count);
    }
  }
}

async function describeGroup(
  c: WireClient,
  groupId: string,
): Promise<StreamsGroupDescribeResponseGroup> {
  const d = await within(
    c.call(STREAMS_GROUP_DESCRIBE_API, 1, {
      groupIds: [groupId],
      includeAuthorizedOperations: false,
      includeTopologyDescription: false,
    }),
    10_000,
    "describe",
  );
  return d.groups[0];
}

function activeCount(m: StreamsGroupDescribeResponseGroup["members"][number]): number {
  return m.assignment.activeTasks.reduce((n, t) => n + t.partitions.length, 0);
}

function broker(): Promise<BrokerProcess> {
  return spawnBroker([
    "--port",
    "0",
    "--meta",
    "memory:",
    "--log",
    "memory:",
    "--log-level",
    "info",
  ]);
}

Deno.test("Kafka Streams 4.4 with group.protocol=streams: instances share the tasks with standbys, stopped or crashed ones hand them over", async (t) => {
  await requireStreams();
  await using b = await broker();
  await using c = await WireClient.connect(b.port);
  const dir = await Deno.makeTempDir({ prefix: "skb-streams-groups-" });
  const appId = "skb-streams-wc";
  const bootstrap = `127.0.0.1:${b.port}`;
  const app = (n: number) =>
    new WordCountApp(
      `WordCount-${n}`,
      [bootstrap, appId, "lines", "counts", `${dir}/state-${n}`],
      // The KIP-1071 protocol; quick commits so counts show soon; an endpoint for IQ.
      `group.protocol=streams,commit.interval.ms=500,application.server=localhost:${7000 + n}`,
      dir,
    );
  try {
    await createTopic(c, "lines", 2);
    const output = await createTopic(c, "counts", 1);
    const out = { offset: 0, counts: {} as Record<string, number> };
    // One standby replica of each stateful task (KIP-1071 group config), set before the start.
    const alter = await c.call(INCREMENTAL_ALTER_CONFIGS_API, 1, {
      resources: [{
        resourceType: 32,
        resourceName: appId,
        configs: [{ name: "streams.num.standby.replicas", configOperation: 0, value: "1" }],
      }],
      validateOnly: false,
    });
    assert.equal(alter.responses[0].errorCode, 0, String(alter.responses[0].errorMessage));
    await using first = app(1);
    await using second = app(2);
    let running = 2;

    await t.step("two instances share the four tasks and count 4,000 lines", async () => {
      await produceLines(c, "lines", 2, 0, 2000);
      await first.waitLine(/^state \S+ RUNNING$/, 90_000);
      await second.waitLine(/^state \S+ RUNNING$/, 90_000);
      const g = await eventually(90_000, "both members with tasks", async () => {
        const g = await describeGroup(c, appId);
        assert.equal(g.errorCode, 0, String(g.errorMessage));
        assert.equal(g.groupState, "Stable");
        assert.equal(g.members.length, 2);
        for (const m of g.members) assert.ok(activeCount(m) > 0, `${m.processId} has tasks`);
        // The stateful subtopology's tasks (the counts store) each have a standby on the
        // other process; the stateless one's have none.
        for (const m of g.members) {
          const other = g.members.find((x) => x !== m)!;
          const standby = m.assignment.standbyTasks.flatMap((t) =>
            t.partitions.map((p) => `${t.subtopologyId}_${p}`)
          );
          const activeOfOther = other.assignment.activeTasks.filter((t) => t.subtopologyId === "1")
            .flatMap((t) => t.partitions.map((p) => `1_${p}`));
          assert.deepEqual(standby.sort(), activeOfOther.sort(), "standbys of the other's tasks");
        }
        return g;
      });
      // Interactive queries: each member's application.server.
      assert.deepEqual(g.members.map((m) => m.userEndpoint?.port).sort(), [7001, 7002]);
      assert.equal(g.members.reduce((n, m) => n + activeCount(m), 0), 4, "four tasks in all");
      assert.equal(new Set(g.members.map((m) => m.processId)).size, 2);
      // The broker made the internal topics: repartition like its source, changelog compacted.
      const sub = new Map(g.topology!.subtopologies!.map((s) => [s.subtopologyId, s]));
      assert.deepEqual(
        [...sub.values()].flatMap((s) =>
          s.repartitionSourceTopics.map((r) => [r.name, r.partitions])
        ),
        [[`${appId}-counts-repartition`, 2]],
      );
      assert.deepEqual(
        [...sub.values()].flatMap((s) => s.stateChangelogTopics.map((r) => [r.name, r.partitions])),
        [[`${appId}-counts-changelog`, 2]],
      );
      await produceLines(c, "lines", 2, 2000, 4000);
      const want = expectedCounts(4000);
      await eventually(90_000, "counts of 4,000 lines", async () => {
        await readCounts(c, output, out);
        assert.deepEqual(out.counts, want);
      });
    });

    await t.step("kafka-streams-groups --describe shows the group and its members", async () => {
      const run = await runKafkaTool("kafka-streams-groups", [
        "--bootstrap-server",
        bootstrap,
        "--describe",
        "--group",
        appId,
        "--members",
      ]);
      assert.equal(run.code, 0, `kafka-streams-groups failed:\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, new RegExp(appId));
      const g = await describeGroup(c, appId);
      // One line per member: its process and its active tasks (subtopology:[partitions]).
      for (const m of g.members) {
        const row = run.stdout.split("\n").find((l) => l.includes(m.memberId));
        assert.ok(row, `member ${m.memberId} in:\n${run.stdout}`);
        assert.ok(row.includes(m.processId), `process ${m.processId} in ${row}`);
        for (const t of m.assignment.activeTasks) {
          assert.ok(row.includes(`${t.subtopologyId}:[${t.partitions.join(",")}]`), row);
        }
      }
      const offsets = await runKafkaTool("kafka-streams-groups", [
        "--bootstrap-server",
        bootstrap,
        "--describe",
        "--group",
        appId,
      ]);
      assert.equal(
        offsets.code,
        0,
        `kafka-streams-groups failed:\n${offsets.stdout}\n${offsets.stderr}`,
      );
      // Committed offsets of the source and repartition topics, all consumed (lag 0).
      for (const topic of ["lines", `${appId}-counts-repartition`]) {
        for (const p of [0, 1]) {
          assert.match(offsets.stdout, new RegExp(`${appId}\\s+${topic}\\s+${p}\\s+0\\b`));
        }
      }
      const listed = await c.call(LIST_GROUPS_API, 5, {
        ...defaultListGroupsRequest(),
        typesFilter: ["streams"],
      });
      assert.deepEqual(listed.groups.map((x) => [x.groupId, x.groupType]), [[appId, "streams"]]);
    });

    await t.step(
      "one instance stops: its tasks move to the other, which goes on counting",
      async () => {
        assert.ok(
          await second.stop(),
          `the second instance did not exit cleanly\n${second.describe()}`,
        );
        running--;
        const g = await eventually(90_000, "one member with every task", async () => {
          const g = await describeGroup(c, appId);
          assert.equal(g.members.length, 1);
          assert.equal(activeCount(g.members[0]), 4);
          assert.equal(g.groupState, "Stable");
          return g;
        });
        assert.ok(g.members[0].userEndpoint?.port === 7001, "the first instance is left");
        assert.deepEqual(g.members[0].assignment.standbyTasks, [], "no other process for standbys");
        await produceLines(c, "lines", 2, 4000, 5000);
        const want = expectedCounts(5000);
        await eventually(90_000, "counts of 5,000 lines", async () => {
          await readCounts(c, output, out);
          assert.deepEqual(out.counts, want);
        });
      },
    );

    await t.step(
      "a crashed instance (SIGKILL) is removed after streams.session.timeout.ms; the other takes its tasks",
      async () => {
        await using third = app(3);
        running++;
        await third.waitLine(/^state \S+ RUNNING$/, 90_000);
        await eventually(90_000, "the new instance with tasks", async () => {
          const g = await describeGroup(c, appId);
          assert.equal(g.members.length, 2);
          for (const m of g.members) assert.ok(activeCount(m) > 0, `${m.processId} has tasks`);
          assert.equal(g.groupState, "Stable");
        });
        await first.kill();
        running--;
        const crashedAt = Date.now();
        // Kafka's default session timeout (45 s) bounds how long the crashed member's tasks wait.
        const g = await eventually(75_000, "the survivor with every task", async () => {
          const g = await describeGroup(c, appId);
          assert.equal(g.members.length, 1);
          assert.equal(activeCount(g.members[0]), 4);
          assert.equal(g.groupState, "Stable");
          return g;
        });
        assert.equal(g.members[0].userEndpoint?.port, 7003);
        assert.ok(Date.now() - crashedAt >= 40_000, "not before the session timed out");
        await produceLines(c, "lines", 2, 5000, 6000);
        const want = expectedCounts(6000);
        await eventually(90_000, "counts of 6,000 lines", async () => {
          await readCounts(c, output, out);
          assert.deepEqual(out.counts, want);
        });
        assert.ok(
          await third.stop(),
          `the third instance did not exit cleanly\n${third.describe()}`,
        );
        running--;
        await eventually(30_000, "empty group", async () => {
          const g = await describeGroup(c, appId);
          assert.equal(g.groupState, "Empty");
          assert.equal(g.members.length, 0);
        });
      },
    );
    assert.equal(running, 0);

    await t.step("kafka-streams-groups --delete removes the empty group", async () => {
      const run = await runKafkaTool("kafka-streams-groups", [
        "--bootstrap-server",
        bootstrap,
        "--delete",
        "--group",
        appId,
      ]);
      assert.equal(
        run.code,
        0,
        `kafka-streams-groups --delete failed:\n${run.stdout}\n${run.stderr}`,
      );
      const g = await describeGroup(c, appId);
      assert.equal(g.errorCode, ErrorCode.GROUP_ID_NOT_FOUND, run.stdout);
    });
  } catch (e) {
    const refused = b.output().split("\n").filter((l) => /refused|warn|error/i.test(l)).slice(-30);
    throw new Error(`${(e as Error).message}\nbroker (end):\n${refused.join("\n")}`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

/** How many StreamsGroupHeartbeats a broker in this process answered. */
function streamsHeartbeats(b: { context: { metrics: { requests: Map<string, number> } } }): number {
  let n = 0;
  for (const [k, v] of b.context.metrics.requests) if (/api_key="88"/.test(k)) n += v;
  return n;
}

Deno.test({
  name: "Kafka Streams 4.4 with group.protocol=streams over two brokers sharing the stores",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await requireStreams();
    const meta = new MemoryMetaStore();
    const log = new MemoryLogStore();
    await using a = await testBroker({ meta, log });
    await using b = await testBroker({ meta, log });
    await using c = await WireClient.connect(a.port);
    const dir = await Deno.makeTempDir({ prefix: "skb-streams-groups-2-" });
    const appId = "skb-streams-two";
    const app = (n: number, port: number) =>
      new WordCountApp(
        `WordCount-${n}`,
        [`127.0.0.1:${port}`, appId, "lines2", "counts2", `${dir}/state-${n}`],
        "group.protocol=streams,commit.interval.ms=500",
        dir,
      );
    try {
      await createTopic(c, "lines2", 2);
      const output = await createTopic(c, "counts2", 1);
      const out = { offset: 0, counts: {} as Record<string, number> };
      await produceLines(c, "lines2", 2, 0, 2000);
      await using first = app(1, a.port);
      await using second = app(2, b.port);
      await first.waitLine(/^state \S+ RUNNING$/, 90_000);
      await second.waitLine(/^state \S+ RUNNING$/, 90_000);
      await eventually(90_000, "both members with tasks", async () => {
        const g = await describeGroup(c, appId);
        assert.equal(g.groupState, "Stable");
        assert.equal(g.members.length, 2);
        for (const m of g.members) assert.ok(activeCount(m) > 0, `${m.processId} has tasks`);
      });
      await eventually(90_000, "counts of 2,000 lines", async () => {
        await readCounts(c, output, out);
        assert.deepEqual(out.counts, expectedCounts(2000));
      });
      // Each instance finds its coordinator on the broker it asks: both serve the group.
      assert.ok(
        streamsHeartbeats(a) > 0 && streamsHeartbeats(b) > 0,
        "both brokers served heartbeats",
      );
      assert.ok(await first.stop(), `the first instance did not exit cleanly\n${first.describe()}`);
      await eventually(90_000, "one member with every task", async () => {
        const g = await describeGroup(c, appId);
        assert.equal(g.members.length, 1);
        assert.equal(activeCount(g.members[0]), 4);
      });
      await produceLines(c, "lines2", 2, 2000, 2500);
      await eventually(90_000, "counts of 2,500 lines", async () => {
        await readCounts(c, output, out);
        assert.deepEqual(out.counts, expectedCounts(2500));
      });
      assert.ok(
        await second.stop(),
        `the second instance did not exit cleanly\n${second.describe()}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "Kafka Streams 4.4 with group.protocol=streams and exactly_once_v2 counts exactly",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await requireStreams();
    await using b = await testBroker({ meta: new MemoryMetaStore(), log: new MemoryLogStore() });
    await using c = await WireClient.connect(b.port);
    const dir = await Deno.makeTempDir({ prefix: "skb-streams-groups-eos-" });
    const appId = "skb-streams-eos";
    try {
      await createTopic(c, "lines3", 2);
      const output = await createTopic(c, "counts3", 1);
      await produceLines(c, "lines3", 2, 0, 3000);
      // Offsets go through TxnOffsetCommit with the member's epoch (KIP-447 with KIP-1071).
      await using one = new WordCountApp(
        "WordCount-eos",
        [`127.0.0.1:${b.port}`, appId, "lines3", "counts3", `${dir}/state`, "exactly_once_v2"],
        "group.protocol=streams,commit.interval.ms=500",
        dir,
      );
      await one.waitLine(/^state \S+ RUNNING$/, 90_000);
      const out = { offset: 0, counts: {} as Record<string, number> };
      await eventually(90_000, "counts of 3,000 lines", async () => {
        await readCounts(c, output, out);
        assert.deepEqual(out.counts, expectedCounts(3000));
      });
      const g = await describeGroup(c, appId);
      assert.equal(g.members.length, 1);
      assert.equal(activeCount(g.members[0]), 4);
      // The transactional offset commits passed the member-epoch check: every line is consumed.
      await eventually(30_000, "committed offsets of the source", async () => {
        const f = await c.call(OFFSET_FETCH_API, 9, {
          ...defaultOffsetFetchRequest(),
          requireStable: true,
          groups: [{ groupId: appId, memberId: null, memberEpoch: -1, topics: null }],
        });
        const lines = f.groups[0].topics.find((t) => t.name === "lines3");
        assert.deepEqual(lines?.partitions.map((p) => p.committedOffset), [1500, 1500]);
      });
      assert.ok(await one.stop(), `the instance did not exit cleanly\n${one.describe()}`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
