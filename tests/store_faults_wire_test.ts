/**
 * Every partition API and group API, over TCP, while the meta store or the
 * log store fails at once or never answers: each gets a retriable Kafka error
 * in bounded time (the store guard's deadline), the connection stays open
 * (ApiVersions on it still answers), and once the store is back the same
 * connection is served normally.
 */

import assert from "node:assert/strict";
import { ErrorCode } from "../protocol/errors.ts";
import type { ApiCodec } from "../protocol/frame.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import {
  API_VERSIONS_API,
  CONSUMER_GROUP_HEARTBEAT_API,
  CREATE_PARTITIONS_API,
  CREATE_TOPICS_API,
  defaultConsumerGroupHeartbeatRequest,
  defaultCreatePartitionsRequest,
  defaultCreateTopicsRequest,
  defaultCreateTopicsRequestTopic,
  defaultDeleteGroupsRequest,
  defaultDeleteRecordsRequest,
  defaultDeleteTopicsRequest,
  defaultDescribeGroupsRequest,
  defaultDescribeTopicPartitionsRequest,
  defaultHeartbeatRequest,
  defaultInitProducerIdRequest,
  defaultJoinGroupRequest,
  defaultLeaveGroupRequest,
  defaultListGroupsRequest,
  defaultListOffsetsRequest,
  defaultMetadataRequest,
  defaultOffsetCommitRequest,
  defaultOffsetCommitRequestPartition,
  defaultOffsetDeleteRequest,
  defaultOffsetFetchRequest,
  defaultOffsetForLeaderEpochRequest,
  defaultSyncGroupRequest,
  DELETE_GROUPS_API,
  DELETE_RECORDS_API,
  DELETE_TOPICS_API,
  DESCRIBE_GROUPS_API,
  DESCRIBE_TOPIC_PARTITIONS_API,
  FETCH_API,
  HEARTBEAT_API,
  INIT_PRODUCER_ID_API,
  JOIN_GROUP_API,
  LEAVE_GROUP_API,
  LIST_GROUPS_API,
  LIST_OFFSETS_API,
  METADATA_API,
  OFFSET_COMMIT_API,
  OFFSET_DELETE_API,
  OFFSET_FETCH_API,
  OFFSET_FOR_LEADER_EPOCH_API,
  PRODUCE_API,
  SYNC_GROUP_API,
} from "../protocol/generated/mod.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { testBroker } from "./broker_util.ts";
import { type FaultMode, StoreFaults, withFaults } from "./faulty_store.ts";
import { batchOf, createTopic } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";
import { fetchRequest, produceRequest } from "./wire_requests.ts";

const STORE_TIMEOUT_MS = 300;
/** Time allowed beyond the store deadline (a few store calls in a row, a slow CI machine). */
const SLACK_MS = 3000;

/** Codes a client retries (after refreshing metadata or finding the coordinator again). */
const RETRIABLE = new Set<number>([
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
]);

/** Every errorCode anywhere in a response. */
function codes(v: unknown, out: number[] = []): number[] {
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return out;
  if (Array.isArray(v)) {
    for (const x of v) codes(x, out);
    return out;
  }
  for (const [k, x] of Object.entries(v)) {
    if (k === "errorCode" && typeof x === "number") out.push(x);
    else codes(x, out);
  }
  return out;
}

/** Store calls that failed or hung, leaving out the broker's own periodic reads. */
function requestHits(faults: StoreFaults, cse: Case): number {
  let n = 0;
  for (const [op, count] of faults.hit) {
    if (!BACKGROUND_OPS.has(op) || cse.reaches?.includes(op)) n += count;
  }
  return n;
}

/** What brokers read on their own every second (dynamic configs, the group sweep). */
const BACKGROUND_OPS = new Set(["entityConfigs", "listGroups"]);

interface Case {
  name: string;
  // deno-lint-ignore no-explicit-any
  api: ApiCodec<any, any>;
  version: number;
  request: () => unknown;
  /** Background operations this request calls too (counted as reaching the store). */
  reaches?: string[];
  /** Which store a failure of makes this request fail. */
  stores: ("meta" | "log")[];
}

const TOPIC = "faulty";
/** Created in the store directly, so the broker's topic cache has never seen it. */
const UNCACHED = "elsewhere";

