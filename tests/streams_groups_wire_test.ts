/**
 * Streams groups (KIP-1071) over real TCP with our own codec, on every meta
 * store: StreamsGroupHeartbeat (join with a word-count topology, internal
 * topics created with derived partition counts and a compacted changelog,
 * tasks moved to a second process only after the first revoked them,
 * fencing, leave), statuses (missing source topics, a stale topology),
 * standby tasks from the group config streams.num.standby.replicas,
 * endpoint-to-partitions for interactive queries, StreamsGroupDescribe,
 * ListGroups, OffsetCommit/OffsetFetch epoch checks, DeleteGroups, two
 * brokers sharing the meta store serving one group, source regexes, ACLs,
 * and the other group APIs refusing a streams group (and it them).
 */

import assert from "node:assert/strict";
import {
  CONSUMER_GROUP_DESCRIBE_API,
  CONSUMER_GROUP_HEARTBEAT_API,
  defaultConsumerGroupDescribeRequest,
  defaultConsumerGroupHeartbeatRequest,
  defaultDeleteGroupsRequest,
  defaultDescribeGroupsRequest,
  defaultJoinGroupRequest,
  defaultListGroupsRequest,
  defaultOffsetCommitRequest,
  defaultOffsetFetchRequest,
  defaultStreamsGroupHeartbeatRequest,
  DELETE_GROUPS_API,
  DESCRIBE_GROUPS_API,
  INCREMENTAL_ALTER_CONFIGS_API,
  JOIN_GROUP_API,
  LIST_GROUPS_API,
  OFFSET_COMMIT_API,
  OFFSET_FETCH_API,
  STREAMS_GROUP_DESCRIBE_API,
  STREAMS_GROUP_HEARTBEAT_API,
  type StreamsGroupHeartbeatRequest,
  type StreamsGroupHeartbeatRequestTopology,
  type StreamsGroupHeartbeatResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { DEFAULT_SECURITY_CONFIG } from "../broker/security_config.ts";
import { AclOperation as Op, ResourceType as RT } from "../broker/authorizer.ts";
import { AclPermission as Perm, PatternType as PT } from "../broker/acl.ts";
import { addAcls } from "../broker/acl_store.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic, metaStoreTest } from "./helpers.ts";

const GROUP_RESOURCE = 32;

/** Kafka Streams' word count: words -> (repartition by word) -> counts store -> output. */
function wordCount(app: string, source = "words", epoch = 1): StreamsGroupHeartbeatRequestTopology {
  const repartition = `${app}-counts-repartition`;
  return {
    epoch,
    subtopologies: [{
      subtopologyId: "0",
      sourceTopics: [source],
      sourceTopicRegex: [],
      stateChangelogTopics: [],
      repartitionSinkTopics: [repartition],
      repartitionSourceTopics: [],
      copartitionGroups: [],
    }, {
      subtopologyId: "1",
      sourceTopics: [],
      sourceTopicRegex: [],
      stateChangelogTopics: [{
        name: `${app}-counts-changelog`,
        partitions: 0,
        replicationFactor: 0,
        topicConfigs: [{ key: "message.timestamp.type", value: "CreateTime" }],
      }],
      repartitionSinkTopics: [],
      repartitionSourceTopics: [{
        name: repartition,
        partitions: 0,
        replicationFactor: 0,
        topicConfigs: [{ key: "cleanup.policy", value: "delete" }],
      }],
      copartitionGroups: [],
    }],
  };
}

type Tasks = { subtopologyId: string; partitions: number[] }[];

function heartbeat(
  c: WireClient,
  groupId: string,
  memberId: string,
  memberEpoch: number,
  extra: Partial<StreamsGroupHeartbeatRequest> = {},
  version = 1,
): Promise<StreamsGroupHeartbeatResponse> {
  return c.call(STREAMS_GROUP_HEARTBEAT_API, version, {
    ...defaultStreamsGroupHeartbeatRequest(),
    groupId,
    memberId,
    memberEpoch,
    ...extra,
  });
}

function join(
  c: WireClient,
  groupId: string,
  memberId: string,
  processId: string,
  topology: StreamsGroupHeartbeatRequestTopology,
  extra: Partial<StreamsGroupHeartbeatRequest> = {},
) {
  return heartbeat(c, groupId, memberId, 0, {
    topology,
    processId,
    rebalanceTimeoutMs: 30_000,
    activeTasks: [],
    standbyTasks: [],
    warmupTasks: [],
    ...extra,
  });
}

/** A heartbeat that reports the tasks the member owns. */
function owning(
  c: WireClient,
  groupId: string,
  memberId: string,
  epoch: number,
  active: Tasks,
  standby: Tasks = [],
) {
  return heartbeat(c, groupId, memberId, epoch, {
    activeTasks: active,
    standbyTasks: standby,
    warmupTasks: [],
  });
}

function count(t: Tasks | null): number {
  return (t ?? []).reduce((n, x) => n + x.partitions.length, 0);
}

function ok(r: StreamsGroupHeartbeatResponse, what: string) {
  assert.equal(r.errorCode, 0, `${what}: ${r.errorMessage}`);
}

metaStoreTest(
  "streams group: topology kept, internal topics created, tasks move only after revocation",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, "words", 3);

    const a = await join(c, "wc", "member-a", "process-a", wordCount("wc"));
    ok(a, "join a");
    assert.equal(a.status, null, "internal topics exist before the answer");
    assert.ok(a.memberEpoch >= 1);
    assert.equal(a.heartbeatIntervalMs, 5000);
    assert.deepEqual(a.activeTasks, [
      { subtopologyId: "0", partitions: [0, 1, 2] },
      { subtopologyId: "1", partitions: [0, 1, 2] },
    ]);
    assert.deepEqual(a.standbyTasks, []);
    // Repartition topic: as many partitions as its source; changelog: one per task, compacted.
    const repartition = await meta.getTopic("wc-counts-repartition");
    assert.equal(repartition?.partitions, 3);
    assert.equal(repartition?.configs["cleanup.policy"], "delete");
    const changelog = await meta.getTopic("wc-counts-changelog");
    assert.equal(changelog?.partitions, 3);
    assert.equal(changelog?.configs["cleanup.policy"], "compact");
    assert.equal(changelog?.configs["message.timestamp.type"], "CreateTime");

    const all = a.activeTasks!;
    const steady = await owning(c, "wc", "member-a", a.memberEpoch, all);
    ok(steady, "a steady");
    assert.equal(steady.activeTasks, null, "unchanged tasks are not sent again");

    // A second process joins: it waits for the tasks the first still runs.
    const b = await join(c, "wc", "member-b", "process-b", wordCount("wc"));
    ok(b, "join b");
    assert.ok(b.memberEpoch > a.memberEpoch);
    assert.equal(count(b.activeTasks), 0, "nothing is free before member a revokes");
    const revoke = await owning(c, "wc", "member-a", a.memberEpoch, all);
    ok(revoke, "a told to revoke");
    assert.equal(revoke.memberEpoch, a.memberEpoch, "a keeps its epoch while revoking");
    assert.equal(count(revoke.activeTasks), 3);
    // Until a stops reporting them, b still gets nothing.
    const bWaits = await owning(c, "wc", "member-b", b.memberEpoch, []);
    assert.equal(bWaits.activeTasks, null);
    const aDone = await owning(c, "wc", "member-a", a.memberEpoch, revoke.activeTasks!);
    ok(aDone, "a revoked");
    assert.equal(aDone.memberEpoch, b.memberEpoch, "a moves to the group's epoch");
    const bGets = await owning(c, "wc", "member-b", b.memberEpoch, []);
    assert.equal(count(bGets.activeTasks), 3);
    const mine = new Set(
      revoke.activeTasks!.flatMap((t) => t.partitions.map((p) => `${t.subtopologyId}_${p}`)),
    );
    for (const t of bGets.activeTasks!) {
      for (const p of t.partitions) {
        assert.ok(!mine.has(`${t.subtopologyId}_${p}`), "no task twice");
      }
    }

    // Fencing and validation.
    assert.equal(
      (await owning(c, "wc", "member-a", aDone.memberEpoch + 5, [])).errorCode,
      ErrorCode.FENCED_MEMBER_EPOCH,
    );
    assert.equal(
      (await heartbeat(c, "wc", "nobody", 3)).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    const noTopology = await heartbeat(c, "wc", "member-c", 0, {
      processId: "p",
      rebalanceTimeoutMs: 1000,
    });
    assert.equal(noTopology.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(noTopology.errorMessage ?? "", /Topology must be provided/);

    // Describe (v1 names the assignor) and list.
    const d = await c.call(STREAMS_GROUP_DESCRIBE_API, 1, {
      groupIds: ["wc", "missing"],
      includeAuthorizedOperations: false,
      includeTopologyDescription: true,
    });
    const g = d.groups[0];
    assert.equal(g.errorCode, 0);
    assert.equal(g.groupState, "Stable");
    assert.equal(g.assignorName, "sticky");
    assert.equal(g.topologyDescriptionStatus, 1, "descriptions are not stored");
    assert.equal(g.topology?.epoch, 1);
    assert.deepEqual(
      g.topology?.subtopologies?.map((s) => [
        s.subtopologyId,
        s.sourceTopics,
        s.repartitionSourceTopics.map((r) => [r.name, r.partitions]),
        s.stateChangelogTopics.map((r) => [r.name, r.partitions]),
      ]),
      [
        ["0", ["words"], [], []],
        ["1", [], [["wc-counts-repartition", 3]], [["wc-counts-changelog", 3]]],
      ],
    );
    assert.deepEqual(g.members.map((m) => m.processId).sort(), ["process-a", "process-b"]);
    for (const m of g.members) {
      assert.equal(count(m.assignment.activeTasks), 3);
      assert.deepEqual(m.assignment, m.targetAssignment);
    }
    assert.equal(d.groups[1].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    const listed = await c.call(LIST_GROUPS_API, 5, {
      ...defaultListGroupsRequest(),
      typesFilter: ["streams"],
    });
    assert.deepEqual(listed.groups, [
      { groupId: "wc", protocolType: "streams", groupState: "Stable", groupType: "streams" },
    ]);

    // Offsets: a member commits with its current epoch (KIP-1071, as KIP-848 members do).
    const commit = (epoch: number) =>
      c.call(OFFSET_COMMIT_API, 9, {
        ...defaultOffsetCommitRequest(),
        groupId: "wc",
        generationIdOrMemberEpoch: epoch,
        memberId: "member-b",
        topics: [{
          name: "words",
          topicId: ZERO_UUID,
          partitions: [{
            partitionIndex: 0,
            committedOffset: 7,
            committedLeaderEpoch: -1,
            committedMetadata: "",
          }],
        }],
      });
    assert.equal(
      (await commit(b.memberEpoch - 1)).topics[0].partitions[0].errorCode,
      ErrorCode.STALE_MEMBER_EPOCH,
    );
    assert.equal((await commit(b.memberEpoch)).topics[0].partitions[0].errorCode, 0);
    const fetched = await c.call(OFFSET_FETCH_API, 9, {
      ...defaultOffsetFetchRequest(),
      groups: [{ groupId: "wc", memberId: "member-b", memberEpoch: b.memberEpoch, topics: null }],
    });
    assert.equal(fetched.groups[0].errorCode, 0);
    assert.equal(fetched.groups[0].topics[0].partitions[0].committedOffset, 7);

    // Leave: the leaver's tasks go to the member left.
    const del = () =>
      c.call(DELETE_GROUPS_API, 2, { ...defaultDeleteGroupsRequest(), groupsNames: ["wc"] });
    assert.equal((await del()).results[0].errorCode, ErrorCode.NON_EMPTY_GROUP);
    assert.equal((await heartbeat(c, "wc", "member-b", -1)).memberEpoch, -1);
    const aAll = await owning(c, "wc", "member-a", aDone.memberEpoch, revoke.activeTasks!);
    ok(aAll, "a after b left");
    assert.equal(count(aAll.activeTasks), 6);
    assert.equal((await heartbeat(c, "wc", "member-a", -1)).memberEpoch, -1);
    assert.equal((await del()).results[0].errorCode, ErrorCode.NONE);
    assert.equal(await meta.getGroup("wc"), null);
  },
);

metaStoreTest(
  "streams group: statuses, standby tasks, endpoints for interactive queries",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);

    // A source topic that does not exist: nothing runs, the status says why.
    const missing = await join(c, "ms", "m1", "p1", wordCount("ms", "absent"));
    ok(missing, "join without source");
    assert.deepEqual(missing.status?.map((s) => s.statusCode), [1]);
    assert.match(missing.status![0].statusDetail, /absent/);
    assert.equal(count(missing.activeTasks), 0);
    assert.equal(await meta.getTopic("ms-counts-repartition"), null, "nothing created yet");
    const nr = await c.call(STREAMS_GROUP_DESCRIBE_API, 0, {
      groupIds: ["ms"],
      includeAuthorizedOperations: false,
      includeTopologyDescription: false,
    });
    assert.equal(nr.groups[0].groupState, "NotReady");
    // Not ready: described as the member sent it (partitions not decided yet).
    assert.deepEqual(
      nr.groups[0].topology?.subtopologies?.map((x) => [
        x.subtopologyId,
        x.sourceTopics,
        x.repartitionSourceTopics.map((r) => r.partitions),
      ]),
      [["0", ["absent"], []], ["1", [], [0]]],
    );
    // Once the topic exists the next heartbeat configures the topology and assigns.
    await createTopic(c, "absent", 2);
    const ready = await owning(c, "ms", "m1", missing.memberEpoch, []);
    ok(ready, "after source created");
    assert.equal(ready.status, null);
    assert.equal(count(ready.activeTasks), 4);

    // A member with an older topology epoch is told its topology is stale.
    await createTopic(c, "text", 2);
    const v2 = await join(c, "st", "new", "p-new", wordCount("st", "text", 2), {
      userEndpoint: { host: "10.0.0.1", port: 8080 },
    });
    ok(v2, "join v2");
    assert.equal(v2.status, null);
    const v1 = await join(c, "st", "old", "p-old", wordCount("st", "text", 1), {
      userEndpoint: { host: "10.0.0.2", port: 8080 },
    });
    ok(v1, "join v1");
    assert.deepEqual(v1.status?.map((s) => s.statusCode), [0]);
    // Endpoint information: one entry per member with an endpoint.
    assert.ok(v1.endpointInformationEpoch > 0);
    const hosts = v1.partitionsByUserEndpoint?.map((e) => e.userEndpoint.host).sort();
    assert.deepEqual(hosts, ["10.0.0.1", "10.0.0.2"]);
    const newOne = v1.partitionsByUserEndpoint!.find((e) => e.userEndpoint.host === "10.0.0.1")!;
    assert.deepEqual(newOne.activePartitions, [
      { topic: "st-counts-repartition", partitions: [0, 1] },
      { topic: "text", partitions: [0, 1] },
    ]);
    const same = await owning(c, "st", "old", v1.memberEpoch, v1.activeTasks ?? []);
    assert.equal(
      (await heartbeat(c, "st", "old", same.memberEpoch, {
        endpointInformationEpoch: same.endpointInformationEpoch,
      })).partitionsByUserEndpoint,
      null,
      "a member with the current endpoint epoch is not sent it again",
    );

    // streams.num.standby.replicas=1: stateful tasks get a standby on the other process.
    const alter = (value: string) =>
      c.call(INCREMENTAL_ALTER_CONFIGS_API, 1, {
        resources: [{
          resourceType: GROUP_RESOURCE,
          resourceName: "st",
          configs: [{ name: "streams.num.standby.replicas", configOperation: 0, value }],
        }],
        validateOnly: false,
      });
    assert.equal((await alter("3")).responses[0].errorCode, ErrorCode.INVALID_CONFIG);
    assert.equal((await alter("1")).responses[0].errorCode, 0);
    // The settings are read at most once a second.
    await new Promise((r) => setTimeout(r, 1100));
    let newTasks = await owning(c, "st", "new", v2.memberEpoch, v2.activeTasks ?? []);
    ok(newTasks, "new after config");
    const oldTasks = await owning(c, "st", "old", same.memberEpoch, same.activeTasks ?? []);
    ok(oldTasks, "old after config");
    newTasks = await owning(c, "st", "new", newTasks.memberEpoch, newTasks.activeTasks ?? []);
    const d = await c.call(STREAMS_GROUP_DESCRIBE_API, 1, {
      groupIds: ["st"],
      includeAuthorizedOperations: false,
      includeTopologyDescription: false,
    });
    const members = d.groups[0].members;
    const standbys = members.flatMap((m) =>
      m.targetAssignment.standbyTasks.flatMap((t) =>
        t.partitions.map((p) => [m.processId, `${t.subtopologyId}_${p}`])
      )
    );
    // Subtopology 1 (with the store) has two tasks: each has one standby; subtopology 0 none.
    assert.equal(standbys.length, 2);
    for (const [process, task] of standbys) {
      assert.ok(task.startsWith("1_"), `standby of a stateful task: ${task}`);
      const active = members.find((m) =>
        m.targetAssignment.activeTasks.some((t) =>
          `${t.subtopologyId}_${t.partitions[0]}` === task ||
          t.partitions.some((p) => `${t.subtopologyId}_${p}` === task)
        )
      )!;
      assert.notEqual(active.processId, process, "standby on another process than the active");
    }
  },
);

