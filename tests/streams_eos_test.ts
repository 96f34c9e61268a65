/**
 * Kafka Streams 4.4 with processing.guarantee=exactly_once_v2 against a broker process (memory
 * stores): the word count of tests/clients/streams/WordCount.java, its other settings Streams'
 * defaults (under EOS commit.interval.ms is 100 ms), counts lines while they are produced; it is
 * stopped gracefully and started again, then killed with SIGKILL in the middle of its work and
 * started again. Read with read_committed, the output topic must hold exactly the expected
 * count of every word at the end, and every word's counts must only grow (a line counted twice
 * would show as a count above the expected one, or as a count repeated after a restart).
 * The jars come from Maven Central, resolved by scripts/install_test_deps.sh into
 * .tools/streams/lib; without them or Java the test fails saying so. SKB_JAVA_LOG_LEVEL
 * (INFO, DEBUG, ...) shows the app's log; the broker's refusals are printed at the end.
 */

import assert from "node:assert/strict";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  defaultMetadataRequest,
  FETCH_API,
  LIST_TRANSACTIONS_API,
  METADATA_API,
} from "../protocol/generated/mod.ts";
import { decodeRecords } from "../protocol/record_batch.ts";
import { type BrokerProcess, ROOT, spawnBroker } from "./broker_util.ts";
import { within } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";
import { NINE_WORDS, wordCountInput } from "./word_count_input.ts";
import { fetchRequest, flattenRecords } from "./wire_requests.ts";

const root = new URL(".", ROOT).pathname;
const STREAMS_LIB = `${root}.tools/streams/lib`;
const WORD_COUNT = `${root}tests/clients/streams/WordCount.java`;
const LOG4J = `${root}tests/clients/streams/log4j2.properties`;
const INSTALL = "run bash scripts/install_test_deps.sh (needs Java 17+ and Maven)";
const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fails, never skips, when Java or the resolved jars are missing. */
async function requireJava(): Promise<void> {
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

/** The word count app: stdout lines kept, stderr kept for failure messages. */
class App implements AsyncDisposable {
  readonly lines: string[] = [];
  private err = "";
  private readonly child: Deno.ChildProcess;
  private readonly done: Promise<unknown>;

  constructor(readonly name: string, args: string[], cwd: string) {
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
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pump = async (s: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) onText(chunk);
    };
    let partial = "";
    this.done = Promise.all([
      this.child.status,
      pump(this.child.stdout, (t) => {
        const parts = (partial + t).split("\n");
        partial = parts.pop()!;
        this.lines.push(...parts);
      }),
      pump(this.child.stderr, (t) => {
        this.err = (this.err + t).slice(-100_000);
        if (Deno.env.get("SKB_JAVA_LOG_LEVEL")) Deno.stderr.writeSync(enc.encode(t));
      }),
    ]);
  }

  describe(): string {
    return `${this.name} stdout:\n${this.lines.join("\n")}\n${this.name} stderr (end):\n${
      this.err.slice(-4000)
    }`;
  }

  async waitLine(re: RegExp, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.lines.some((l) => re.test(l))) return;
      if (this.lines.some((l) => l.startsWith("error "))) break;
      await sleep(100);
    }
    throw new Error(`${this.name} printed no ${re} within ${ms} ms\n${this.describe()}`);
  }

  /** Sends the signal (SIGKILL after 30 s) and waits for the exit. */
  async stop(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 30_000);
    try {
      await this.done;
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose]() {
    await this.stop("SIGKILL");
  }
}

const input = wordCountInput(NINE_WORDS);
const { expectedCounts } = input;
/** Lines [from, to), `per` to a batch, over the two partitions of the input. */
const produceLines = (c: WireClient, topic: string, from: number, to: number, per = 500) =>
  input.produceLines(c, topic, 2, from, to, per);

/**
 * The output topic as a read_committed consumer sees it: Fetch with isolation level 1 (up to
 * the last stable offset), then each transactional batch kept only when the next control
 * record of its producer commits (KIP-98's aborted-transaction filtering, by markers).
 * Also how many records an aborted transaction had written.
 */
