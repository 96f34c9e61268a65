import assert from "node:assert/strict";
import { ErrorCode } from "../protocol/errors.ts";
import { type BatchInfo, buildBatch, parseBatches } from "../protocol/record_batch.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { partitionKey, Waiter } from "./waiter.ts";
import {
  type PartitionAppend,
  type PartitionOutcome,
  type PartitionOutcomes,
  ProducePipeline,
} from "./produce_pipeline.ts";

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The memory log store with writes that take as long as the next entry of
 * `delaysMs` (an object store's PUT), or fail where the entry is "fail". It
 * records how many writes overlapped at most.
 */
class SlowLogStore extends MemoryLogStore {
  running = 0;
  maxRunning = 0;
  constructor(private readonly delaysMs: (number | "fail")[]) {
    super();
  }
  override async write(chunks: Uint8Array[]): Promise<string> {
    const delay = this.delaysMs.shift() ?? 0;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await sleep(delay === "fail" ? 5 : delay);
      if (delay === "fail") throw new Error("the log store refused the write");
      return await super.write(chunks);
    } finally {
      this.running--;
    }
  }
}

async function setup(delaysMs: (number | "fail")[], lingerMs: number) {
  const meta = new MemoryMetaStore();
  const topic = (await meta.createTopic({ name: "t", partitions: 1, configs: {} }))!;
  const logStore = new SlowLogStore(delaysMs);
  const pipeline = new ProducePipeline(meta, logStore, new Waiter(new AbortController().signal), {
    lingerMs,
    flushBytes: 1 << 20,
  });
  const append = (n: number): PartitionAppend[] => {
    const records = Array.from({ length: n }, (_, i) => ({
      key: enc.encode(`k${i}`),
      value: enc.encode(`v${i}`),
      headers: [],
    }));
    const batches = parseBatches(buildBatch(records), 1 << 20) as BatchInfo[];
    return [{ topicId: topic.id, partition: 0, batches }];
  };
  // The outcome of the one partition every append here writes to.
  const only = (o: PartitionOutcomes): PartitionOutcome => {
    assert.equal(o.size, 1);
    return o.get(partitionKey(topic.id, 0))!;
  };
  return { meta, topic, logStore, pipeline, append, only };
}

Deno.test("pipeline: flush writes overlap, yet offsets follow arrival order", async () => {
  // The first flush's write is slow and the second's fast: the second still
  // commits after the first, so offsets are given in the order batches came.
  const { logStore, pipeline, append, only } = await setup([300, 10], 20);
  const first = pipeline.append(append(2));
  await sleep(60); // the first flush is writing now
  const second = pipeline.append(append(3));
  const [a, b] = await Promise.all([first, second]);
  assert.deepEqual([only(a).errorCode, only(a).baseOffset], [ErrorCode.NONE, 0]);
  assert.deepEqual([only(b).errorCode, only(b).baseOffset], [ErrorCode.NONE, 2]);
  assert.equal(logStore.maxRunning, 2, "the second write did not wait for the first");
  await pipeline.drain();
});

Deno.test("pipeline: the linger counts from a batch's arrival, not from the end of the write before", async () => {
  const { pipeline, append } = await setup([300, 10], 100);
  const t0 = performance.now();
  const first = pipeline.append(append(1));
  await sleep(120); // the first flush started at ~100 ms and writes until ~400 ms
  const second = pipeline.append(append(1));
  await first;
  await second;
  const took = performance.now() - t0;
  // Overlapped: the second flush starts at ~220 ms and commits right after the
  // first (~400 ms). One after the other it would end at 400 + 100 + 10 ms.
  assert.ok(took < 470, `both committed after ${took.toFixed(0)} ms`);
  await pipeline.drain();
});

Deno.test("pipeline: a failed write fails its own producers only", async () => {
  const { meta, topic, pipeline, append, only } = await setup([80, "fail", 5], 10);
  const first = pipeline.append(append(1));
  await sleep(30);
  const failed = pipeline.append(append(1));
  await sleep(30);
  const third = pipeline.append(append(1));
  const [a, f, c] = await Promise.all([first, failed, third]);
  assert.equal(only(a).errorCode, ErrorCode.NONE);
  assert.equal(only(a).baseOffset, 0);
  assert.equal(only(f).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  assert.equal(only(c).errorCode, ErrorCode.NONE);
  assert.equal(only(c).baseOffset, 1, "nothing of the failed flush took an offset");
  assert.equal((await meta.partitionState(topic.id, 0))!.highWatermark, 2);
  await pipeline.drain();
});

Deno.test("pipeline: without a linger one flush runs at a time; drain waits for all", async () => {
  const { meta, topic, logStore, pipeline, append, only } = await setup([50, 50, 50], 0);
  const all = [pipeline.append(append(1)), pipeline.append(append(1))];
  await sleep(10);
  all.push(pipeline.append(append(1)), pipeline.append(append(1)));
  await pipeline.drain();
  const outcomes = (await Promise.all(all)).map((o) => only(o).baseOffset);
  assert.deepEqual(outcomes, [0, 1, 2, 3]);
  assert.equal(logStore.maxRunning, 1);
  assert.equal((await meta.partitionState(topic.id, 0))!.highWatermark, 4);
});

Deno.test("pipeline: the linger ends once every producer's in-flight window waits on us", async () => {
  const { pipeline, append, only } = await setup([], 1_000);
  const producer = {};
  const started = performance.now();
  const firstFour = [1, 2, 3, 4].map(() => pipeline.append(append(1), producer));
  await sleep(100);
  // Four of five: the producer may still send one more request, so we linger.
  let settled = false;
  Promise.all(firstFour).then(() => (settled = true));
  await sleep(0);
  assert.equal(settled, false);
  const fifth = pipeline.append(append(1), producer);
  const outcomes = await Promise.all([...firstFour, fifth]);
  assert.ok(performance.now() - started < 500, "flushed without waiting out the 1 s linger");
  assert.deepEqual(outcomes.map((o) => only(o).baseOffset), [0, 1, 2, 3, 4]);
  await pipeline.drain();
});

Deno.test("pipeline: a producer whose window is unknown keeps the linger", async () => {
  const { pipeline, append } = await setup([], 300);
  const producer = {};
  const started = performance.now();
  const all = [1, 2, 3, 4, 5].map(() => pipeline.append(append(1), producer));
  // Not idempotent (or acks=0): it could send any number more, so the buffer waits.
  all.push(pipeline.append(append(1)));
  await Promise.all(all);
  assert.ok(performance.now() - started >= 290, "waited for the linger");
  await pipeline.drain();
});