Deno.test("streams group: two brokers sharing the meta store serve one group", async () => {
  const meta = new MemoryMetaStore();
  const log = new MemoryLogStore();
  await using b1 = await testBroker({ meta, log });
  await using b2 = await testBroker({ meta, log });
  await using c1 = await WireClient.connect(b1.port);
  await using c2 = await WireClient.connect(b2.port);
  await createTopic(c1, "in", 2);
  const a = await join(c1, "two", "a", "pa", wordCount("two", "in"));
  ok(a, "a via broker 1");
  const b = await join(c2, "two", "b", "pb", wordCount("two", "in"));
  ok(b, "b via broker 2");
  const revoke = await owning(c2, "two", "a", a.memberEpoch, a.activeTasks!);
  assert.equal(count(revoke.activeTasks), 2);
  const done = await owning(c1, "two", "a", a.memberEpoch, revoke.activeTasks!);
  assert.equal(done.memberEpoch, b.memberEpoch);
  const got = await owning(c1, "two", "b", b.memberEpoch, []);
  assert.equal(count(got.activeTasks), 2);
  assert.equal((await heartbeat(c2, "two", "a", -1)).errorCode, 0);
  assert.equal((await heartbeat(c1, "two", "b", -1)).errorCode, 0);
});

Deno.test("streams group: a source regex matches topics, and a new matching topic adds tasks", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "ev-a", 2);
  await createTopic(c, "ev-b", 3);
  await createTopic(c, "other", 5);
  const topology: StreamsGroupHeartbeatRequestTopology = {
    epoch: 1,
    subtopologies: [{
      subtopologyId: "0",
      sourceTopics: [],
      sourceTopicRegex: ["ev-.*"],
      stateChangelogTopics: [],
      repartitionSinkTopics: [],
      repartitionSourceTopics: [],
      copartitionGroups: [],
    }],
  };
  const a = await join(c, "rx", "m", "p", topology);
  ok(a, "join");
  assert.deepEqual(a.activeTasks, [{ subtopologyId: "0", partitions: [0, 1, 2] }]);
  await createTopic(c, "ev-c", 4);
  // The topic cache may answer for up to two seconds: a later heartbeat sees the new topic.
  let r = a;
  for (let i = 0; i < 30 && count(r.activeTasks ?? a.activeTasks) < 4; i++) {
    await new Promise((ok) => setTimeout(ok, 200));
    r = await owning(c, "rx", "m", r.memberEpoch, r.activeTasks ?? a.activeTasks!);
  }
  assert.deepEqual(r.activeTasks, [{ subtopologyId: "0", partitions: [0, 1, 2, 3] }]);
  assert.ok(r.memberEpoch > a.memberEpoch, "new topic metadata is a new group epoch");
  const d = await c.call(STREAMS_GROUP_DESCRIBE_API, 0, {
    groupIds: ["rx"],
    includeAuthorizedOperations: false,
    includeTopologyDescription: false,
  });
  assert.deepEqual(d.groups[0].topology?.subtopologies?.[0].sourceTopics, [
    "ev-a",
    "ev-b",
    "ev-c",
  ]);
});

