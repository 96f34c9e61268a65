/**
 * The cluster admin APIs over real TCP with exact answers from our own codec,
 * each at the edges of its version range: the feature levels in ApiVersions,
 * UpdateFeatures, DescribeQuorum, AddRaftVoter, RemoveRaftVoter,
 * UnregisterController and UnregisterBroker; and a failing or hanging meta
 * store answered with retriable errors on a connection that stays open. The
 * error codes and Kafka's part of each message are what Apache Kafka 4.4
 * answered on a single node (KRaft, combined mode) to the same requests; the
 * levels are ours, never above what this broker implements.
 */

import assert from "node:assert/strict";
import {
  ADD_RAFT_VOTER_API,
  API_VERSIONS_API,
  DESCRIBE_QUORUM_API,
  type DescribeQuorumRequest,
  REMOVE_RAFT_VOTER_API,
  UNREGISTER_BROKER_API,
  UNREGISTER_CONTROLLER_API,
  UPDATE_FEATURES_API,
  type UpdateFeaturesRequestFeature,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { testBroker } from "./broker_util.ts";
import { StoreFaults, withFaults } from "./faulty_store.ts";
import { WireClient } from "./wire_client.ts";

const DIR = "q83vEjRWeJCrze8SNFZ4kA";
const FAILED_ALL = "The update failed for all features since the following feature had an error: ";
const KEPT =
  "levels come with the broker's release, since brokers here keep no state to change them.";

Deno.test("ApiVersions v3-4 carry every Kafka 4.4 feature, finalizing only what we implement", async (t) => {
  await using broker = await testBroker({ nodeId: 3 });
  await using c = await WireClient.connect(broker.port);
  const ask = { clientSoftwareName: "wire-test", clientSoftwareVersion: "1" };
  for (const v of [3, 4]) {
    await t.step(`v${v}`, async () => {
      const res = await c.call(API_VERSIONS_API, v, ask);
      assert.equal(res.errorCode, 0);
      assert.deepEqual(res.supportedFeatures, [
        { name: "group.version", minVersion: 0, maxVersion: 1 },
        { name: "kraft.version", minVersion: 0, maxVersion: 0 },
        { name: "metadata.version", minVersion: 33, maxVersion: 33 },
        { name: "share.version", minVersion: 0, maxVersion: 2 },
        { name: "streams.version", minVersion: 0, maxVersion: 1 },
        { name: "transaction.version", minVersion: 0, maxVersion: 2 },
        { name: "eligible.leader.replicas.version", minVersion: 0, maxVersion: 0 },
      ]);
      // As Kafka: features finalized at level 0 are left out.
      assert.deepEqual(res.finalizedFeatures, [
        { name: "group.version", maxVersionLevel: 1, minVersionLevel: 1 },
        { name: "metadata.version", maxVersionLevel: 33, minVersionLevel: 33 },
        { name: "share.version", maxVersionLevel: 2, minVersionLevel: 2 },
        { name: "streams.version", maxVersionLevel: 1, minVersionLevel: 1 },
        { name: "transaction.version", maxVersionLevel: 2, minVersionLevel: 2 },
      ]);
      assert.equal(res.finalizedFeaturesEpoch, 0);
      const keys = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
      for (
        const [key, range] of [
          [55, [0, 2]],
          [57, [0, 2]],
          [64, [0, 0]],
          [80, [0, 1]],
          [81, [0, 0]],
          [
            94,
            [0, 0],
          ],
        ] as const
      ) assert.deepEqual(keys.get(key), range, `API ${key}`);
    });
  }
  await t.step("v2 has no feature fields", async () => {
    const res = await c.call(API_VERSIONS_API, 2, ask);
    assert.deepEqual(res.supportedFeatures, []);
    assert.equal(res.finalizedFeaturesEpoch, -1);
  });
});

Deno.test("UpdateFeatures accepts the levels we have and refuses any other, as Kafka refuses unsupported levels", async (t) => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const update = (
    v: number,
    updates: Partial<UpdateFeaturesRequestFeature>[],
    validateOnly = false,
  ) =>
    c.call(UPDATE_FEATURES_API, v, {
      timeoutMs: 5000,
      validateOnly,
      featureUpdates: updates.map((u) => ({
        feature: "group.version",
        maxVersionLevel: 1,
        allowDowngrade: false,
        upgradeType: 1,
        ...u,
      })),
    });
  const refused = (why: string) => ({
    throttleTimeMs: 0,
    errorCode: ErrorCode.INVALID_UPDATE_VERSION,
    errorMessage: FAILED_ALL + why,
    results: [],
  });

  await t.step("the same level: v0-1 list each update, v2 only the top level", async () => {
    const ok = { feature: "group.version", errorCode: 0, errorMessage: "NONE" };
    assert.deepEqual(await update(0, [{}]), {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      results: [ok],
    });
    assert.deepEqual(await update(1, [{}, {}], true), {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      results: [ok, ok],
    });
    for (const validateOnly of [false, true]) {
      assert.deepEqual(
        await update(2, [
          { feature: "metadata.version", maxVersionLevel: 33, upgradeType: 2 },
          { feature: "kraft.version", maxVersionLevel: 0 },
          { feature: "transaction.version", maxVersionLevel: 2, upgradeType: 3 },
        ], validateOnly),
        { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results: [] },
      );
    }
    assert.deepEqual(await update(2, []), {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      results: [],
    });
  });

  await t.step(
    "another level fails the whole request, naming the feature and our levels",
    async () => {
      const group2 = refused(
        `Invalid update version 2 for feature group.version. This broker supports versions 0-1 and keeps group.version finalized at 1: ${KEPT}`,
      );
      assert.deepEqual(await update(0, [{ maxVersionLevel: 2 }]), group2);
      assert.deepEqual(await update(1, [{}, { maxVersionLevel: 2 }], true), group2);
      assert.deepEqual(await update(2, [{ maxVersionLevel: 2 }]), group2);
      // v0's allowDowngrade is a safe downgrade; still not a level we can move to.
      assert.deepEqual(
        await update(0, [{ maxVersionLevel: 0, allowDowngrade: true }]),
        refused(
          `Invalid update version 0 for feature group.version. This broker supports versions 0-1 and keeps group.version finalized at 1: ${KEPT}`,
        ),
      );
      // transaction.version is finalized at 2, as Kafka 4.4 does out of the box (transactions v2).
      assert.deepEqual(
        await update(
          2,
          [{ feature: "transaction.version", maxVersionLevel: 0, upgradeType: 3 }],
          true,
        ),
        refused(
          `Invalid update version 0 for feature transaction.version. This broker supports versions 0-2 and keeps transaction.version finalized at 2: ${KEPT}`,
        ),
      );
      assert.deepEqual(
        await update(2, [{ feature: "metadata.version", maxVersionLevel: 28, upgradeType: 2 }]),
        refused(
          `Invalid update version 28 for feature metadata.version. This broker supports only version 33 and keeps metadata.version finalized at 33: ${KEPT}`,
        ),
      );
    },
  );

  await t.step("Kafka's own checks: upgrade type, negative level, unknown feature", async () => {
    assert.deepEqual(
      await update(1, [{ upgradeType: 7 }]),
      refused(
        "Invalid update version 1 for feature group.version. The broker does not support upgrade type 7; use 1 (upgrade), 2 (safe downgrade) or 3 (unsafe downgrade).",
      ),
    );
    assert.deepEqual(
      await update(2, [{ maxVersionLevel: -1, upgradeType: 2 }]),
      refused(
        "Invalid update version -1 for feature group.version. A feature version cannot be less than 0.",
      ),
    );
    assert.deepEqual(
      await update(2, [{ feature: "no.such.feature" }], true),
      refused(
        "Invalid update version 1 for feature no.such.feature. This broker does not support this feature.",
      ),
    );
  });
});

