/**
 * The broker over real TCP with exact bytes from our own codec: the basic
 * flows in the lowest and highest versions, and the documented answer to
 * every kind of bad input while another client keeps working.
 */

import assert from "node:assert/strict";
import {
  API_VERSIONS_API,
  CREATE_TOPICS_API,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  defaultListOffsetsRequest,
  defaultMetadataRequest,
  DELETE_RECORDS_API,
  DESCRIBE_CONFIGS_API,
  FETCH_API,
  INCREMENTAL_ALTER_CONFIGS_API,
  INIT_PRODUCER_ID_API,
  LIST_OFFSETS_API,
  METADATA_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { buildBatch, decodeRecords } from "../protocol/record_batch.ts";
import { decodeBatch, encodeBatch } from "../protocol/batch_codec.ts";
import { Compression } from "../protocol/compression.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { testBroker } from "./broker_util.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { WireClient } from "./wire_client.ts";
import { fetchRequest, flattenRecords, produceRequest } from "./wire_requests.ts";
import { createTopic, metaStoreTest, records } from "./helpers.ts";
import { StoreFaults, withFaults } from "./faulty_store.ts";

/** A Produce request carrying one batch for one partition. */
function produceTo(topic: string, partition: number, batch: Uint8Array, acks = -1) {
  const req = produceRequest(topic, batch);
  req.acks = acks;
  req.topicData[0].partitionData[0].index = partition;
  return req;
}

async function produce(
  c: WireClient,
  topic: string,
  partition: number,
  batch: Uint8Array,
  version = 12,
  acks = -1,
) {
  const res = await c.call(PRODUCE_API, version, produceTo(topic, partition, batch, acks));
  return res.responses[0].partitionResponses[0];
}

/** A new idempotent producer id and epoch (InitProducerId v4, no transactional id). */
async function initProducer(c: WireClient) {
  const pid = await c.call(INIT_PRODUCER_ID_API, 4, {
    transactionalId: null,
    transactionTimeoutMs: 60000,
    producerId: -1,
    producerEpoch: -1,
    enable2Pc: false,
    keepPreparedTxn: false,
  });
  assert.equal(pid.errorCode, 0);
  return pid;
}

async function fetchFrom(
  c: WireClient,
  topic: { name: string; id: string },
  partition: number,
  offset: number,
  version = 17,
  maxWaitMs = 0,
) {
  const res = await c.call(FETCH_API, version, fetchRequest(topic, partition, offset, maxWaitMs));
  return res.responses[0].partitions[0];
}

Deno.test("ApiVersions lists exactly the handler table, in v0 and v4", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  for (const v of [0, 3, 4]) {
    const res = await c.call(API_VERSIONS_API, v, {
      clientSoftwareName: "wire-test",
      clientSoftwareVersion: "1",
      clusterId: null,
      nodeId: -1,
    });
    assert.equal(res.errorCode, 0);
    const table = [...broker.handlers.values()].map((
      h,
    ) => [h.api.apiKey, h.minVersion, h.maxVersion]);
    assert.deepEqual(
      res.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
      table.sort((a, b) => a[0] - b[0]),
    );
  }
});

Deno.test("ApiVersions newer than ours gets UNSUPPORTED_VERSION with our list in v0 (KIP-511)", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  await c.send(API_VERSIONS_API, 9, {
    clientSoftwareName: "x",
    clientSoftwareVersion: "1",
    clusterId: null,
    nodeId: -1,
  });
  const res = await c.receive(API_VERSIONS_API, 0);
  assert.equal(res.body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  assert.ok(res.body.apiKeys.some((k) => k.apiKey === 18 && k.maxVersion === 5));
});