async function readCommitted(
  c: WireClient,
  topic: { name: string; id: string },
  partition = 0,
) {
  type Batch = {
    pid: bigint;
    txn: boolean;
    control: boolean;
    recs: ReturnType<typeof decodeRecords>;
  };
  const batches: Batch[] = [];
  let offset = 0;
  for (let round = 0; round < 10_000; round++) {
    const req = fetchRequest(topic, partition, offset);
    req.isolationLevel = 1;
    const p = (await within(c.call(FETCH_API, 12, req), 30_000, "fetch")).responses[0]
      .partitions[0];
    assert.equal(p.errorCode, 0, "fetch of the output topic");
    const bytes = flattenRecords(p.records);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    let got = 0;
    while (at + 61 <= bytes.length) {
      const size = view.getInt32(at + 8) + 12;
      if (at + size > bytes.length) break;
      const attributes = view.getInt16(at + 21);
      const recs = decodeRecords(bytes.subarray(at, at + size)).filter((r) => r.offset >= offset);
      if (recs.length) {
        batches.push({
          pid: view.getBigInt64(at + 43),
          txn: (attributes & 0x10) !== 0,
          control: (attributes & 0x20) !== 0,
          recs,
        });
        got += recs.length;
        offset = recs[recs.length - 1].offset + 1;
      }
      at += size;
    }
    if (got === 0) break;
  }
  const committed: [string, number][] = [];
  let aborted = 0;
  for (let k = 0; k < batches.length; k++) {
    const b = batches[k];
    if (b.control) continue;
    if (b.txn) {
      const marker = batches.slice(k + 1).find((m) => m.control && m.pid === b.pid);
      assert.ok(marker, "a transactional batch below the LSO without its marker");
      const type = new DataView(marker.recs[0].key!.buffer, marker.recs[0].key!.byteOffset)
        .getInt16(2);
      if (type !== 1) {
        aborted += b.recs.length;
        continue;
      }
    }
    for (const r of b.recs) committed.push([dec.decode(r.key!), Number(dec.decode(r.value!))]);
  }
  return { committed, aborted };
}

/** How many transactions the coordinator has open (ListTransactions, state Ongoing). */
async function ongoing(c: WireClient): Promise<number> {
  const listed = await c.call(LIST_TRANSACTIONS_API, 1, {
    stateFilters: ["Ongoing"],
    producerIdFilters: [],
    durationFilter: -1,
    transactionalIdPattern: null,
  });
  return listed.transactionStates.filter((x) => x.transactionState === "Ongoing").length;
}

/** Every word's counts only grow; the last count of each word. */
function finalCounts(committed: [string, number][]): Record<string, number> {
  const last: Record<string, number> = {};
  for (const [w, n] of committed) {
    assert.ok(n > (last[w] ?? 0), `the count of ${w} went from ${last[w]} to ${n}`);
    last[w] = n;
  }
  return last;
}

/** Polls until the committed output's final counts equal `want`; returns what was read. */
async function untilCounts(
  c: WireClient,
  topic: { name: string; id: string },
  want: Record<string, number>,
  ms: number,
  app: App,
) {
  const deadline = Date.now() + ms;
  let got: Record<string, number> = {};
  while (Date.now() < deadline) {
    const read = await readCommitted(c, topic);
    got = finalCounts(read.committed);
    if (
      JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(want).sort())
    ) {
      return read;
    }
    await sleep(250);
  }
  assert.deepEqual(got, want, `the word counts within ${ms} ms\n${app.describe()}`);
  throw new Error("unreachable");
}

