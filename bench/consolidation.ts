/**
 * Two background jobs of the broker, measured in-process:
 *
 * 1. Object consolidation on S3 (broker/consolidator.ts): a topic is written in
 *    many small flushes (one object each, every partition's batch in it), then
 *    read from offset 0 through a freshly started broker (cold cache), counting
 *    the log store's reads (one ranged GET each) per MB consumed and the time
 *    taken; then the partitions are consolidated and read again the same way.
 * 2. The log cleaner's throughput (broker/cleaner.ts): a compacted topic with N
 *    keys and M updates, one broker.clean() timed, on memory stores, SQLite +
 *    file, and memory meta + S3.
 *
 * The S3 server is the tests' (tests/servers/s3_server.ts): moto by default,
 * MinIO with SKB_S3_SERVER=minio. `deno run -A bench/consolidation.ts
 * [--flushes 1000] [--partitions 4] [--batch-bytes 2048] [--out file.md]`.
 */

import { parseArgs } from "node:util";
import {
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  FETCH_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { buildBatch, type SimpleRecord } from "../protocol/record_batch.ts";
import { type Broker, startBroker } from "../server/broker.ts";
import { ObjectConsolidator } from "../broker/consolidator.ts";
import { openLogStore, openMetaStore } from "../stores/registry.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { S3LogStore } from "../stores/log/s3.ts";
import type { LogStore, MetaStore } from "../stores/types.ts";
import { type S3Server, startS3Server } from "../tests/servers/s3_server.ts";
import { WireClient } from "../tests/wire_client.ts";
import { fetchRequest, flattenRecords, produceRequest } from "../tests/wire_requests.ts";
import { atExit, fmt, machineLine, mdTable, ROOT, runMain, sh, tempDir } from "./util.ts";

const MB = 1e6;

/** A log store that counts reads (each one ranged GET on S3) and never closes the one it wraps. */
class CountingLog implements LogStore {
  readonly objectPerWrite: boolean | undefined;
  gets = 0;
  bytes = 0;
  constructor(private readonly inner: LogStore) {
    this.objectPerWrite = inner.objectPerWrite;
  }
  ping() {
    return this.inner.ping();
  }
  close() {
    return Promise.resolve();
  }
  write(chunks: Uint8Array[]) {
    return this.inner.write(chunks);
  }
  async read(blob: string, position: number, length: number) {
    this.gets++;
    const data = await this.inner.read(blob, position, length);
    this.bytes += data.length;
    return data;
  }
  sweep(referenced: Set<string>, graceMs: number) {
    return this.inner.sweep(referenced, graceMs);
  }
}

/** The same meta store for several brokers in one process: only the last close closes it. */
function unclosed(meta: MetaStore): MetaStore {
  return new Proxy(meta, {
    get(t, p) {
      if (p === "close") return () => Promise.resolve();
      const v = Reflect.get(t, p, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

function broker(meta: MetaStore, log: LogStore): Promise<Broker> {
  return startBroker({
    meta,
    log,
    host: "127.0.0.1",
    port: 0,
    lingerMs: 0,
    sweepIntervalMs: 0,
    cleanerIntervalMs: 0,
    consolidateIntervalMs: 0,
  });
}

async function createTopic(
  c: WireClient,
  name: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<string> {
  const req = defaultCreateTopicsRequest();
  req.timeoutMs = 5000;
  req.topics = [{
    ...defaultCreateTopicsRequestTopic(),
    name,
    numPartitions: partitions,
    replicationFactor: -1,
    configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
  }];
  const t = (await c.call(CREATE_TOPICS_API, 7, req)).topics[0];
  if (t.errorCode !== 0) throw new Error(`CreateTopics ${name}: error ${t.errorCode}`);
  return t.topicId;
}

async function produce(c: WireClient, topic: string, batch: Uint8Array, partitions: number) {
  const res = await c.call(PRODUCE_API, 12, produceRequest(topic, batch, partitions));
  for (const p of res.responses[0].partitionResponses) {
    if (p.errorCode !== 0) throw new Error(`Produce to ${topic}: error ${p.errorCode}`);
  }
}

/** Reads every partition from offset 0 to its high watermark; bytes consumed. */
async function consumeAll(
  port: number,
  topic: { name: string; id: string },
  partitions: number,
): Promise<number> {
  await using c = await WireClient.connect(port);
  let bytes = 0;
  for (let p = 0; p < partitions; p++) {
    let from = 0;
    for (;;) {
      const r = (await c.call(FETCH_API, 17, fetchRequest(topic, p, from))).responses[0]
        .partitions[0];
      if (r.errorCode !== 0) throw new Error(`Fetch ${topic.name}-${p}: error ${r.errorCode}`);
      const data = flattenRecords(r.records);
      if (data.length === 0) break;
      bytes += data.length;
      // Walk the batch headers: baseOffset (8 bytes), length (4), ..., lastOffsetDelta at 23.
      const view = new DataView(data.buffer, data.byteOffset, data.length);
      let at = 0;
      while (at + 27 <= data.length) {
        const len = view.getInt32(at + 8);
        if (at + 12 + len > data.length) break;
        from = Number(view.getBigInt64(at)) + view.getInt32(at + 23) + 1;
        at += 12 + len;
      }
      if (from >= Number(r.highWatermark)) break;
    }
  }
  return bytes;
}

interface CatchUp {
  label: string;
  objects: number;
  gets: number;
  mb: number;
  seconds: number;
}

async function catchUpBench(
  s3: S3Server,
  flushes: number,
  partitions: number,
  batchBytes: number,
): Promise<{ rows: CatchUp[]; consolidateSeconds: number; bytesCopied: number }> {
  await s3.createBucket("skb-bench-consolidation");
  const url = s3.url("skb-bench-consolidation", "log");
  const meta = new MemoryMetaStore();
  const s3log = new S3LogStore(url, { credentials: s3.credentials });
  const writer = await broker(unclosed(meta), new CountingLog(s3log));
  const topic = { name: "catch-up", id: "" };
  {
    await using c = await WireClient.connect(writer.port);
    topic.id = await createTopic(c, topic.name, partitions);
    const value = new Uint8Array(batchBytes - 80);
    for (let i = 0; i < flushes; i++) {
      crypto.getRandomValues(value);
      // One produce of one batch to every partition: one flush, one object.
      await produce(c, topic.name, buildBatch([{ key: null, value, headers: [] }]), partitions);
    }
  }
  const objects = async () => {
    const blobs = new Set<string>();
    for (let p = 0; p < partitions; p++) {
      for (const e of await meta.readIndex(topic.id, p, 0, Number.MAX_SAFE_INTEGER)) {
        blobs.add(e.blob);
      }
    }
    return blobs.size;
  };
  const read = async (label: string): Promise<CatchUp> => {
    const counting = new CountingLog(s3log);
    const reader = await broker(unclosed(meta), counting);
    try {
      const started = performance.now();
      const bytes = await consumeAll(reader.port, topic, partitions);
      const seconds = (performance.now() - started) / 1000;
      return { label, objects: await objects(), gets: counting.gets, mb: bytes / MB, seconds };
    } finally {
      await reader.close(5000);
    }
  };
  const rows = [await read("before consolidation")];
  const consolidator = new ObjectConsolidator(
    { meta, log: s3log, owner: "bench" },
    { leaseMs: 60_000, minAgeMs: 0 },
  );
  const started = performance.now();
  const done = await consolidator.runOnce();
  const consolidateSeconds = (performance.now() - started) / 1000;
  rows.push(await read("after consolidation"));
  await writer.close(5000);
  await s3log.close();
  return {
    rows,
    consolidateSeconds,
    bytesCopied: done.reduce((n, r) => n + r.bytesCopied, 0),
  };
}

interface Cleaned {
  stores: string;
  keys: number;
  updates: number;
  mbBefore: number;
  mbAfter: number;
  seconds: number;
}

const enc = new TextEncoder();

async function cleanerBench(
  stores: string,
  open: () => Promise<{ meta: MetaStore; log: LogStore }>,
  keys: number,
  updates: number,
): Promise<Cleaned> {
  const { meta, log } = await open();
  const b = await broker(meta, log);
  try {
    const name = `compacted-${keys}-${updates}`;
    let id: string;
    {
      await using c = await WireClient.connect(b.port);
      id = await createTopic(c, name, 1, {
        "cleanup.policy": "compact",
        "min.cleanable.dirty.ratio": "0.01",
        "segment.ms": "1",
      });
      const value = new Uint8Array(100);
      const perBatch = 200;
      for (let i = 0; i < updates; i += perBatch) {
        const recs: SimpleRecord[] = [];
        for (let j = i; j < Math.min(updates, i + perBatch); j++) {
          crypto.getRandomValues(value);
          recs.push({
            key: enc.encode(`key-${(j * 7919) % keys}`),
            value: value.slice(),
            headers: [],
          });
        }
        await produce(c, name, buildBatch(recs), 1);
      }
    }
    await new Promise((r) => setTimeout(r, 20));
    const before = (await b.context.meta.partitionSizes(id, 1))[0];
    const started = performance.now();
    const done = await b.clean();
    const seconds = (performance.now() - started) / 1000;
    if (!done[0]?.completed) throw new Error(`Cleaning ${name} on ${stores} did not complete`);
    const after = (await b.context.meta.partitionSizes(id, 1))[0];
    return { stores, keys, updates, mbBefore: before / MB, mbAfter: after / MB, seconds };
  } finally {
    await b.close(10_000);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      flushes: { type: "string", default: "1000" },
      partitions: { type: "string", default: "4" },
      "batch-bytes": { type: "string", default: "2048" },
      updates: { type: "string", default: "100000" },
      out: { type: "string", default: `${ROOT}bench/results/consolidation.md` },
    },
  });
  const flushes = Number(values.flushes);
  const partitions = Number(values.partitions);
  const batchBytes = Number(values["batch-bytes"]);
  const updates = Number(values.updates);

  const s3 = await startS3Server();
  atExit(() => s3[Symbol.asyncDispose]());

  console.error(`catch-up: ${flushes} flushes x ${partitions} partitions x ${batchBytes} B`);
  const cu = await catchUpBench(s3, flushes, partitions, batchBytes);
  for (const r of cu.rows) console.error(JSON.stringify(r));

  const cleaned: Cleaned[] = [];
  let bucket = 0;
  const configs: [string, () => Promise<{ meta: MetaStore; log: LogStore }>, number][] = [
    [
      "memory",
      () => Promise.resolve({ meta: new MemoryMetaStore(), log: new MemoryLogStore() }),
      1,
    ],
    ["SQLite + file", async () => {
      const dir = await tempDir("skb-bench-clean-");
      return {
        meta: openMetaStore(`sqlite://${dir}/meta.db`),
        log: openLogStore(`file://${dir}/log`),
      };
    }, 1],
    ["memory meta + S3", async () => {
      const b = `skb-bench-clean-${bucket++}`;
      await s3.createBucket(b);
      return {
        meta: new MemoryMetaStore(),
        log: new S3LogStore(s3.url(b, "log"), { credentials: s3.credentials }),
      };
    }, 0.5],
  ];
  for (const [stores, open, share] of configs) {
    const m = Math.round(updates * share);
    for (const keys of [1000, Math.round(m / 10), m]) {
      const r = await cleanerBench(stores, open, keys, m);
      console.error(JSON.stringify(r));
      cleaned.push(r);
    }
  }

  const deno = Deno.version.deno;
  const os = await sh(". /etc/os-release && echo $PRETTY_NAME");
  const ratio = (r: CatchUp) => r.gets / r.mb;
  const [before, after] = cu.rows;
  const md = [
    "# Object consolidation and the log cleaner",
    "",
    "`deno run -A bench/consolidation.ts` (`bench/consolidation.ts`), in-process brokers.",
    "",
    await machineLine(),
    `- OS: ${os}; Deno ${deno}; S3 server: ${s3.kind} on localhost`,
    "",
    "## Catch-up reads on S3, before and after consolidation",
    "",
    `A topic of ${partitions} partitions written in ${flushes} flushes (one produce of one ` +
    `${batchBytes}-byte batch to every partition each, so one S3 object per flush holding a ` +
    "batch of every partition), then read from offset 0, partition after partition, by a " +
    "consumer (Fetch, 1 MiB per partition) through a freshly started broker (cold blob " +
    "cache); GETs are the log store's ranged reads. Then one consolidation pass (8 MiB " +
    "objects) and the same read through another fresh broker.",
    "",
    mdTable(
      ["", "objects", "GETs", "MB consumed", "GETs per MB", "read s", "MB/s"],
      cu.rows.map((r) => [
        r.label,
        String(r.objects),
        String(r.gets),
        fmt(r.mb),
        fmt(ratio(r)),
        fmt(r.seconds),
        fmt(r.mb / r.seconds),
      ]),
    ),
    "",
    `GETs per MB: ${fmt(ratio(before))} -> ${fmt(ratio(after))} (${
      fmt(ratio(before) / ratio(after))
    }x fewer). The consolidation pass copied ${fmt(cu.bytesCopied / MB)} MB in ${
      fmt(cu.consolidateSeconds)
    } s (${fmt(cu.bytesCopied / MB / cu.consolidateSeconds)} MB/s). On localhost a GET costs ` +
    "about a millisecond; against AWS S3 (tens of ms to first byte, and a price per GET) the " +
    "time saved grows with the GETs saved.",
    "",
    "## The log cleaner's throughput",
    "",
    "One compacted partition (min.cleanable.dirty.ratio 0.01, segment.ms 1: everything but " +
    "the last batch cleanable), M updates of 100-byte random values over N keys, 200 " +
    "records per produce (one flush each); one `broker.clean()` timed. MB/s is the log " +
    "before cleaning over the time the pass took (both passes: key map and recopy).",
    "",
    mdTable(
      ["stores", "keys N", "updates M", "log MB before", "MB after", "clean s", "MB/s cleaned"],
      cleaned.map((r) => [
        r.stores,
        r.keys.toLocaleString("en-US"),
        r.updates.toLocaleString("en-US"),
        fmt(r.mbBefore),
        fmt(r.mbAfter),
        fmt(r.seconds),
        fmt(r.mbBefore / r.seconds),
      ]),
      1,
    ),
    "",
  ].join("\n");
  await Deno.writeTextFile(values.out!, md);
  console.log(md);
  return 0;
}

if (import.meta.main) await runMain("consolidation", main);