metaStoreTest(
  "produce then fetch returns the bytes with assigned offsets, in old and new versions",
  async (meta, t) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const topic = { name: "t1", id: await createTopic(c, "t1", 2) };

    await t.step("offsets are contiguous across produce versions 3 and 12", async () => {
      const a = await produce(c, "t1", 1, buildBatch(records(3)), 3);
      const b = await produce(c, "t1", 1, buildBatch(records(2, 3)), 12);
      assert.deepEqual([a.errorCode, a.baseOffset], [0, 0]);
      assert.deepEqual([b.errorCode, b.baseOffset], [0, 3]);
    });

    await t.step(
      "fetch v4 (names) and v17 (topic ids) return every record at its offset",
      async () => {
        for (const v of [4, 12, 13, 17]) {
          const p = await fetchFrom(c, topic, 1, 0, v);
          assert.equal(p.errorCode, 0, `fetch v${v}`);
          assert.equal(p.highWatermark, 5);
          const got = decodeRecords(flattenRecords(p.records));
          assert.deepEqual(got.map((r) => r.offset), [0, 1, 2, 3, 4], `fetch v${v}`);
          assert.deepEqual(got.map((r) => new TextDecoder().decode(r.value!)), [
            "v0",
            "v1",
            "v2",
            "v3",
            "v4",
          ]);
        }
      },
    );

    await t.step("fetching from the middle of a batch returns that batch", async () => {
      const p = await fetchFrom(c, topic, 1, 4);
      assert.deepEqual(decodeRecords(flattenRecords(p.records)).map((r) => r.offset), [3, 4]);
    });

    await t.step(
      "an offset past the end is OFFSET_OUT_OF_RANGE; the end itself is empty",
      async () => {
        assert.equal((await fetchFrom(c, topic, 1, 6)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
        const atEnd = await fetchFrom(c, topic, 1, 5);
        assert.equal(atEnd.errorCode, 0);
        assert.equal(flattenRecords(atEnd.records).length, 0);
      },
    );

    await t.step("ListOffsets v1 and v10 give earliest and latest", async () => {
      for (const v of [1, 10]) {
        const req = defaultListOffsetsRequest();
        req.replicaId = -1;
        req.topics = [{
          name: "t1",
          partitions: [
            { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -2 },
            { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -1 },
            { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 },
          ],
        }];
        const res = await c.call(LIST_OFFSETS_API, v, req);
        assert.deepEqual(res.topics[0].partitions.map((p) => [p.errorCode, p.offset]), [[0, 0], [
          0,
          5,
        ], [0, 0]]);
      }
    });

    await t.step("a long poll is woken by a commit", async () => {
      await using other = await WireClient.connect(broker.port);
      const started = performance.now();
      const waiting = fetchFrom(c, topic, 0, 0, 17, 10_000);
      await new Promise((r) => setTimeout(r, 100));
      await produce(other, "t1", 0, buildBatch(records(1)));
      const p = await waiting;
      assert.equal(decodeRecords(flattenRecords(p.records)).length, 1);
      assert.ok(
        performance.now() - started < 5000,
        "the fetch should return at the commit, not the timeout",
      );
    });

    await t.step("a long poll with no data returns after max_wait_ms", async () => {
      const started = performance.now();
      const p = await fetchFrom(c, topic, 0, 1, 17, 300);
      const took = performance.now() - started;
      assert.equal(flattenRecords(p.records).length, 0);
      assert.ok(took >= 250 && took < 3000, `took ${took} ms`);
    });
  },
);

metaStoreTest(
  "idempotent produce: a retried batch is stored once and keeps its offsets",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, "idem", 1);
    const pid = await initProducer(c);
    const opts = { producerId: pid.producerId, producerEpoch: pid.producerEpoch };
    const first = buildBatch(records(5), { ...opts, baseSequence: 0 });
    const a = await produce(c, "idem", 0, first);
    const b = await produce(c, "idem", 0, buildBatch(records(5, 5), { ...opts, baseSequence: 5 }));
    const retry = await produce(c, "idem", 0, first);
    assert.deepEqual([a.baseOffset, b.baseOffset, retry.errorCode, retry.baseOffset], [0, 5, 0, 0]);
    const gap = await produce(c, "idem", 0, buildBatch(records(1), { ...opts, baseSequence: 42 }));
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const stale = await produce(
      c,
      "idem",
      0,
      buildBatch(records(1), { ...opts, producerEpoch: opts.producerEpoch - 1, baseSequence: 10 }),
    );
    assert.equal(stale.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    const idem = await meta.getTopic("idem");
    assert.equal((await meta.partitionState(idem!.id, 0))!.highWatermark, 10);
  },
);