Deno.test("Kafka Streams exactly_once_v2 word count: exact counts across a restart and a SIGKILL", async (t) => {
  await requireJava();
  await using b: BrokerProcess = await spawnBroker([
    "--port",
    "0",
    "--meta",
    "memory:",
    "--log",
    "memory:",
    "--group-initial-rebalance-delay-ms",
    "500",
    "--log-level",
    "info",
  ]);
  await using c = await WireClient.connect(b.port);
  const dir = await Deno.makeTempDir({ prefix: "skb-streams-eos-" });
  const app = (name: string) =>
    new App(name, [
      `127.0.0.1:${b.port}`,
      "skb-eos-wordcount",
      "lines",
      "counts",
      `${dir}/state`,
      "exactly_once_v2",
    ], dir);
  try {
    await createTopic(c, "lines", 2);
    const output = await createTopic(c, "counts", 1);
    let produced = 0;

    await t.step("counts 4,000 lines", async () => {
      await produceLines(c, "lines", 0, produced = 4_000);
      await using first = app("first");
      await first.waitLine(/^state \S+ RUNNING$/, 60_000);
      await untilCounts(c, output, expectedCounts(produced), 60_000, first);
      await first.stop("SIGTERM");
      assert.ok(first.lines.includes("closed"), first.describe());
    });

    await t.step("a graceful restart counts 2,000 more, none twice", async () => {
      await produceLines(c, "lines", produced, produced += 2_000);
      await using second = app("second");
      await second.waitLine(/^state \S+ RUNNING$/, 60_000);
      await untilCounts(c, output, expectedCounts(produced), 60_000, second);
      await second.stop("SIGTERM");
    });

    await t.step(
      "SIGKILL in the middle of the work, then a restart: none counted twice",
      async () => {
        const third = app("third");
        try {
          await third.waitLine(/^state \S+ RUNNING$/, 60_000);
          // Lines keep coming while the app works, 100 every 20 ms; after 2 s it is killed as
          // soon as one of its transactions is open at the coordinator (or after 10 s).
          const before = (await readCommitted(c, output)).committed.length;
          const start = Date.now();
          let producing = true;
          const producer = (async () => {
            while (producing) {
              await produceLines(c, "lines", produced, produced += 100, 100);
              await sleep(20);
            }
          })();
          await using admin = await WireClient.connect(b.port);
          try {
            while (Date.now() - start < 10_000) {
              if (Date.now() - start > 2_000 && (await ongoing(admin)) > 0) break;
              await sleep(2);
            }
            await third.stop("SIGKILL");
          } finally {
            producing = false;
            await producer;
          }
          const during = (await readCommitted(c, output)).committed.length;
          assert.ok(during > before, "the app committed output while lines came");
        } finally {
          await third.stop("SIGKILL");
        }
        // The transactions the killed app left open (its producer had sent something since its
        // last commit); the next instance, with the same transactional.id, aborts them.
        const open = await ongoing(c);
        console.log(`transactions open after the SIGKILL: ${open}`);
        assert.ok(open > 0, "the SIGKILL left a transaction open");
        await produceLines(c, "lines", produced, produced += 1_000);
        await using fourth = app("fourth");
        await fourth.waitLine(/^state \S+ RUNNING$/, 60_000);
        const read = await untilCounts(c, output, expectedCounts(produced), 90_000, fourth);
        // What the killed app's open transactions had written to its repartition topic,
        // aborted when the next instance (the same transactional.id) started.
        const md = await c.call(METADATA_API, 12, { ...defaultMetadataRequest(), topics: null });
        const repartition = md.topics.find((x) =>
          x.name === "skb-eos-wordcount-counts-repartition"
        );
        assert.ok(repartition, "the repartition topic");
        let abortedRepartition = 0;
        for (const p of repartition.partitions) {
          const topic = { name: repartition.name!, id: repartition.topicId };
          abortedRepartition += (await readCommitted(c, topic, p.partitionIndex)).aborted;
        }
        console.log(
          `${produced} lines; ${read.committed.length} committed count updates, ${read.aborted} ` +
            `aborted; ${abortedRepartition} aborted records in the repartition topic`,
        );
        await fourth.stop("SIGTERM");
      },
    );
  } finally {
    const refused = b.output().split("\n").filter((l) => l.includes("refused:"));
    if (refused.length) console.log(`broker refusals:\n${refused.slice(-40).join("\n")}`);
    await Deno.remove(dir, { recursive: true });
  }
});