function cases(topicId: string): Case[] {
  const topic = { name: TOPIC, id: topicId };
  const listOffsets = () => {
    const r = defaultListOffsetsRequest();
    r.replicaId = -1;
    r.topics = [{
      name: TOPIC,
      partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }],
    }];
    return r;
  };
  const commit = (topic = TOPIC) => {
    const r = defaultOffsetCommitRequest();
    r.groupId = "g";
    r.generationIdOrMemberEpoch = -1;
    r.topics = [{
      name: topic,
      topicId: ZERO_UUID,
      partitions: [{
        ...defaultOffsetCommitRequestPartition(),
        partitionIndex: 0,
        committedOffset: 1,
      }],
    }];
    return r;
  };
  return [
    {
      name: "CreateTopics",
      api: CREATE_TOPICS_API,
      version: 7,
      stores: ["meta"],
      request: () => ({
        ...defaultCreateTopicsRequest(),
        timeoutMs: 5000,
        topics: [{
          ...defaultCreateTopicsRequestTopic(),
          name: `other-${crypto.randomUUID()}`,
          numPartitions: 1,
          replicationFactor: -1,
        }],
      }),
    },
    {
      name: "CreatePartitions",
      api: CREATE_PARTITIONS_API,
      version: 3,
      stores: ["meta"],
      request: () => ({
        ...defaultCreatePartitionsRequest(),
        timeoutMs: 5000,
        topics: [{ name: TOPIC, count: 2, assignments: null }],
      }),
    },
    {
      name: "DeleteTopics",
      api: DELETE_TOPICS_API,
      version: 6,
      stores: ["meta"],
      request: () => ({
        ...defaultDeleteTopicsRequest(),
        timeoutMs: 5000,
        topics: [{ name: `missing-${crypto.randomUUID()}`, topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
      }),
    },
    {
      name: "InitProducerId",
      api: INIT_PRODUCER_ID_API,
      version: 4,
      stores: ["meta"],
      request: () => ({
        ...defaultInitProducerIdRequest(),
        transactionalId: null,
        transactionTimeoutMs: 60_000,
      }),
    },
    {
      name: "InitProducerId (transactional)",
      api: INIT_PRODUCER_ID_API,
      version: 4,
      stores: ["meta"],
      request: () => ({
        ...defaultInitProducerIdRequest(),
        transactionalId: "faulty-tx",
        transactionTimeoutMs: 60_000,
      }),
    },
    {
      name: "DescribeTopicPartitions",
      api: DESCRIBE_TOPIC_PARTITIONS_API,
      version: 0,
      stores: ["meta"],
      request: () => ({
        ...defaultDescribeTopicPartitionsRequest(),
        topics: [{ name: `unknown-${crypto.randomUUID()}` }],
        responsePartitionLimit: 100,
      }),
    },
    {
      name: "Produce",
      api: PRODUCE_API,
      version: 12,
      stores: ["meta", "log"],
      request: () => produceRequest(TOPIC, batchOf(0, 2)),
    },
    // The batch produced before the faults was never read, so it is not in the blob cache.
    {
      name: "Fetch",
      api: FETCH_API,
      version: 17,
      stores: ["meta", "log"],
      request: () => fetchRequest(topic, 0, 0, 100),
    },
    {
      name: "ListOffsets",
      api: LIST_OFFSETS_API,
      version: 7,
      stores: ["meta"],
      request: listOffsets,
    },
    {
      name: "DeleteRecords",
      api: DELETE_RECORDS_API,
      version: 2,
      stores: ["meta"],
      request: () => ({
        ...defaultDeleteRecordsRequest(),
        timeoutMs: 5000,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: 0 }] }],
      }),
    },
    {
      name: "OffsetForLeaderEpoch",
      api: OFFSET_FOR_LEADER_EPOCH_API,
      version: 4,
      stores: ["meta"],
      request: () => ({
        ...defaultOffsetForLeaderEpochRequest(),
        replicaId: -1,
        topics: [{
          topic: TOPIC,
          partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }],
        }],
      }),
    },
    {
      name: "Metadata (auto-create of a new topic)",
      api: METADATA_API,
      version: 12,
      stores: ["meta"],
      request: () => ({
        ...defaultMetadataRequest(),
        topics: [{ name: `new-${crypto.randomUUID()}`, topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
        allowAutoTopicCreation: true,
      }),
    },
    {
      name: "JoinGroup",
      api: JOIN_GROUP_API,
      version: 9,
      stores: ["meta"],
      request: () => ({
        ...defaultJoinGroupRequest(),
        groupId: "g",
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: "",
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: new Uint8Array(0) }],
      }),
    },
    {
      name: "Heartbeat",
      api: HEARTBEAT_API,
      version: 4,
      stores: ["meta"],
      request: () => ({
        ...defaultHeartbeatRequest(),
        groupId: "g",
        generationId: 1,
        memberId: "m",
      }),
    },
    {
      name: "OffsetCommit",
      api: OFFSET_COMMIT_API,
      version: 9,
      stores: ["meta"],
      request: () => commit(),
    },
    {
      // A topic this broker never looked up (another broker made it): the lookup reaches the store.
      name: "OffsetCommit (a topic not in the broker's cache)",
      api: OFFSET_COMMIT_API,
      version: 9,
      stores: ["meta"],
      request: () => commit(UNCACHED),
    },
    {
      name: "OffsetFetch",
      api: OFFSET_FETCH_API,
      version: 9,
      stores: ["meta"],
      request: () => ({
        ...defaultOffsetFetchRequest(),
        groups: [{ groupId: "g", memberId: null, memberEpoch: -1, topics: null }],
      }),
    },
    {
      name: "DescribeGroups",
      api: DESCRIBE_GROUPS_API,
      version: 5,
      stores: ["meta"],
      request: () => ({ ...defaultDescribeGroupsRequest(), groups: ["g"] }),
    },
    {
      name: "SyncGroup",
      api: SYNC_GROUP_API,
      version: 5,
      stores: ["meta"],
      request: () => ({
        ...defaultSyncGroupRequest(),
        groupId: "g",
        generationId: 1,
        memberId: "m",
        protocolType: "consumer",
        protocolName: "range",
        assignments: [],
      }),
    },
    {
      name: "LeaveGroup",
      api: LEAVE_GROUP_API,
      version: 5,
      stores: ["meta"],
      request: () => ({
        ...defaultLeaveGroupRequest(),
        groupId: "g",
        members: [{ memberId: "m", groupInstanceId: null, reason: null }],
      }),
    },
    {
      name: "DeleteGroups",
      api: DELETE_GROUPS_API,
      version: 2,
      stores: ["meta"],
      request: () => ({ ...defaultDeleteGroupsRequest(), groupsNames: ["g"] }),
    },
    {
      name: "OffsetDelete",
      api: OFFSET_DELETE_API,
      version: 0,
      stores: ["meta"],
      request: () => ({
        ...defaultOffsetDeleteRequest(),
        groupId: "g",
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0 }] }],
      }),
    },
    {
      name: "ListGroups",
      api: LIST_GROUPS_API,
      reaches: ["listGroups"],
      version: 5,
      stores: ["meta"],
      request: () => defaultListGroupsRequest(),
    },
    {
      name: "ConsumerGroupHeartbeat",
      api: CONSUMER_GROUP_HEARTBEAT_API,
      version: 0,
      stores: ["meta"],
      request: () => ({
        ...defaultConsumerGroupHeartbeatRequest(),
        groupId: "cg",
        memberId: crypto.randomUUID(),
        memberEpoch: 0,
        rebalanceTimeoutMs: 10_000,
        subscribedTopicNames: [TOPIC],
        serverAssignor: "range",
        topicPartitions: [],
      }),
    },
  ];
}

