/**
 * The partition and replica admin APIs over real TCP with exact bytes from our
 * own codec, each in its lowest and highest version: DescribeTopicPartitions
 * (with KIP-966 paging across topics), ElectLeaders, AlterPartitionReassignments,
 * ListPartitionReassignments, AlterReplicaLogDirs and DescribeLogDirs; and
 * store failures answered with retriable errors on a connection that stays
 * open. The expected answers are what Apache Kafka 4.4 answered to the same
 * requests on a single node (its node id and log directory aside).
 */

import assert from "node:assert/strict";
import {
  ALTER_PARTITION_REASSIGNMENTS_API,
  ALTER_REPLICA_LOG_DIRS_API,
  type AlterPartitionReassignmentsRequest,
  defaultDescribeTopicPartitionsRequest,
  defaultMetadataRequest,
  DESCRIBE_LOG_DIRS_API,
  DESCRIBE_TOPIC_PARTITIONS_API,
  type DescribeTopicPartitionsRequest,
  type DescribeTopicPartitionsResponsePartition,
  type DescribeTopicPartitionsResponseTopic,
  ELECT_LEADERS_API,
  LIST_PARTITION_REASSIGNMENTS_API,
  METADATA_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import type { MetaStore } from "../stores/types.ts";
import { topicAuthorizedOperations } from "../handlers/_authorized_operations.ts";
import { testBroker } from "./broker_util.ts";
import { batchOf, createTopic, metaStoreTest, produceAll } from "./helpers.ts";
import { StoreFaults, withFaults } from "./faulty_store.ts";
import { WireClient } from "./wire_client.ts";

/** Every topic operation allowed (KIP-430 bits 3-8, 10, 11), as Kafka answers without ACLs. */
const ALL_TOPIC_OPS = 3576;
const OMITTED = -2147483648;

/** The three topics every test starts with: name -> partitions. */
const TOPICS: [string, number][] = [["ta", 3], ["tb", 1], ["tc", 2]];

/** A broker with TOPICS created; their ids by name. */
async function adminBroker(meta: MetaStore) {
  const broker = await testBroker({ meta });
  const c = await WireClient.connect(broker.port);
  const ids = new Map<string, string>();
  for (const [name, n] of TOPICS) ids.set(name, await createTopic(c, name, n));
  return { broker, c, ids };
}

/** A partition as DescribeTopicPartitions names it on a one-broker (node 0) cluster. */
function partition(i: number): DescribeTopicPartitionsResponsePartition {
  return {
    errorCode: 0,
    partitionIndex: i,
    leaderId: 0,
    leaderEpoch: 0,
    replicaNodes: [0],
    isrNodes: [0],
    eligibleLeaderReplicas: [],
    lastKnownElr: [],
    offlineReplicas: [],
  };
}

function topic(
  name: string,
  id: string,
  partitions: number[],
): DescribeTopicPartitionsResponseTopic {
  return {
    errorCode: 0,
    name,
    topicId: id,
    isInternal: false,
    partitions: partitions.map(partition),
    topicAuthorizedOperations: ALL_TOPIC_OPS,
  };
}

function missing(name: string, errorCode: number): DescribeTopicPartitionsResponseTopic {
  return {
    errorCode,
    name,
    topicId: ZERO_UUID,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: ALL_TOPIC_OPS,
  };
}

Deno.test("topicAuthorizedOperations is Kafka's bit set of every topic operation, or omitted", () => {
  assert.equal(topicAuthorizedOperations(true), ALL_TOPIC_OPS);
  assert.equal(topicAuthorizedOperations(false), OMITTED);
});

metaStoreTest(
  "DescribeTopicPartitions describes topics in name order and pages them",
  async (meta, t) => {
    const { broker, c, ids } = await adminBroker(meta);
    await using _b = broker;
    await using _c = c;
    const id = (n: string) => ids.get(n)!;
    const dtp = (body: Partial<DescribeTopicPartitionsRequest>) =>
      c.call(DESCRIBE_TOPIC_PARTITIONS_API, 0, {
        ...defaultDescribeTopicPartitionsRequest(),
        ...body,
      });

    await t.step("no topics named: every topic, all partitions, no next cursor", async () => {
      assert.deepEqual(await dtp({}), {
        throttleTimeMs: 0,
        topics: [
          topic("ta", id("ta"), [0, 1, 2]),
          topic("tb", id("tb"), [0]),
          topic("tc", id("tc"), [0, 1]),
        ],
        nextCursor: null,
      });
    });

    await t.step("leaders and replicas are the ones Metadata names", async () => {
      const md = await c.call(METADATA_API, 12, { ...defaultMetadataRequest(), topics: null });
      const page = await dtp({});
      for (const mt of md.topics) {
        const dt = page.topics.find((x) => x.name === mt.name)!;
        assert.equal(dt.topicId, mt.topicId);
        for (const mp of mt.partitions) {
          const dp = dt.partitions.find((x) => x.partitionIndex === mp.partitionIndex)!;
          assert.equal(dp.leaderId, mp.leaderId, `${mt.name}-${mp.partitionIndex} leader`);
          assert.deepEqual(dp.replicaNodes, mp.replicaNodes);
          assert.deepEqual(dp.isrNodes, mp.isrNodes);
          assert.equal(dp.leaderEpoch, mp.leaderEpoch);
        }
      }
    });

    await t.step("a limit of 2 pages across topics, from cursor to cursor", async () => {
      const pages = [];
      let cursor: DescribeTopicPartitionsRequest["cursor"] = null;
      do {
        const page = await dtp({ responsePartitionLimit: 2, cursor });
        pages.push(page);
        cursor = page.nextCursor;
      } while (cursor !== null && pages.length < 10);
      assert.deepEqual(pages, [
        {
          throttleTimeMs: 0,
          topics: [topic("ta", id("ta"), [0, 1])],
          nextCursor: { topicName: "ta", partitionIndex: 2 },
        },
        {
          // The limit is reached at tb's end: the next page starts at tc's first partition.
          throttleTimeMs: 0,
          topics: [topic("ta", id("ta"), [2]), topic("tb", id("tb"), [0])],
          nextCursor: { topicName: "tc", partitionIndex: 0 },
        },
        { throttleTimeMs: 0, topics: [topic("tc", id("tc"), [0, 1])], nextCursor: null },
      ]);
    });

    await t.step("limits of 3 and 4 end at a topic's end; 0 and less give 1", async () => {
      for (
        const [limit, topics, next] of [
          [3, [topic("ta", id("ta"), [0, 1, 2])], { topicName: "tb", partitionIndex: 0 }],
          [
            4,
            [topic("ta", id("ta"), [0, 1, 2]), topic("tb", id("tb"), [0])],
            { topicName: "tc", partitionIndex: 0 },
          ],
          [0, [topic("ta", id("ta"), [0])], { topicName: "ta", partitionIndex: 1 }],
          [-1, [topic("ta", id("ta"), [0])], { topicName: "ta", partitionIndex: 1 }],
        ] as const
      ) {
        assert.deepEqual(
          await dtp({ responsePartitionLimit: limit }),
          { throttleTimeMs: 0, topics, nextCursor: next },
          `limit ${limit}`,
        );
      }
    });

    await t.step(
      "named topics: sorted, each once; unknown and invalid ones answer errors",
      async () => {
        assert.deepEqual(
          await dtp({
            topics: [{ name: "tc" }, { name: "zz" }, { name: "ta" }, { name: "a.b!" }, {
              name: "tc",
            }],
          }),
          {
            throttleTimeMs: 0,
            topics: [
              missing("a.b!", ErrorCode.INVALID_TOPIC_EXCEPTION),
              topic("ta", id("ta"), [0, 1, 2]),
              topic("tc", id("tc"), [0, 1]),
              missing("zz", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
            ],
            nextCursor: null,
          },
        );
        // Unknown topics use none of the limit; a limit reached names the next topic, known or not.
        assert.deepEqual(
          await dtp({
            responsePartitionLimit: 1,
            topics: [{ name: "tc" }, { name: "nn" }, { name: "ta" }],
          }),
          {
            throttleTimeMs: 0,
            topics: [
              missing("nn", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
              topic("ta", id("ta"), [0]),
            ],
            nextCursor: { topicName: "ta", partitionIndex: 1 },
          },
        );
        assert.deepEqual(
          await dtp({
            responsePartitionLimit: 3,
            topics: [{ name: "tc" }, { name: "tb0" }, { name: "ta" }],
          }),
          {
            throttleTimeMs: 0,
            topics: [topic("ta", id("ta"), [0, 1, 2])],
            nextCursor: { topicName: "tb0", partitionIndex: 0 },
          },
        );
      },
    );

    await t.step(
      "cursors: past a topic's end, at an unknown topic, missing from the names",
      async () => {
        assert.deepEqual(await dtp({ cursor: { topicName: "ta", partitionIndex: 9 } }), {
          throttleTimeMs: 0,
          topics: [
            topic("ta", id("ta"), []),
            topic("tb", id("tb"), [0]),
            topic("tc", id("tc"), [0, 1]),
          ],
          nextCursor: null,
        });
        assert.deepEqual(await dtp({ cursor: { topicName: "tab", partitionIndex: 1 } }), {
          throttleTimeMs: 0,
          topics: [topic("tb", id("tb"), [0]), topic("tc", id("tc"), [0, 1])],
          nextCursor: null,
        });
        assert.deepEqual(
          await dtp({ topics: [{ name: "tc" }], cursor: { topicName: "ta", partitionIndex: 0 } }),
          {
            throttleTimeMs: 0,
            topics: [{
              ...missing("tc", ErrorCode.INVALID_REQUEST),
              topicAuthorizedOperations: OMITTED,
            }],
            nextCursor: null,
          },
        );
      },
    );
  },
);

metaStoreTest(
  "ElectLeaders answers ELECTION_NOT_NEEDED: leadership never moves",
  async (meta, t) => {
    const { broker, c } = await adminBroker(meta);
    await using _b = broker;
    await using _c = c;
    for (const v of [0, 2]) {
      await t.step(`v${v}`, async () => {
        // Null partitions: every topic, with the partitions that needed no election left out.
        assert.deepEqual(
          await c.call(ELECT_LEADERS_API, v, {
            electionType: 0,
            topicPartitions: null,
            timeoutMs: 5000,
          }),
          {
            throttleTimeMs: 0,
            errorCode: 0,
            replicaElectionResults: TOPICS.map(([name]) => ({ topic: name, partitionResult: [] })),
          },
        );
        assert.deepEqual(
          await c.call(ELECT_LEADERS_API, v, {
            electionType: 0,
            topicPartitions: [{ topic: "ta", partitions: [0, 5] }, {
              topic: "nope",
              partitions: [1],
            }],
            timeoutMs: 5000,
          }),
          {
            throttleTimeMs: 0,
            errorCode: 0,
            replicaElectionResults: [
              {
                topic: "ta",
                partitionResult: [
                  {
                    partitionId: 0,
                    errorCode: ErrorCode.ELECTION_NOT_NEEDED,
                    errorMessage: "Leader election not needed for topic partition.",
                  },
                  {
                    partitionId: 5,
                    errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                    errorMessage: "No such partition as ta-5",
                  },
                ],
              },
              {
                topic: "nope",
                partitionResult: [{
                  partitionId: 1,
                  errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                  errorMessage: "No such topic as nope",
                }],
              },
            ],
          },
        );
      });
    }
    await t.step("unclean elections are not needed either; unknown types are invalid", async () => {
      assert.deepEqual(
        await c.call(ELECT_LEADERS_API, 1, {
          electionType: 1,
          topicPartitions: [{ topic: "tb", partitions: [0] }],
          timeoutMs: 5000,
        }),
        {
          throttleTimeMs: 0,
          errorCode: 0,
          replicaElectionResults: [{
            topic: "tb",
            partitionResult: [{
              partitionId: 0,
              errorCode: ErrorCode.ELECTION_NOT_NEEDED,
              errorMessage: "Leader election not needed for topic partition.",
            }],
          }],
        },
      );
      assert.deepEqual(
        await c.call(ELECT_LEADERS_API, 2, {
          electionType: 7,
          topicPartitions: [{ topic: "ta", partitions: [0] }],
          timeoutMs: 5000,
        }),
        {
          throttleTimeMs: 0,
          errorCode: ErrorCode.INVALID_REQUEST,
          replicaElectionResults: [{
            topic: "ta",
            partitionResult: [{
              partitionId: 0,
              errorCode: ErrorCode.INVALID_REQUEST,
              errorMessage: "Unknown election type 7",
            }],
          }],
        },
      );
      assert.deepEqual(
        await c.call(ELECT_LEADERS_API, 2, {
          electionType: 7,
          topicPartitions: null,
          timeoutMs: 5000,
        }),
        { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [] },
      );
    });
  },
);

metaStoreTest(
  "partition reassignments: none in progress, and replicas cannot move",
  async (meta, t) => {
    const { broker, c } = await adminBroker(meta);
    await using _b = broker;
    await using _c = c;
    const cannot = "The stores replicate every partition, so replicas cannot be moved.";
    const request = (allow: boolean): AlterPartitionReassignmentsRequest => ({
      timeoutMs: 5000,
      allowReplicationFactorChange: allow,
      topics: [
        {
          name: "ta",
          partitions: [
            { partitionIndex: 0, replicas: null },
            { partitionIndex: 1, replicas: [0] },
            { partitionIndex: 2, replicas: [1] },
            { partitionIndex: 7, replicas: [0] },
            { partitionIndex: 8, replicas: null },
          ],
        },
        {
          name: "tc",
          partitions: [
            { partitionIndex: 0, replicas: [0, 0] },
            { partitionIndex: 1, replicas: [] },
          ],
        },
        { name: "nope", partitions: [{ partitionIndex: 0, replicas: [0] }] },
      ],
    });
    for (const v of [0, 1]) {
      await t.step(`AlterPartitionReassignments v${v}`, async () => {
        assert.deepEqual(await c.call(ALTER_PARTITION_REASSIGNMENTS_API, v, request(true)), {
          throttleTimeMs: 0,
          allowReplicationFactorChange: true,
          errorCode: 0,
          errorMessage: null,
          responses: [
            {
              name: "ta",
              partitions: [
                {
                  partitionIndex: 0,
                  errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
                  errorMessage: null,
                },
                { partitionIndex: 1, errorCode: 0, errorMessage: null },
                {
                  partitionIndex: 2,
                  errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                  errorMessage:
                    `The manual partition assignment includes broker 1, but no such broker is registered. ${cannot}`,
                },
                {
                  partitionIndex: 7,
                  errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                  errorMessage: "Unable to find partition ta:7.",
                },
                {
                  partitionIndex: 8,
                  errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                  errorMessage: "Unable to find partition ta:8.",
                },
              ],
            },
            {
              name: "tc",
              partitions: [
                {
                  partitionIndex: 0,
                  errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                  errorMessage:
                    `The manual partition assignment includes the broker 0 more than once. ${cannot}`,
                },
                {
                  partitionIndex: 1,
                  errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                  errorMessage:
                    `The manual partition assignment includes an empty replica list. ${cannot}`,
                },
              ],
            },
            {
              name: "nope",
              partitions: [{
                partitionIndex: 0,
                errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                errorMessage: "Unable to find a topic named nope.",
              }],
            },
          ],
        });
      });
    }
    await t.step("v1 echoes allowReplicationFactorChange false", async () => {
      const res = await c.call(ALTER_PARTITION_REASSIGNMENTS_API, 1, request(false));
      assert.equal(res.allowReplicationFactorChange, false);
      assert.deepEqual(res.responses[0].partitions[1], {
        partitionIndex: 1,
        errorCode: 0,
        errorMessage: null,
      });
    });
    await t.step(
      "ListPartitionReassignments v0 lists none, for all or named partitions",
      async () => {
        const none = { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: [] };
        assert.deepEqual(
          await c.call(LIST_PARTITION_REASSIGNMENTS_API, 0, { timeoutMs: 5000, topics: null }),
          none,
        );
        assert.deepEqual(
          await c.call(LIST_PARTITION_REASSIGNMENTS_API, 0, {
            timeoutMs: 5000,
            topics: [{ name: "ta", partitionIndexes: [0, 9] }, {
              name: "nope",
              partitionIndexes: [0],
            }],
          }),
          none,
        );
      },
    );
  },
);

metaStoreTest(
  "AlterReplicaLogDirs: the one log dir is NONE, any other LOG_DIR_NOT_FOUND",
  async (meta) => {
    const { broker, c } = await adminBroker(meta);
    await using _b = broker;
    await using _c = c;
    for (const v of [1, 2]) {
      assert.deepEqual(
        await c.call(ALTER_REPLICA_LOG_DIRS_API, v, {
          dirs: [
            {
              path: "memory:",
              topics: [{ name: "ta", partitions: [0, 9] }, { name: "nope", partitions: [0] }],
            },
            {
              path: "/var/lib/kafka",
              topics: [{ name: "tb", partitions: [0] }, { name: "nope2", partitions: [1] }],
            },
          ],
        }),
        {
          throttleTimeMs: 0,
          results: [
            {
              topicName: "ta",
              partitions: [
                { partitionIndex: 0, errorCode: 0 },
                { partitionIndex: 9, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
              ],
            },
            {
              topicName: "nope",
              partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }],
            },
            {
              topicName: "tb",
              partitions: [{ partitionIndex: 0, errorCode: ErrorCode.LOG_DIR_NOT_FOUND }],
            },
            {
              topicName: "nope2",
              partitions: [{ partitionIndex: 1, errorCode: ErrorCode.LOG_DIR_NOT_FOUND }],
            },
          ],
        },
        `v${v}`,
      );
    }
  },
);

metaStoreTest("DescribeLogDirs: the one log dir and every partition's size in it", async (meta) => {
  const { broker, c } = await adminBroker(meta);
  await using _b = broker;
  await using _c = c;
  for (const p of await produceAll(c, "ta", 3, 0)) assert.equal(p.errorCode, 0);
  const size = batchOf(0, 10).length;
  const part = (i: number, partitionSize: number) => ({
    partitionIndex: i,
    partitionSize,
    offsetLag: 0,
    isFutureKey: false,
  });
  const dir = (topics: unknown) => ({
    throttleTimeMs: 0,
    errorCode: 0,
    results: [{
      errorCode: 0,
      logDir: "memory:",
      topics,
      totalBytes: -1,
      usableBytes: -1,
      isCordoned: false,
    }],
  });
  for (const v of [1, 5]) {
    assert.deepEqual(
      await c.call(DESCRIBE_LOG_DIRS_API, v, { topics: null }),
      dir([
        { name: "ta", partitions: [part(0, size), part(1, size), part(2, size)] },
        { name: "tb", partitions: [part(0, 0)] },
        { name: "tc", partitions: [part(0, 0), part(1, 0)] },
      ]),
      `v${v} every topic`,
    );
    // As in Kafka: unknown topics and partitions, and topics with none asked for, are left out.
    assert.deepEqual(
      await c.call(DESCRIBE_LOG_DIRS_API, v, {
        topics: [
          { topic: "ta", partitions: [0, 7] },
          { topic: "nope", partitions: [0] },
          { topic: "tc", partitions: [] },
        ],
      }),
      dir([{ name: "ta", partitions: [part(0, size)] }]),
      `v${v} named`,
    );
  }
});

Deno.test("a failing meta store answers KAFKA_STORAGE_ERROR and keeps the connection", async () => {
  const faults = new StoreFaults();
  const raw = new MemoryMetaStore();
  const meta = withFaults(raw, faults);
  const { broker, c } = await adminBroker(meta);
  await using _b = broker;
  await using _c = c;
  // A topic another broker created: this one has never looked it up, so its
  // lookups must reach the store (a topic it knows is answered from its cache
  // while the store fails).
  assert.ok(await raw.createTopic({ name: "tz", partitions: 1, configs: {} }));
  faults.set("fail", "getTopic", "listTopics", "partitionSizes");
  const storage = ErrorCode.KAFKA_STORAGE_ERROR;

  const named = await c.call(DESCRIBE_TOPIC_PARTITIONS_API, 0, {
    ...defaultDescribeTopicPartitionsRequest(),
    topics: [{ name: "tz" }],
  });
  assert.deepEqual(named.topics, [missing("tz", storage)]);
  const all = await c.call(
    DESCRIBE_TOPIC_PARTITIONS_API,
    0,
    defaultDescribeTopicPartitionsRequest(),
  );
  assert.deepEqual(all, { throttleTimeMs: 0, topics: [missing("", storage)], nextCursor: null });

  const elect = await c.call(ELECT_LEADERS_API, 2, {
    electionType: 0,
    topicPartitions: [{ topic: "tz", partitions: [0] }],
    timeoutMs: 5000,
  });
  assert.equal(elect.replicaElectionResults[0].partitionResult[0].errorCode, storage);
  const electAll = await c.call(ELECT_LEADERS_API, 2, {
    electionType: 0,
    topicPartitions: null,
    timeoutMs: 5000,
  });
  assert.deepEqual(electAll, { throttleTimeMs: 0, errorCode: storage, replicaElectionResults: [] });

  const alter = await c.call(ALTER_PARTITION_REASSIGNMENTS_API, 1, {
    timeoutMs: 5000,
    allowReplicationFactorChange: true,
    topics: [{ name: "tz", partitions: [{ partitionIndex: 0, replicas: [0] }] }],
  });
  assert.equal(alter.responses[0].partitions[0].errorCode, storage);

  const move = await c.call(ALTER_REPLICA_LOG_DIRS_API, 2, {
    dirs: [{ path: "memory:", topics: [{ name: "tz", partitions: [0] }] }],
  });
  assert.deepEqual(move.results, [{
    topicName: "tz",
    partitions: [{ partitionIndex: 0, errorCode: storage }],
  }]);

  const dirs = await c.call(DESCRIBE_LOG_DIRS_API, 5, { topics: null });
  assert.deepEqual(dirs.results, [{
    errorCode: storage,
    logDir: "memory:",
    topics: [],
    totalBytes: -1,
    usableBytes: -1,
    isCordoned: false,
  }]);
  faults.set("fail", "getTopic", "partitionSizes");
  const sizes = await c.call(DESCRIBE_LOG_DIRS_API, 1, { topics: null });
  assert.equal(sizes.results[0].errorCode, storage);

  // The connection still answers, and once the store is back, so do the APIs.
  faults.set("ok");
  const again = await c.call(DESCRIBE_TOPIC_PARTITIONS_API, 0, {
    ...defaultDescribeTopicPartitionsRequest(),
    topics: [{ name: "tb" }],
  });
  assert.equal(again.topics[0].errorCode, 0);
});
