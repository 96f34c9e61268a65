/**
 * The newest versions Kafka 4.4 serves, over real TCP with exact bytes from
 * our own codec: Produce v13 and Fetch v18 by topic id (KIP-516, KIP-1166),
 * ListOffsets v11 (KIP-1023), OffsetCommit and OffsetFetch v10 by topic id
 * (KIP-848), DeleteGroups v3's error message and ApiVersions v5's expected
 * cluster and node (KIP-1242). The Java client of Kafka 4.4 speaks these.
 */

import assert from "node:assert/strict";
import {
  API_VERSIONS_API,
  type ApiVersionsResponse,
  defaultApiVersionsRequest,
  defaultDeleteTopicsRequest,
  defaultDescribeClusterRequest,
  defaultListOffsetsRequest,
  defaultOffsetCommitRequest,
  defaultOffsetFetchRequest,
  DELETE_GROUPS_API,
  DELETE_TOPICS_API,
  DESCRIBE_CLUSTER_API,
  FETCH_API,
  LIST_OFFSETS_API,
  OFFSET_COMMIT_API,
  OFFSET_FETCH_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { batchOf, createTopic, fetchedRecords } from "./helpers.ts";
import { fetchRequest, produceRequest } from "./wire_requests.ts";

/** An id no topic has, in Kafka's base64 form. */
const UNKNOWN_ID = "Dx4tPEtaaXiHlqW0w9Lh8A";

Deno.test("Produce v13 and Fetch v18 address topics by id", async (t) => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const id = await createTopic(c, "by-id", 2);

  await t.step("produce v13 by id, UNKNOWN_TOPIC_ID for an unknown id", async () => {
    const req = produceRequest("", batchOf(0, 3), 2);
    req.topicData[0].topicId = id;
    req.topicData.push({ ...req.topicData[0], topicId: UNKNOWN_ID });
    const res = await c.call(PRODUCE_API, 13, req);
    assert.deepEqual(res.responses.map((r) => r.topicId), [id, UNKNOWN_ID]);
    assert.deepEqual(
      res.responses[0].partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset]),
      [[0, 0, 0], [1, 0, 0]],
    );
    assert.deepEqual(
      res.responses[1].partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset]),
      [[0, ErrorCode.UNKNOWN_TOPIC_ID, -1], [1, ErrorCode.UNKNOWN_TOPIC_ID, -1]],
    );
  });

  await t.step("produce v12 still names the topic", async () => {
    const res = await c.call(PRODUCE_API, 12, produceRequest("by-id", batchOf(3, 2), 1));
    assert.equal(res.responses[0].name, "by-id");
    assert.deepEqual(
      res.responses[0].partitionResponses.map((p) => [p.errorCode, p.baseOffset]),
      [[0, 3]],
    );
  });

  await t.step("fetch v18 reads back, the follower high watermark ignored", async () => {
    const req = fetchRequest({ name: "", id }, 0, 0);
    req.topics[0].partitions[0].highWatermark = 1;
    req.topics.push({ ...req.topics[0], topicId: UNKNOWN_ID });
    const res = await c.call(FETCH_API, 18, req);
    assert.deepEqual(res.responses.map((r) => r.topicId), [id, UNKNOWN_ID]);
    const [p] = res.responses[0].partitions;
    assert.equal(p.errorCode, ErrorCode.NONE);
    assert.equal(p.highWatermark, 5);
    assert.deepEqual(fetchedRecords(p), [
      [0, "k0", "v0"],
      [1, "k1", "v1"],
      [2, "k2", "v2"],
      [3, "k3", "v3"],
      [4, "k4", "v4"],
    ]);
    const unknown = res.responses[1].partitions[0];
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    assert.equal(unknown.highWatermark, -1);
  });

  await t.step("the v18 high watermark is a tagged field, left out at its default", () => {
    const at = (hw: number | null) => {
      const req = fetchRequest({ name: "", id }, 0, 0);
      if (hw !== null) req.topics[0].partitions[0].highWatermark = hw;
      const w = new Writer(128);
      FETCH_API.encodeRequest(w, req, 18);
      return w.bytes();
    };
    const plain = at(null);
    const tagged = at(7);
    // One tagged field more: tag 1, size 8, the int64.
    assert.equal(tagged.length, plain.length + 10);
  });

  await t.step("ListOffsets v11: -5 and -6 are -1 without tiered storage", async () => {
    const ask = async (version: number, timestamp: number) => {
      const req = defaultListOffsetsRequest();
      req.replicaId = -1;
      req.timeoutMs = 1000;
      req.topics = [{
        name: "by-id",
        partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }],
      }];
      const p = (await c.call(LIST_OFFSETS_API, version, req)).topics[0].partitions[0];
      return [p.errorCode, p.offset, p.timestamp, p.leaderEpoch];
    };
    assert.deepEqual(await ask(11, -1), [0, 5, -1, 0]);
    assert.deepEqual(await ask(11, -2), [0, 0, -1, 0]);
    assert.deepEqual(await ask(11, -4), [0, 0, -1, 0]);
    assert.deepEqual(await ask(11, -5), [0, -1, -1, -1]);
    assert.deepEqual(await ask(11, -6), [0, -1, -1, -1]);
    // As Kafka 4.4 answers a special timestamp the version does not know.
    assert.deepEqual(await ask(9, -6), [ErrorCode.UNSUPPORTED_VERSION, -1, -1, -1]);
    assert.deepEqual(await ask(7, -4), [ErrorCode.UNSUPPORTED_VERSION, -1, -1, -1]);
    assert.deepEqual(await ask(11, -7), [ErrorCode.UNSUPPORTED_VERSION, -1, -1, -1]);
  });
});