Deno.test("streams group with ACLs: READ on the group, DESCRIBE on sources, CREATE for internal topics", async () => {
  const ME = "User:ANONYMOUS";
  const meta = new MemoryMetaStore();
  const acl = (resourceType: number, resourceName: string, operation: number) => ({
    resourceType,
    patternType: PT.LITERAL,
    resourceName,
    principal: ME,
    host: "*",
    operation,
    permission: Perm.ALLOW,
  });
  await addAcls(meta, [
    acl(RT.CLUSTER, "kafka-cluster", Op.CREATE),
    acl(RT.GROUP, "allowed", Op.READ),
    acl(RT.TOPIC, "words", Op.DESCRIBE),
  ]);
  await using broker = await testBroker({
    meta,
    security: { ...DEFAULT_SECURITY_CONFIG, authorizer: "acl" },
  });
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "words", 2);
  await createTopic(c, "hidden", 2);
  assert.equal(
    (await join(c, "other", "m", "p", wordCount("other"))).errorCode,
    ErrorCode.GROUP_AUTHORIZATION_FAILED,
  );
  assert.equal(
    (await join(c, "allowed", "m", "p", wordCount("allowed", "hidden"))).errorCode,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  );
  const r = await join(c, "allowed", "m", "p", wordCount("allowed"));
  ok(r, "join with the rights");
  assert.equal(count(r.activeTasks), 4, "internal topics created with CREATE on the cluster");

  // Without CREATE the internal topics stay missing and the status says so.
  const meta2 = new MemoryMetaStore();
  await addAcls(meta2, [
    acl(RT.GROUP, "g2", Op.READ),
    acl(RT.TOPIC, "words", Op.DESCRIBE),
  ]);
  await using broker2 = await testBroker({
    meta: meta2,
    security: { ...DEFAULT_SECURITY_CONFIG, authorizer: "acl" },
  });
  await using c2 = await WireClient.connect(broker2.port);
  await meta2.createTopic({ name: "words", partitions: 2, configs: {} });
  const missing = await join(c2, "g2", "m", "p", wordCount("g2"));
  ok(missing, "join without CREATE");
  assert.deepEqual(missing.status?.map((s) => s.statusCode), [3]);
  assert.equal(count(missing.activeTasks), 0);
});

