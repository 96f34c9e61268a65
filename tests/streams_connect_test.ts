/**
 * Real frameworks against a broker process (memory stores, the log cleaner every 500 ms):
 * a Kafka Streams 4.4 word count (tests/clients/streams/WordCount.java) counts 10,000 lines,
 * creates its changelog compacted and its repartition topic not, and after its state dir is
 * wiped restores the counts from the changelog; a distributed Kafka Connect 4.3.1 worker copies
 * a file of 10,000 lines through a topic into another file with the FileStream connectors made
 * through its REST API, and after a restart keeps the connectors and the source's offsets.
 * The jars come from Maven Central, resolved by scripts/install_test_deps.sh into
 * .tools/streams/lib and .tools/connect/lib; without them or Java the tests fail saying so.
 *
 * Streams runs with its defaults, so its counts reach the output topic at each commit
 * (commit.interval.ms, 30 s): each of its two steps takes about that long. SKB_JAVA_LOG_LEVEL
 * (INFO, DEBUG, ...) shows the Java programs' logs; the broker's refusals are printed at the end.
 */

import assert from "node:assert/strict";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  DESCRIBE_CONFIGS_API,
} from "../protocol/generated/mod.ts";
import { type BrokerProcess, ROOT, spawnBroker } from "./broker_util.ts";
import { fetchedRecords, fetchPartition, within } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";
import { NINE_WORDS, wordCountInput } from "./word_count_input.ts";

const root = new URL(".", ROOT).pathname;
const STREAMS_LIB = `${root}.tools/streams/lib`;
const CONNECT_LIB = `${root}.tools/connect/lib`;
const WORD_COUNT = `${root}tests/clients/streams/WordCount.java`;
const LOG4J = `${root}tests/clients/streams/log4j2.properties`;
const INSTALL = "run bash scripts/install_test_deps.sh (needs Java 17+ and Maven)";
const enc = new TextEncoder();

/** Fails, never skips, when Java or the resolved jars are missing. */
async function requireJava(lib: string, what: string): Promise<void> {
  try {
    const out = await new Deno.Command("java", { args: ["-version"], stdout: "null" }).output();
    if (!out.success) throw new Error(`exit ${out.code}`);
  } catch (e) {
    throw new Error(`java does not run (${(e as Error).message}): ${INSTALL}`);
  }
  try {
    await Deno.stat(`${lib}/.stamp`);
  } catch {
    throw new Error(`the ${what} jars are not in ${lib}: ${INSTALL}`);
  }
}

/** A broker process on memory stores, logging at info so refusals show. */
function broker(): Promise<BrokerProcess> {
  return spawnBroker([
    "--port",
    "0",
    "--meta",
    "memory:",
    "--log",
    "memory:",
    "--cleaner-interval-ms",
    "500",
    "--group-initial-rebalance-delay-ms",
    "500",
    "--log-level",
    "info",
  ]);
}