Deno.test("OffsetCommit and OffsetFetch v10 address topics by id", async (t) => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const id = await createTopic(c, "committed", 2);
  const gone = await createTopic(c, "gone", 1);

  await t.step("commit v10 by id, UNKNOWN_TOPIC_ID for an unknown id", async () => {
    const req = defaultOffsetCommitRequest();
    req.groupId = "g10";
    req.memberId = "";
    req.generationIdOrMemberEpoch = -1;
    const at = (partitionIndex: number, committedOffset: number, meta: string | null) => ({
      partitionIndex,
      committedOffset,
      committedLeaderEpoch: 0,
      committedMetadata: meta,
    });
    req.topics = [
      { name: "", topicId: id, partitions: [at(0, 7, "m"), at(1, 3, null)] },
      { name: "", topicId: UNKNOWN_ID, partitions: [at(0, 1, null)] },
      { name: "", topicId: ZERO_UUID, partitions: [at(0, 1, null)] },
      { name: "", topicId: gone, partitions: [at(0, 2, null)] },
    ];
    const res = await c.call(OFFSET_COMMIT_API, 10, req);
    assert.deepEqual(
      res.topics.map((t) => [t.topicId, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
      [
        [id, [[0, 0], [1, 0]]],
        [UNKNOWN_ID, [[0, ErrorCode.UNKNOWN_TOPIC_ID]]],
        [ZERO_UUID, [[0, ErrorCode.UNKNOWN_TOPIC_ID]]],
        [gone, [[0, 0]]],
      ],
    );
  });

  const fetch = async (version: number, topics: { id: string; name: string }[] | null) => {
    const req = defaultOffsetFetchRequest();
    req.groups = [{
      groupId: "g10",
      memberId: null,
      memberEpoch: -1,
      topics: topics &&
        topics.map((t) => ({ name: t.name, topicId: t.id, partitionIndexes: [0, 1] })),
    }];
    const [g] = (await c.call(OFFSET_FETCH_API, version, req)).groups;
    assert.equal(g.errorCode, ErrorCode.NONE);
    return g.topics.map((t) => [
      version >= 10 ? t.topicId : t.name,
      t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]),
    ]);
  };

  await t.step("fetch v10 by id, UNKNOWN_TOPIC_ID for an unknown id", async () => {
    assert.deepEqual(await fetch(10, [{ id, name: "" }, { id: UNKNOWN_ID, name: "" }]), [
      [id, [[0, 7, "m", 0], [1, 3, "", 0]]],
      [UNKNOWN_ID, [[0, -1, "", ErrorCode.UNKNOWN_TOPIC_ID], [
        1,
        -1,
        "",
        ErrorCode.UNKNOWN_TOPIC_ID,
      ]]],
    ]);
  });

  await t.step("the offsets are stored by name: v9 reads them by name", async () => {
    assert.deepEqual(await fetch(9, [{ id: ZERO_UUID, name: "committed" }]), [
      ["committed", [[0, 7, "m", 0], [1, 3, "", 0]]],
    ]);
  });

  await t.step("fetch v10 of every topic leaves out a topic that no longer exists", async () => {
    assert.deepEqual((await fetch(10, null)).map(([topicId]) => topicId).sort(), [gone, id].sort());
    const del = await c.call(DELETE_TOPICS_API, 6, {
      ...defaultDeleteTopicsRequest(),
      timeoutMs: 5000,
      topics: [{ name: null, topicId: gone }],
    });
    assert.equal(del.responses[0].errorCode, ErrorCode.NONE);
    assert.deepEqual(await fetch(10, null), [[id, [[0, 7, "m", 0], [1, 3, "", 0]]]]);
  });
});

Deno.test("DeleteGroups v3 answers an error message per group", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const id = await createTopic(c, "t", 1);
  const commit = defaultOffsetCommitRequest();
  commit.groupId = "empty";
  commit.topics = [{
    name: "",
    topicId: id,
    partitions: [{
      partitionIndex: 0,
      committedOffset: 1,
      committedLeaderEpoch: -1,
      committedMetadata: null,
    }],
  }];
  const committed = await c.call(OFFSET_COMMIT_API, 10, commit);
  assert.equal(committed.topics[0].partitions[0].errorCode, ErrorCode.NONE);
  const res = await c.call(DELETE_GROUPS_API, 3, { groupsNames: ["empty", "nope", "empty"] });
  // Null for the coordinator's own verdicts, as Kafka 4.4 answers.
  assert.deepEqual(res.results, [
    { groupId: "empty", errorCode: ErrorCode.NONE, errorMessage: null },
    { groupId: "nope", errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: null },
    { groupId: "empty", errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: null },
  ]);
});