Deno.test("streams group among other group types: each API sees only its own type", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "words", 1);
  ok(await join(c, "sg", "m", "p", wordCount("sg")), "join");
  // Other group APIs on a streams group: not theirs.
  const cgd = await c.call(CONSUMER_GROUP_DESCRIBE_API, 0, {
    ...defaultConsumerGroupDescribeRequest(),
    groupIds: ["sg"],
  });
  assert.equal(cgd.groups[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  const dg = await c.call(DESCRIBE_GROUPS_API, 6, {
    ...defaultDescribeGroupsRequest(),
    groups: ["sg"],
  });
  assert.equal(dg.groups[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  const cgh = await c.call(CONSUMER_GROUP_HEARTBEAT_API, 1, {
    ...defaultConsumerGroupHeartbeatRequest(),
    groupId: "sg",
    memberId: "consumer-1",
    memberEpoch: 0,
    rebalanceTimeoutMs: 1000,
    subscribedTopicNames: ["words"],
    topicPartitions: [],
  });
  assert.equal(cgh.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  const jg = await c.call(JOIN_GROUP_API, 9, {
    ...defaultJoinGroupRequest(),
    groupId: "sg",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId: "",
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: new Uint8Array(0) }],
  });
  assert.equal(jg.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  // And a streams heartbeat for a KIP-848 group with members.
  const cg = await c.call(CONSUMER_GROUP_HEARTBEAT_API, 1, {
    ...defaultConsumerGroupHeartbeatRequest(),
    groupId: "cg",
    memberId: "consumer-1",
    memberEpoch: 0,
    rebalanceTimeoutMs: 1000,
    subscribedTopicNames: ["words"],
    topicPartitions: [],
  });
  assert.equal(cg.errorCode, 0);
  const wrong = await join(c, "cg", "m", "p", wordCount("cg"));
  assert.equal(wrong.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  assert.match(wrong.errorMessage ?? "", /not a streams group/);
});

Deno.test("streams group: a newer topology epoch replaces the topology and creates its topics", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "src", 2);
  const v1 = await join(c, "up", "old", "p-old", wordCount("up", "src", 1));
  ok(v1, "join v1");
  const t2 = wordCount("up", "src", 2);
  t2.subtopologies[1].stateChangelogTopics.push({
    name: "up-totals-changelog",
    partitions: 0,
    replicationFactor: 0,
    topicConfigs: [],
  });
  const v2 = await join(c, "up", "new", "p-new", t2);
  ok(v2, "join v2");
  assert.equal(v2.status, null);
  assert.equal((await broker.context.meta.getTopic("up-totals-changelog"))?.partitions, 2);
  const old = await owning(c, "up", "old", v1.memberEpoch, v1.activeTasks!);
  ok(old, "old member");
  assert.deepEqual(old.status?.map((s) => s.statusCode), [0], "the old member's topology is stale");
  const d = await c.call(STREAMS_GROUP_DESCRIBE_API, 0, {
    groupIds: ["up"],
    includeAuthorizedOperations: false,
    includeTopologyDescription: false,
  });
  assert.equal(d.groups[0].topology?.epoch, 2);
  assert.deepEqual(
    d.groups[0].members.map((m) => [m.memberId, m.topologyEpoch]).sort(),
    [["new", 2], ["old", 1]],
  );
});