metaStoreTest(
  "Metadata auto-creates topics and advertises the address the client used",
  async (meta) => {
    await using broker = await testBroker({ meta, defaultPartitions: 3 });
    await using c = await WireClient.connect(broker.port);
    for (const v of [0, 4, 9, 12, 13]) {
      const req = defaultMetadataRequest();
      req.topics = [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: `auto-${v}` }];
      req.allowAutoTopicCreation = true;
      const res = await c.call(METADATA_API, v, req);
      assert.deepEqual(res.brokers.map((b) => [b.host, b.port]), [["127.0.0.1", broker.port]]);
      assert.equal(res.topics[0].errorCode, 0, `metadata v${v}`);
      assert.equal(res.topics[0].partitions.length, 3);
    }
    const none = defaultMetadataRequest();
    none.topics = [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: "not-created" }];
    none.allowAutoTopicCreation = false;
    const res = await c.call(METADATA_API, 12, none);
    assert.equal(res.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  },
);

metaStoreTest(
  "bad input gets its documented answer while another client keeps working",
  async (meta, t) => {
    await using broker = await testBroker({
      meta,
      messageMaxBytes: 2000,
      socketRequestMaxBytes: 1 << 20,
    });
    await using setup = await WireClient.connect(broker.port);
    const steadyId = await createTopic(setup, "steady", 1);
    await createTopic(setup, "bad", 1);

    // Another client produces and fetches the whole time.
    let stop = false;
    let rounds = 0;
    const steady = (async () => {
      await using c = await WireClient.connect(broker.port);
      let next = 0;
      while (!stop) {
        const r = await produce(c, "steady", 0, buildBatch(records(2, next)));
        assert.equal(r.errorCode, 0);
        assert.equal(r.baseOffset, next);
        const f = await fetchFrom(c, { name: "steady", id: steadyId }, 0, next);
        assert.equal(decodeRecords(flattenRecords(f.records))[0].offset, next);
        next += 2;
        rounds++;
      }
    })();

    const closes = async (bytes: Uint8Array) => {
      await using c = await WireClient.connect(broker.port);
      await c.sendRaw(bytes);
      assert.equal(await c.closedByPeer(), true, "the broker should close the connection");
    };
    const frame = (size: number, body: number[]) => {
      const b = new Uint8Array(4 + body.length);
      new DataView(b.buffer).setInt32(0, size);
      b.set(body, 4);
      return b;
    };

    await t.step("a negative length closes the connection", () => closes(frame(-5, [])));
    await t.step(
      "a length over socket.request.max.bytes closes the connection",
      () => closes(frame(2 << 20, [0, 0])),
    );
    await t.step(
      "a frame too short for a header closes the connection",
      () => closes(frame(3, [0, 18, 0])),
    );
    await t.step(
      "a header whose client id runs past the frame closes the connection",
      () => closes(frame(10, [0, 18, 0, 0, 0, 0, 0, 1, 0, 99])),
    );
    await t.step(
      "an unknown API key closes the connection",
      () => closes(frame(10, [0x7f, 0x70, 0, 0, 0, 0, 0, 1, 0xff, 0xff])),
    );
    await t.step(
      "an unsupported Metadata version closes the connection",
      () => closes(frame(10, [0, 3, 0, 99, 0, 0, 0, 1, 0xff, 0xff])),
    );
    await t.step("a frame cut off mid-way, then the client hangs up, costs nothing", async () => {
      const c = await WireClient.connect(broker.port);
      await c.sendRaw(frame(100, [0, 18, 0, 0]));
      c.conn.close();
    });

    await using c = await WireClient.connect(broker.port);
    await t.step("a corrupt CRC gets CORRUPT_MESSAGE and nothing is stored", async () => {
      const bad = buildBatch(records(3));
      bad[bad.length - 1] ^= 1;
      const r = await produce(c, "bad", 0, bad);
      assert.equal(r.errorCode, ErrorCode.CORRUPT_MESSAGE);
      assert.match(r.errorMessage ?? "", /CRC/);
    });
    await t.step("a batch over message.max.bytes gets MESSAGE_TOO_LARGE", async () => {
      const big = buildBatch([{ key: null, value: new Uint8Array(5000), headers: [] }]);
      const r = await produce(c, "bad", 0, big);
      assert.equal(r.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    });
    await t.step("Produce v2 gets UNSUPPORTED_VERSION", async () => {
      const r = await produce(c, "bad", 0, buildBatch(records(1)), 2);
      assert.equal(r.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    });
    await t.step("acks=2 gets INVALID_REQUIRED_ACKS", async () => {
      const r = await produce(c, "bad", 0, buildBatch(records(1)), 9, 2);
      assert.equal(r.errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
    });
    await t.step("an unknown partition gets UNKNOWN_TOPIC_OR_PARTITION", async () => {
      const r = await produce(c, "bad", 7, buildBatch(records(1)));
      assert.equal(r.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });
    await t.step("the bad topic holds nothing after all that", async () => {
      const t2 = await broker.context.meta.getTopic("bad");
      assert.equal((await broker.context.meta.partitionState(t2!.id, 0))!.highWatermark, 0);
    });

    stop = true;
    await steady;
    assert.ok(rounds > 0, "the steady client made progress");
  },
);

metaStoreTest(
  "retention.ms and DeleteRecords move the log start, and the sweep frees unreferenced bytes",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const req = defaultCreateTopicsRequest();
    req.topics = [{
      ...defaultCreateTopicsRequestTopic(),
      name: "old",
      numPartitions: 1,
      replicationFactor: 1,
      configs: [{ name: "retention.ms", value: "60000" }],
    }];
    const created = (await c.call(CREATE_TOPICS_API, 7, req)).topics[0];
    assert.equal(created.errorCode, 0);
    const hourAgo = Date.now() - 3_600_000;
    await produce(c, "old", 0, buildBatch(records(2), { baseTimestamp: hourAgo }));
    await produce(c, "old", 0, buildBatch(records(3), { baseTimestamp: Date.now() }));
    // The sweep applies retention first: the old batch leaves the index, then its blob goes.
    assert.equal(await broker.sweep(0), 1, "the expired batch's blob is removed");
    assert.equal(await broker.sweep(0), 0, "the live batch's blob stays");
    const st = await broker.context.meta.partitionState(created.topicId, 0);
    assert.equal(st!.logStartOffset, 2);
    assert.equal(
      (await fetchFrom(c, { name: "old", id: created.topicId }, 0, 0)).errorCode,
      ErrorCode.OFFSET_OUT_OF_RANGE,
    );
    assert.equal(
      decodeRecords(
        flattenRecords((await fetchFrom(c, { name: "old", id: created.topicId }, 0, 2)).records),
      )[0].offset,
      2,
    );

    const del = await c.call(DELETE_RECORDS_API, 2, {
      topics: [{ name: "old", partitions: [{ partitionIndex: 0, offset: -1 }] }],
      timeoutMs: 1000,
    });
    assert.deepEqual(del.topics[0].partitions.map((p) => [p.errorCode, p.lowWatermark]), [[0, 5]]);
    const beyond = await c.call(DELETE_RECORDS_API, 0, {
      topics: [{ name: "old", partitions: [{ partitionIndex: 0, offset: 99 }] }],
      timeoutMs: 1000,
    });
    assert.equal(beyond.topics[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  },
);

metaStoreTest(
  "retention.bytes keeps each partition within its size by dropping the oldest batches",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const batch = (from: number) => buildBatch(records(3, from));
    const size = batch(0).length;
    const req = defaultCreateTopicsRequest();
    req.topics = [{
      ...defaultCreateTopicsRequestTopic(),
      name: "sized",
      numPartitions: 1,
      replicationFactor: 1,
      // Room for two batches and a half: the oldest two of four must go.
      configs: [{ name: "retention.bytes", value: String(Math.floor(size * 2.5)) }],
    }];
    const created = (await c.call(CREATE_TOPICS_API, 7, req)).topics[0];
    assert.equal(created.errorCode, 0);
    for (let i = 0; i < 4; i++) await produce(c, "sized", 0, batch(3 * i));
    await broker.sweep(0);
    const st = await broker.context.meta.partitionState(created.topicId, 0);
    assert.equal(st!.logStartOffset, 6, "two batches of three records went");
    assert.equal(st!.highWatermark, 12);
    const [left] = await broker.context.meta.partitionSizes(created.topicId, 1);
    assert.ok(left <= size * 2.5, `${left} bytes left, over retention.bytes`);
    await broker.sweep(0);
    assert.equal(
      (await broker.context.meta.partitionState(created.topicId, 0))!.logStartOffset,
      6,
      "within its size, nothing more goes",
    );
  },
);

metaStoreTest(
  "IncrementalAlterConfigs changes what DescribeConfigs reports, and refuses unknown configs",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, "cfg", 1);
    const set = await c.call(INCREMENTAL_ALTER_CONFIGS_API, 1, {
      resources: [{
        resourceType: 2,
        resourceName: "cfg",
        configs: [{ name: "retention.ms", configOperation: 0, value: "1234" }],
      }],
      validateOnly: false,
    });
    assert.equal(set.responses[0].errorCode, 0);
    const bad = await c.call(INCREMENTAL_ALTER_CONFIGS_API, 0, {
      resources: [{
        resourceType: 2,
        resourceName: "cfg",
        configs: [{ name: "no.such", configOperation: 0, value: "1" }],
      }],
      validateOnly: false,
    });
    assert.equal(bad.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(bad.responses[0].errorMessage ?? "", /no\.such/);
    for (const v of [1, 4]) {
      const d = await c.call(DESCRIBE_CONFIGS_API, v, {
        resources: [{ resourceType: 2, resourceName: "cfg", configurationKeys: null }],
        includeSynonyms: true,
        includeDocumentation: true,
      });
      const r = d.results[0].configs.find((e) => e.name === "retention.ms")!;
      assert.equal(r.value, "1234");
      assert.equal(r.configSource, 1, "DYNAMIC_TOPIC_CONFIG");
      const def = d.results[0].configs.find((e) => e.name === "cleanup.policy")!;
      assert.equal(def.configSource, 5, "DEFAULT_CONFIG");
    }
  },
);

Deno.test("addressable shape: Metadata lists every live broker and spreads leaders; a stopped broker leaves the list", async () => {
  const meta = new MemoryMetaStore();
  const log = new MemoryLogStore();
  const shared = {
    meta,
    log,
    clusterShape: "addressable" as const,
    advertisedHost: "127.0.0.1",
    defaultPartitions: 6,
  };
  await using a = await testBroker({ ...shared, nodeId: 1 });
  const b = await testBroker({ ...shared, nodeId: 2 });
  // Both brokers start with the same stores; b's lease is read by a at its next renewal,
  // so ask b (which registered last and so has read both).
  await using c = await WireClient.connect(b.port);
  const req = defaultMetadataRequest();
  req.topics = [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", name: "spread" }];
  req.allowAutoTopicCreation = true;
  const res = await c.call(METADATA_API, 12, req);
  assert.deepEqual(res.brokers.map((x) => [x.nodeId, x.port]), [[1, a.port], [2, b.port]]);
  const leaders = new Set(res.topics[0].partitions.map((p) => p.leaderId));
  assert.deepEqual([...leaders].sort(), [1, 2], "six partitions are led by both brokers");
  await b.close();
  assert.deepEqual((await meta.liveBrokers(Date.now())).map((x) => x.nodeId), [1]);
});

Deno.test("a failing or hung store gives producers retriable errors, never a partial commit, and recovers", async (t) => {
  const meta = new MemoryMetaStore();
  const log = new MemoryLogStore();
  const metaFaults = new StoreFaults();
  const logFaults = new StoreFaults();
  const flakyMeta = withFaults(meta, metaFaults);
  const flakyLog = withFaults(log, logFaults);
  await using broker = await testBroker({ meta: flakyMeta, log: flakyLog, storeTimeoutMs: 300 });
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "flaky", 1);
  const topic = await meta.getTopic("flaky");

  await t.step("meta commit failure: REQUEST_TIMED_OUT", async () => {
    metaFaults.set("fail", "commitBatches");
    const r = await produce(c, "flaky", 0, buildBatch(records(1)));
    assert.equal(r.errorCode, ErrorCode.REQUEST_TIMED_OUT);
  });
  await t.step("meta commit hangs: REQUEST_TIMED_OUT after the store timeout", async () => {
    metaFaults.set("hang", "commitBatches");
    const started = performance.now();
    const r = await produce(c, "flaky", 0, buildBatch(records(1)));
    assert.equal(r.errorCode, ErrorCode.REQUEST_TIMED_OUT);
    assert.ok(performance.now() - started < 3000);
  });
  await t.step("log write failure: KAFKA_STORAGE_ERROR", async () => {
    metaFaults.set("ok");
    logFaults.set("fail", "write");
    const r = await produce(c, "flaky", 0, buildBatch(records(1)));
    assert.equal(r.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  });
  await t.step("nothing was committed, and when the stores return produce carries on", async () => {
    logFaults.set("ok");
    assert.equal((await meta.partitionState(topic!.id, 0))!.highWatermark, 0);
    const r = await produce(c, "flaky", 0, buildBatch(records(2)));
    assert.deepEqual([r.errorCode, r.baseOffset], [0, 0]);
  });
});

Deno.test("linger: ends once an idempotent producer's five requests in flight all wait on it", async () => {
  await using broker = await testBroker({ lingerMs: 1500 });
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "window", 1);
  const pid = await initProducer(c);
  /** Sends `n` one-record produce requests back to back; ms until every answer came. */
  const pipelined = async (n: number, from: number, idempotent: boolean) => {
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const batch = buildBatch(
        records(1, from + i),
        idempotent
          ? { producerId: pid.producerId, producerEpoch: pid.producerEpoch, baseSequence: from + i }
          : {},
      );
      await c.send(PRODUCE_API, 12, produceTo("window", 0, batch));
    }
    const offsets: number[] = [];
    for (let i = 0; i < n; i++) {
      const { body } = await c.receive(PRODUCE_API, 12);
      const p = body.responses[0].partitionResponses[0];
      assert.equal(p.errorCode, ErrorCode.NONE);
      offsets.push(Number(p.baseOffset));
    }
    return { ms: performance.now() - started, offsets };
  };
  // Five idempotent requests: the producer can send no more until answered.
  const full = await pipelined(5, 0, true);
  assert.deepEqual(full.offsets, [0, 1, 2, 3, 4]);
  assert.ok(full.ms < 1000, `answered in ${full.ms} ms, not after the 1.5 s linger`);
  // Four: a fifth may still come, so the flush waits out the linger.
  const partial = await pipelined(4, 5, true);
  assert.deepEqual(partial.offsets, [5, 6, 7, 8]);
  assert.ok(partial.ms >= 1400, `answered in ${partial.ms} ms, before the linger`);
  // Not idempotent: no known window, so the linger holds.
  const plain = await pipelined(5, 9, false);
  assert.deepEqual(plain.offsets, [9, 10, 11, 12, 13]);
  assert.ok(plain.ms >= 1400, `answered in ${plain.ms} ms, before the linger`);
});

Deno.test("ListOffsets by timestamp and max timestamp is exact to the record, in any codec", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "times", 1);
  const base = 1_700_000_000_000;
  // Timestamps base+0, +10, +5, +20, +20 at offsets 0-4; then a gzip batch at 5-7.
  const deltas = [0, 10, 5, 20, 20];
  const first = buildBatch(
    records(5).map((r, i) => ({ ...r, timestampDelta: deltas[i] })),
    { baseTimestamp: base },
  );
  await produce(c, "times", 0, first);
  const plain = decodeBatch(buildBatch(
    records(3, 5).map((r, i) => ({ ...r, timestampDelta: [30, 40, 35][i] })),
    { baseTimestamp: base },
  ));
  await produce(c, "times", 0, encodeBatch(plain.header, plain.records, Compression.GZIP));
  const list = async (timestamp: number) => {
    const req = defaultListOffsetsRequest();
    req.replicaId = -1;
    req.topics = [{
      name: "times",
      partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }],
    }];
    const p = (await c.call(LIST_OFFSETS_API, 10, req)).topics[0].partitions[0];
    assert.equal(p.errorCode, 0);
    return [Number(p.offset), Number(p.timestamp)];
  };
  assert.deepEqual(await list(base + 7), [1, base + 10], "the first record at or after +7");
  assert.deepEqual(await list(base + 11), [3, base + 20]);
  assert.deepEqual(await list(base + 36), [6, base + 40], "inside the compressed batch");
  assert.deepEqual(await list(base + 41), [-1, -1], "past every record");
  // -3: the first record holding the greatest timestamp, not the batch's last offset.
  assert.deepEqual(await list(-3), [6, base + 40]);
});