/** The broker's "refused: <reason>" lines, shown when a test ends. */
function refusals(b: BrokerProcess): string[] {
  return b.output().split("\n").filter((l) => l.includes("refused:"));
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

/** Each topic's configs by name (DescribeConfigs v4). */
async function topicConfigs(c: WireClient, topics: string[]) {
  const res = await within(
    c.call(DESCRIBE_CONFIGS_API, 4, {
      resources: topics.map((t) => ({ resourceType: 2, resourceName: t, configurationKeys: null })),
      includeSynonyms: false,
      includeDocumentation: false,
    }),
    30_000,
    "describe configs",
  );
  const out = new Map<string, Map<string, string | null>>();
  for (const r of res.results) {
    assert.equal(r.errorCode, 0, `describe configs of ${r.resourceName}: ${r.errorMessage}`);
    out.set(r.resourceName, new Map(r.configs.map((e) => [e.name, e.value])));
  }
  return out;
}

/** A Java program run by the test: stdout lines kept, stderr kept for failure messages. */
class JavaProcess implements AsyncDisposable {
  readonly lines: string[] = [];
  private err = "";
  private readonly child: Deno.ChildProcess;
  private readonly pumps: Promise<unknown>;
  private exited: Promise<Deno.CommandStatus>;

  constructor(readonly name: string, args: string[], cwd: string) {
    this.child = new Deno.Command("java", {
      args: [
        "-Xmx384m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        `-Dlog4j2.configurationFile=${LOG4J}`,
        `-Dskb.log.level=${Deno.env.get("SKB_JAVA_LOG_LEVEL") ?? "WARN"}`,
        ...args,
      ],
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pump = async (s: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) onText(chunk);
    };
    let partial = "";
    this.pumps = Promise.all([
      pump(this.child.stdout, (t) => {
        const parts = (partial + t).split("\n");
        partial = parts.pop()!;
        this.lines.push(...parts);
      }),
      pump(this.child.stderr, (t) => {
        this.err += t;
        if (Deno.env.get("SKB_JAVA_LOG_LEVEL")) Deno.stderr.writeSync(enc.encode(t));
      }),
    ]);
    this.exited = this.child.status;
  }

  /** What the program printed, for failure messages (the end of stderr). */
  describe(): string {
    return `${this.name} stdout:\n${this.lines.join("\n")}\n${this.name} stderr (end):\n${
      this.err.slice(-4000)
    }`;
  }

  /** Waits until some stdout line matches. */
  async waitLine(re: RegExp, ms: number): Promise<string> {
    const deadline = Date.now() + ms;
    let gone = false;
    this.exited.then(() => gone = true);
    while (Date.now() < deadline) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit) return hit;
      if (gone) throw new Error(`${this.name} exited before printing ${re}\n${this.describe()}`);
      await sleep(100);
    }
    throw new Error(`${this.name} printed no ${re} within ${ms} ms\n${this.describe()}`);
  }

  /**
   * SIGTERM (the program's own graceful shutdown), SIGKILL after `ms`; whether it exited as
   * the JVM does after running its shutdown hooks on SIGTERM (143 = 128 + 15).
   */
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

  async [Symbol.asyncDispose]() {
    await this.stop(5000);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` (which throws while not yet true) every 250 ms for up to `ms`. */
async function eventually<T>(ms: number, what: string, check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`${what}: not within ${ms} ms: ${(last as Error)?.message ?? last}`);
}

// ---- Kafka Streams ----

const WORDS = [...NINE_WORDS, "juliet", "kilo", "lima", "mike"];

const input = wordCountInput(WORDS);
const { line, produceLines } = input;
const expectedCounts = (lines: number) => new Map(Object.entries(input.expectedCounts(lines)));

/** Reads the output topic from `state.offset` on, keeping the latest count of each word. */
async function readCounts(
  c: WireClient,
  topic: { name: string; id: string },
  state: { offset: number; counts: Map<string, number> },
) {
  for (let round = 0; round < 1000; round++) {
    const p = await fetchPartition(c, topic, 0, state.offset);
    assert.equal(p.errorCode, 0, "fetch of the output topic");
    const recs = fetchedRecords(p);
    if (recs.length === 0) return;
    for (const [offset, word, count] of recs) {
      state.counts.set(word, Number(count));
      state.offset = offset + 1;
    }
  }
}

function sameCounts(got: Map<string, number>, want: Map<string, number>) {
  assert.deepEqual(
    Object.fromEntries([...got].sort()),
    Object.fromEntries([...want].sort()),
    "word counts in the output topic",
  );
}

Deno.test("Kafka Streams word count counts 10,000 lines and restores its counts from the changelog", async (t) => {
  await requireJava(STREAMS_LIB, "Kafka Streams");
  await using b = await broker();
  await using c = await WireClient.connect(b.port);
  const dir = await Deno.makeTempDir({ prefix: "skb-streams-" });
  const appId = "skb-wordcount";
  const stateDir = `${dir}/state`;
  const app = () =>
    new JavaProcess(
      "WordCount",
      [
        "-cp",
        `${STREAMS_LIB}/*`,
        WORD_COUNT,
        `127.0.0.1:${b.port}`,
        appId,
        "lines",
        "counts",
        stateDir,
      ],
      dir,
    );
  try {
    await createTopic(c, "lines", 2);
    const output = await createTopic(c, "counts", 1);
    const out = { offset: 0, counts: new Map<string, number>() };
    const LINES = 10_000;
    const MORE = 100;

    await t.step("the app counts every word of 10,000 lines in a compacted changelog", async () => {
      await produceLines(c, "lines", 2, 0, LINES);
      await using first = app();
      await first.waitLine(/^state \S+ RUNNING$/, 60_000);
      const want = expectedCounts(LINES);
      await eventually(90_000, "counts of 10,000 lines", async () => {
        await readCounts(c, output, out);
        sameCounts(out.counts, want);
      }).catch((e) => {
        throw new Error(`${e.message}\n${first.describe()}`);
      });

      // Streams asks for a compacted changelog and a repartition topic that deletes.
      const changelog = `${appId}-counts-changelog`;
      const repartition = `${appId}-counts-repartition`;
      const configs = await topicConfigs(c, [changelog, repartition]);
      assert.equal(configs.get(changelog)!.get("cleanup.policy"), "compact", changelog);
      assert.equal(configs.get(repartition)!.get("cleanup.policy"), "delete", repartition);

      assert.ok(await first.stop(), `the app's exit status\n${first.describe()}`);
      assert.ok(first.lines.includes("closed"), first.describe());
    });

    await t.step("with its state dir wiped the app restores the counts and goes on", async () => {
      await Deno.remove(stateDir, { recursive: true });
      await using second = app();
      await second.waitLine(/^state \S+ RUNNING$/, 60_000);
      const restored = second.lines.filter((l) => l.startsWith("restored counts "));
      const total = restored.reduce((n, l) => n + Number(l.split(" ")[3]), 0);
      assert.ok(total >= WORDS.length, `restored records: ${restored.join(", ")}`);
      await produceLines(c, "lines", 2, LINES, LINES + MORE);
      const want = expectedCounts(LINES + MORE);
      await eventually(90_000, "counts after the restore", async () => {
        await readCounts(c, output, out);
        sameCounts(out.counts, want);
      }).catch((e) => {
        throw new Error(`${e.message}\n${second.describe()}`);
      });
      assert.ok(await second.stop(), `the app's exit status\n${second.describe()}`);
    });
  } finally {
    const refused = refusals(b);
    if (refused.length) console.log(`broker refusals:\n${refused.join("\n")}`);
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- Kafka Connect ----

/** A port nobody listens on now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A JSON call to the worker's REST API; throws on a non-2xx answer. */
async function rest(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function fileLines(path: string): Promise<string[]> {
  try {
    const text = await Deno.readTextFile(path);
    return text === "" ? [] : text.replace(/\n$/, "").split("\n");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

const sourceLine = (i: number) => `line ${String(i).padStart(5, "0")} ${line(i)}`;

Deno.test("Kafka Connect copies 10,000 lines file to file and keeps connectors and offsets over a restart", async (t) => {
  await requireJava(CONNECT_LIB, "Kafka Connect");
  await using b = await broker();
  await using c = await WireClient.connect(b.port);
  const dir = await Deno.makeTempDir({ prefix: "skb-connect-" });
  const source = `${dir}/source.txt`;
  const sink = `${dir}/sink.txt`;
  const restPort = freePort();
  const base = `http://127.0.0.1:${restPort}`;
  const props = `${dir}/worker.properties`;
  const internal = ["skb-connect-configs", "skb-connect-offsets", "skb-connect-status"];
  await Deno.writeTextFile(
    props,
    [
      `bootstrap.servers=127.0.0.1:${b.port}`,
      "group.id=skb-connect",
      "key.converter=org.apache.kafka.connect.storage.StringConverter",
      "value.converter=org.apache.kafka.connect.storage.StringConverter",
      `config.storage.topic=${internal[0]}`,
      `offset.storage.topic=${internal[1]}`,
      `status.storage.topic=${internal[2]}`,
      "config.storage.replication.factor=-1",
      "offset.storage.replication.factor=-1",
      "status.storage.replication.factor=-1",
      // Source offsets and the sink's file are flushed on this interval (default 60 s).
      "offset.flush.interval.ms=1000",
      `listeners=http://127.0.0.1:${restPort}`,
      "rest.advertised.host.name=127.0.0.1",
      `rest.advertised.port=${restPort}`,
      "",
    ].join("\n"),
  );
  const worker = () =>
    new JavaProcess(
      "ConnectDistributed",
      ["-cp", `${CONNECT_LIB}/*`, "org.apache.kafka.connect.cli.ConnectDistributed", props],
      dir,
    );
  const LINES = 10_000;
  const MORE = 100;
  const want = (n: number) => Array.from({ length: n }, (_, i) => sourceLine(i));
  const connectors: Record<string, Record<string, string>> = {
    "file-source": {
      "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
      "tasks.max": "1",
      "file": source,
      "topic": "file-lines",
    },
    "file-sink": {
      "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
      "tasks.max": "1",
      "file": sink,
      "topics": "file-lines",
    },
  };
  /** Waits until both connectors and their task run. */
  const running = (w: JavaProcess) =>
    eventually(60_000, "connectors running", async () => {
      for (const name of Object.keys(connectors)) {
        const s = await rest(base, "GET", `/connectors/${name}/status`);
        assert.equal(s.connector.state, "RUNNING", `${name}: ${JSON.stringify(s)}`);
        assert.equal(s.tasks[0]?.state, "RUNNING", `${name}: ${JSON.stringify(s)}`);
      }
    }).catch((e) => {
      throw new Error(`${e.message}\n${w.describe()}`);
    });
  const sinkHas = (w: JavaProcess, n: number) =>
    eventually(60_000, `${n} lines in the sink file`, async () => {
      const got = await fileLines(sink);
      assert.equal(got.length, n, "lines in the sink file");
      assert.deepEqual(got, want(n), "the sink file's lines");
    }).catch((e) => {
      throw new Error(`${e.message}\n${w.describe()}`);
    });
  const sourceOffsets = async () =>
    (await rest(base, "GET", "/connectors/file-source/offsets")).offsets;
  try {
    await createTopic(c, "file-lines", 1);
    await Deno.writeTextFile(source, want(LINES).join("\n") + "\n");
    let offsetsBefore: unknown;

    await t.step("connectors made through REST copy 10,000 lines in order", async () => {
      await using first = worker();
      await eventually(60_000, "the worker's REST API", async () => {
        for (const [name, config] of Object.entries(connectors)) {
          await rest(base, "PUT", `/connectors/${name}/config`, config);
        }
      }).catch((e) => {
        throw new Error(`${e.message}\n${first.describe()}`);
      });
      await running(first);
      await sinkHas(first, LINES);

      // Connect refuses to start unless these are compacted; they are, as it asked.
      const configs = await topicConfigs(c, internal);
      for (const name of internal) {
        assert.equal(configs.get(name)!.get("cleanup.policy"), "compact", name);
      }

      offsetsBefore = await eventually(30_000, "the source's offsets", async () => {
        const offsets = await sourceOffsets();
        const position = enc.encode(want(LINES).join("\n") + "\n").length;
        assert.deepEqual(offsets, [{ partition: { filename: source }, offset: { position } }]);
        return offsets;
      });
      assert.ok(await first.stop(), `the worker's exit\n${first.describe()}`);
    });

    await t.step("after a restart the connectors and the source's offsets are kept", async () => {
      await using second = worker();
      await running(second);
      const names = await rest(base, "GET", "/connectors");
      assert.deepEqual([...names].sort(), Object.keys(connectors).sort());
      for (const [name, config] of Object.entries(connectors)) {
        const got = await rest(base, "GET", `/connectors/${name}/config`);
        assert.deepEqual(got, { ...config, name }, `${name}'s config`);
      }
      assert.deepEqual(await sourceOffsets(), offsetsBefore, "the source's offsets");
      await Deno.writeTextFile(
        source,
        Array.from({ length: MORE }, (_, i) => sourceLine(LINES + i)).join("\n") + "\n",
        { append: true },
      );
      await sinkHas(second, LINES + MORE);
      // Nothing more comes after a while: the source did not send the first lines again.
      await sleep(3000);
      assert.equal((await fileLines(sink)).length, LINES + MORE, "lines in the sink file");
      assert.ok(await second.stop(), `the worker's exit\n${second.describe()}`);
    });
  } finally {
    const refused = refusals(b);
    if (refused.length) console.log(`broker refusals:\n${refused.join("\n")}`);
    await Deno.remove(dir, { recursive: true });
  }
});