/** ApiVersions v5 with the cluster and node the client expects. */
async function apiVersionsV5(
  port: number,
  clusterId: string | null,
  nodeId: number,
): Promise<ApiVersionsResponse> {
  await using c = await WireClient.connect(port);
  return await c.call(API_VERSIONS_API, 5, {
    ...defaultApiVersionsRequest(),
    clientSoftwareName: "wire-test",
    clientSoftwareVersion: "1",
    clusterId,
    nodeId,
  });
}

Deno.test("ApiVersions v5 checks the cluster and node the client expects", async (t) => {
  await using broker = await testBroker({ nodeId: 3 });
  await using c = await WireClient.connect(broker.port);
  const cluster = await c.call(DESCRIBE_CLUSTER_API, 0, defaultDescribeClusterRequest());
  assert.equal(cluster.clusterId, broker.clusterId);

  await t.step("the request's exact bytes", async () => {
    const w = new Writer(64);
    API_VERSIONS_API.encodeRequest(w, {
      clientSoftwareName: "a",
      clientSoftwareVersion: "1",
      clusterId: "cid",
      nodeId: 3,
    }, 5);
    assert.deepEqual(
      [...w.bytes()],
      [2, 0x61, 2, 0x31, 4, 0x63, 0x69, 0x64, 0, 0, 0, 3, 0],
    );
    // And the refusal's: REBOOTSTRAP_REQUIRED (129), no APIs, no tagged fields.
    const id = await c.send(API_VERSIONS_API, 5, {
      clientSoftwareName: "a",
      clientSoftwareVersion: "1",
      clusterId: "cid",
      nodeId: 3,
    });
    const frame = await c.readFrame();
    assert.deepEqual([...frame!], [0, 0, 0, id, 0, 129, 1, 0, 0, 0, 0, 0]);
  });

  await t.step("a matching or absent cluster and node get the list", async () => {
    for (const [clusterId, nodeId] of [[broker.clusterId, 3], [null, -1]] as const) {
      const res = await apiVersionsV5(broker.port, clusterId, nodeId);
      assert.equal(res.errorCode, ErrorCode.NONE);
      const versions = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
      assert.deepEqual(versions.get(0), [0, 13]);
      assert.deepEqual(versions.get(1), [4, 18]);
      assert.deepEqual(versions.get(2), [1, 11]);
      assert.deepEqual(versions.get(8), [2, 10]);
      assert.deepEqual(versions.get(9), [1, 10]);
      assert.deepEqual(versions.get(18), [0, 5]);
      assert.deepEqual(versions.get(42), [0, 3]);
    }
  });

  await t.step("another cluster or node: REBOOTSTRAP_REQUIRED, empty", async () => {
    for (const [clusterId, nodeId] of [["other", 3], [broker.clusterId, 4]] as const) {
      const res = await apiVersionsV5(broker.port, clusterId, nodeId);
      assert.equal(res.errorCode, ErrorCode.REBOOTSTRAP_REQUIRED);
      assert.deepEqual(res.apiKeys, []);
      assert.deepEqual(res.supportedFeatures, []);
    }
  });

  await t.step("only one of them: INVALID_REQUEST, as Kafka 4.4 answers", async () => {
    for (const [clusterId, nodeId] of [[broker.clusterId, -1], [null, 3]] as const) {
      const res = await apiVersionsV5(broker.port, clusterId, nodeId);
      assert.equal(res.errorCode, ErrorCode.INVALID_REQUEST);
      assert.deepEqual(res.apiKeys, []);
    }
  });

  await t.step("the connection serves on after a refusal", async () => {
    await c.call(API_VERSIONS_API, 5, {
      ...defaultApiVersionsRequest(),
      clusterId: "other",
      nodeId: 3,
    });
    const res = await c.call(API_VERSIONS_API, 5, defaultApiVersionsRequest());
    assert.equal(res.errorCode, ErrorCode.NONE);
  });
});

Deno.test("ApiVersions v5: brokers behind one address match the same expectation", async () => {
  // Load-balanced brokers share the stores, the cluster id and the node id.
  const meta = new MemoryMetaStore();
  const log = new MemoryLogStore();
  await using a = await testBroker({ meta, log, nodeId: 0 });
  await using b = await testBroker({ meta, log, nodeId: 0 });
  await using c = await WireClient.connect(a.port);
  const cluster = await c.call(DESCRIBE_CLUSTER_API, 0, defaultDescribeClusterRequest());
  const node = cluster.brokers[0].brokerId;
  const res = await apiVersionsV5(b.port, cluster.clusterId, node);
  assert.equal(res.errorCode, ErrorCode.NONE);
  assert.ok(res.apiKeys.length > 0);
});