Deno.test("DescribeQuorum names this broker the one voter and leader of __cluster_metadata-0", async (t) => {
  await using broker = await testBroker({ nodeId: 5 });
  await using c = await WireClient.connect(broker.port);
  const quorum: DescribeQuorumRequest = {
    topics: [{ topicName: "__cluster_metadata", partitions: [{ partitionIndex: 0 }] }],
  };
  const answer = (voter: Record<string, number | string>, nodes: unknown[]) => ({
    errorCode: 0,
    errorMessage: "",
    topics: [{
      topicName: "__cluster_metadata",
      partitions: [{
        partitionIndex: 0,
        errorCode: 0,
        errorMessage: "",
        leaderId: 5,
        leaderEpoch: 1,
        highWatermark: 0,
        currentVoters: [{ replicaId: 5, replicaDirectoryId: ZERO_UUID, logEndOffset: 0, ...voter }],
        observers: [],
      }],
    }],
    nodes,
  });

  await t.step("v0: no timestamps, no nodes", async () => {
    assert.deepEqual(
      await c.call(DESCRIBE_QUORUM_API, 0, quorum),
      answer({ lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 }, []),
    );
  });

  for (const v of [1, 2]) {
    await t.step(
      `v${v}: the leader fetched and caught up now${v === 2 ? "; its listener" : ""}`,
      async () => {
        const before = Date.now();
        const res = await c.call(DESCRIBE_QUORUM_API, v, quorum);
        const voter = res.topics[0]?.partitions[0]?.currentVoters[0];
        assert.ok(
          voter && voter.lastFetchTimestamp >= before && voter.lastFetchTimestamp <= Date.now(),
        );
        assert.equal(voter.lastCaughtUpTimestamp, voter.lastFetchTimestamp);
        const nodes = v < 2 ? [] : [{
          nodeId: 5,
          listeners: [{ name: "PLAINTEXT", host: "127.0.0.1", port: broker.port }],
        }];
        assert.deepEqual(
          res,
          answer({
            lastFetchTimestamp: voter.lastFetchTimestamp,
            lastCaughtUpTimestamp: voter.lastFetchTimestamp,
          }, nodes),
        );
      },
    );
  }

  await t.step("the advertised address, when set, is the voter's listener", async () => {
    await using adv = await testBroker({
      nodeId: 5,
      advertisedHost: "kafka.example",
      advertisedPort: 9092,
    });
    await using c2 = await WireClient.connect(adv.port);
    const res = await c2.call(DESCRIBE_QUORUM_API, 2, quorum);
    assert.deepEqual(res.nodes, [{
      nodeId: 5,
      listeners: [{ name: "PLAINTEXT", host: "kafka.example", port: 9092 }],
    }]);
  });

  await t.step("anything but exactly __cluster_metadata-0 is not hosted here", async () => {
    // v0 has no error messages: they decode as the field's default.
    const missing = (partitionIndex: number, v: number) => ({
      partitionIndex,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: v < 2 ? "" : "This server does not host this topic-partition.",
      leaderId: 0,
      leaderEpoch: 0,
      highWatermark: 0,
      currentVoters: [],
      observers: [],
    });
    for (const v of [0, 2]) {
      assert.deepEqual(
        await c.call(DESCRIBE_QUORUM_API, v, {
          topics: [
            { topicName: "__cluster_metadata", partitions: [{ partitionIndex: 1 }] },
            { topicName: "x", partitions: [{ partitionIndex: 0 }] },
          ],
        }),
        {
          errorCode: 0,
          errorMessage: "",
          topics: [
            { topicName: "__cluster_metadata", partitions: [missing(1, v)] },
            { topicName: "x", partitions: [missing(0, v)] },
          ],
          nodes: [],
        },
      );
    }
    assert.deepEqual(await c.call(DESCRIBE_QUORUM_API, 2, { topics: [] }), {
      errorCode: 0,
      errorMessage: "",
      topics: [],
      nodes: [],
    });
  });
});