for (const store of ["meta", "log"] as const) {
  for (const mode of ["fail", "hang"] as FaultMode[]) {
    Deno.test(`a ${store} store that ${mode === "fail" ? "fails" : "hangs"}: every partition and group API answers a retriable error and keeps the connection`, async (t) => {
      const faults = new StoreFaults();
      const meta = new MemoryMetaStore();
      const log = new MemoryLogStore();
      await using broker = await testBroker({
        meta: store === "meta" ? withFaults(meta, faults) : meta,
        log: store === "log" ? withFaults(log, faults) : log,
        storeTimeoutMs: STORE_TIMEOUT_MS,
        autoCreateTopics: true,
      });
      await using c = await WireClient.connect(broker.port);
      const topicId = await createTopic(c, TOPIC, 1);
      assert.ok(await meta.createTopic({ name: UNCACHED, partitions: 1, configs: {} }));
      // Two records before the faults: Fetch must read them from the log store.
      const before = await c.call(PRODUCE_API, 12, produceRequest(TOPIC, batchOf(0, 2)));
      assert.equal(before.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
      for (const cse of cases(topicId)) {
        if (!cse.stores.includes(store)) continue;
        await t.step(cse.name, async () => {
          faults.set(mode);
          const hitsBefore = requestHits(faults, cse);
          const started = performance.now();
          const res = await c.call(cse.api, cse.version, cse.request());
          const ms = performance.now() - started;
          faults.set("ok");
          const found = codes(res);
          const refused = found.filter((x) => x !== ErrorCode.NONE);
          const hits = requestHits(faults, cse) - hitsBefore;
          assert.ok(hits > 0, `${cse.name} did not reach the ${store} store at all`);
          assert.ok(refused.length > 0, `${cse.name} answered ${JSON.stringify(found)}: no error`);
          for (const code of refused) {
            assert.ok(RETRIABLE.has(code), `${cse.name}: error ${code} is not retriable`);
          }
          assert.ok(ms < STORE_TIMEOUT_MS + SLACK_MS, `${cse.name} answered after ${ms} ms`);
          // The same connection is still served.
          const versions = await c.call(API_VERSIONS_API, 3, {
            clientSoftwareName: "faults",
            clientSoftwareVersion: "1",
            clusterId: null,
            nodeId: -1,
          });
          assert.equal(versions.errorCode, ErrorCode.NONE);
        });
      }
      await t.step("once the store is back the same connection produces and fetches", async () => {
        faults.set("ok");
        const produced = await c.call(PRODUCE_API, 12, produceRequest(TOPIC, batchOf(10, 3)));
        assert.equal(produced.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
        const fetched = await c.call(FETCH_API, 17, fetchRequest({ name: TOPIC, id: topicId }));
        assert.equal(fetched.responses[0].partitions[0].errorCode, ErrorCode.NONE);
        // The two from before and these three: nothing refused was committed.
        assert.equal(Number(fetched.responses[0].partitions[0].highWatermark), 5);
      });
    });
  }
}