Deno.test("AddRaftVoter and RemoveRaftVoter are refused as Kafka refuses them at kraft.version 0", async (t) => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const listeners = [{ name: "CONTROLLER", host: "127.0.0.1", port: 9093 }];
  const add = (v: number, body: Partial<Parameters<typeof ADD_RAFT_VOTER_API.encodeRequest>[1]>) =>
    c.call(ADD_RAFT_VOTER_API, v, {
      clusterId: null,
      timeoutMs: 5000,
      voterId: 1,
      voterDirectoryId: DIR,
      listeners,
      ackWhenCommitted: true,
      ...body,
    });
  const remove = (body: Partial<Parameters<typeof REMOVE_RAFT_VOTER_API.encodeRequest>[1]>) =>
    c.call(REMOVE_RAFT_VOTER_API, 0, {
      clusterId: null,
      voterId: 0,
      voterDirectoryId: DIR,
      ...body,
    });
  const err = (errorCode: number, errorMessage: string) => ({
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
  });
  const noQuorum =
    "brokers here keep no state and run no Raft quorum (the meta store is the source of truth), so there is no voter set to change";

  await t.step("a valid voter: UNSUPPORTED_VERSION, saying why", async () => {
    for (const v of [0, 1]) {
      assert.deepEqual(
        await add(v, { clusterId: broker.clusterId, ackWhenCommitted: v === 0 }),
        err(
          ErrorCode.UNSUPPORTED_VERSION,
          `Cluster doesn't support adding voter because the kraft.version feature is 0: ${noQuorum}`,
        ),
      );
    }
    // Removing the only voter (this broker) or any other is refused alike.
    for (const voterId of [0, 7]) {
      assert.deepEqual(
        await remove({ voterId }),
        err(
          ErrorCode.UNSUPPORTED_VERSION,
          `Cluster doesn't support removing voter because the kraft.version feature is 0: ${noQuorum}`,
        ),
      );
    }
  });

  await t.step("another cluster's id, then an invalid voter, in Kafka's order", async () => {
    const other = err(
      ErrorCode.INCONSISTENT_CLUSTER_ID,
      `The given id "nope" doesn't match the cluster id "${broker.clusterId}"`,
    );
    assert.deepEqual(await add(1, { clusterId: "nope", voterDirectoryId: ZERO_UUID }), other);
    assert.deepEqual(await remove({ clusterId: "nope", voterId: -1 }), other);
    const badAdd = err(ErrorCode.INVALID_REQUEST, "Add voter request didn't include a valid voter");
    assert.deepEqual(await add(0, { voterDirectoryId: ZERO_UUID }), badAdd);
    assert.deepEqual(await add(1, { voterId: -1 }), badAdd);
    assert.deepEqual(
      await add(1, { listeners: [] }),
      err(ErrorCode.INVALID_REQUEST, "Add voter request didn't include an endpoint"),
    );
    assert.deepEqual(
      await remove({ voterDirectoryId: ZERO_UUID }),
      err(ErrorCode.INVALID_REQUEST, "Remove voter request didn't include a valid voter"),
    );
  });
});

Deno.test("UnregisterController refuses this broker and knows no other controller", async () => {
  await using broker = await testBroker({ nodeId: 2 });
  await using c = await WireClient.connect(broker.port);
  assert.deepEqual(await c.call(UNREGISTER_CONTROLLER_API, 0, { controllerId: 2 }), {
    throttleTimeMs: 0,
    errorCode: ErrorCode.INVALID_REQUEST,
    errorMessage:
      "Controller cannot unregister itself while it is active: controller 2 is this broker, the only voter; brokers here keep no state and run no Raft quorum (the meta store is the source of truth), so there is no voter set to change.",
  });
  for (const id of [0, -1]) {
    assert.deepEqual(await c.call(UNREGISTER_CONTROLLER_API, 0, { controllerId: id }), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.CONTROLLER_ID_NOT_REGISTERED,
      errorMessage:
        `Controller ID ${id} is not currently registered: the only controller is this broker, 2.`,
    });
  }
});

Deno.test("UnregisterBroker behind a load balancer: this broker succeeds, any other is not registered", async () => {
  await using broker = await testBroker({ nodeId: 4 });
  await using c = await WireClient.connect(broker.port);
  assert.deepEqual(await c.call(UNREGISTER_BROKER_API, 0, { brokerId: 4 }), {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: "",
  });
  assert.deepEqual(await c.call(UNREGISTER_BROKER_API, 0, { brokerId: 7 }), {
    throttleTimeMs: 0,
    errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED,
    errorMessage:
      "Broker ID 7 is not currently registered: behind a load balancer every broker answers as node 4, and no other is registered",
  });
});

Deno.test("UnregisterBroker in the addressable shape ends another broker's lease; a failing meta store answers retriably", async (t) => {
  const faults = new StoreFaults();
  const meta = withFaults(new MemoryMetaStore(), faults);
  const shared = {
    meta,
    log: new MemoryLogStore(),
    clusterShape: "addressable" as const,
    advertisedHost: "127.0.0.1",
    storeTimeoutMs: 300,
  };
  await using a = await testBroker({ ...shared, nodeId: 1 });
  await using b = await testBroker({ ...shared, nodeId: 2 });
  await using c = await WireClient.connect(a.port);
  const unregister = (brokerId: number) => c.call(UNREGISTER_BROKER_API, 0, { brokerId });
  const live = async () => (await meta.liveBrokers(Date.now())).map((x) => x.nodeId);

  await t.step("a live lease of another broker is ended at once", async () => {
    assert.deepEqual(await live(), [1, 2]);
    assert.deepEqual(await unregister(2), { throttleTimeMs: 0, errorCode: 0, errorMessage: "" });
    assert.deepEqual(await live(), [1]);
    assert.ok(b.port > 0, "b still serves; it takes its lease again at its next renewal");
  });

  await t.step("an id with no lease is not registered", async () => {
    assert.deepEqual(await unregister(9), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED,
      errorMessage:
        "Broker ID 9 is not currently registered: no broker holds a live lease with that id in the meta store",
    });
  });

  await t.step("a failing store: KAFKA_STORAGE_ERROR; a hung one: REQUEST_TIMED_OUT", async () => {
    const message =
      "The meta store did not answer, so broker 9's lease was not read or ended; retry";
    faults.set("fail", "liveBrokers");
    assert.deepEqual(await unregister(9), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
      errorMessage: message,
    });
    faults.set("hang", "liveBrokers");
    assert.deepEqual(await unregister(9), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.REQUEST_TIMED_OUT,
      errorMessage: message,
    });
    assert.ok((faults.hit.get("liveBrokers") ?? 0) >= 2);
    // The connection stays open and answers once the store is back.
    faults.set("ok");
    assert.equal((await unregister(9)).errorCode, ErrorCode.BROKER_ID_NOT_REGISTERED);
    // This broker's own id never reaches the store.
    faults.set("fail");
    assert.equal((await unregister(1)).errorCode, 0);
    faults.set("ok");
  });
});
