/**
 * The consumer group APIs over real TCP with exact bytes from our own codec,
 * each in its lowest and highest version: FindCoordinator, JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * DescribeGroups, ListGroups, DeleteGroups and OffsetDelete; and the KIP-848
 * ConsumerGroupHeartbeat and ConsumerGroupDescribe.
 */

import assert from "node:assert/strict";
import {
  CONSUMER_GROUP_DESCRIBE_API,
  CONSUMER_GROUP_HEARTBEAT_API,
  defaultConsumerGroupDescribeRequest,
  defaultConsumerGroupHeartbeatRequest,
  defaultDeleteGroupsRequest,
  defaultDescribeGroupsRequest,
  defaultFindCoordinatorRequest,
  defaultHeartbeatRequest,
  defaultJoinGroupRequest,
  defaultLeaveGroupRequest,
  defaultListGroupsRequest,
  defaultOffsetCommitRequest,
  defaultOffsetDeleteRequest,
  defaultOffsetFetchRequest,
  defaultSyncGroupRequest,
  DELETE_GROUPS_API,
  DESCRIBE_GROUPS_API,
  FIND_COORDINATOR_API,
  HEARTBEAT_API,
  JOIN_GROUP_API,
  type JoinGroupResponse,
  LEAVE_GROUP_API,
  LIST_GROUPS_API,
  OFFSET_COMMIT_API,
  OFFSET_DELETE_API,
  OFFSET_FETCH_API,
  SYNC_GROUP_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { Writer } from "../protocol/writer.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import type { MetaStore } from "../stores/types.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic, metaStoreTest } from "./helpers.ts";

const enc = new TextEncoder();

/** A consumer-protocol subscription (version 0: topics, no user data). */
function subscription(...topics: string[]): Uint8Array {
  const w = new Writer(64);
  w.int16(0);
  w.int32(topics.length);
  for (const t of topics) w.string(t);
  w.nullableBytes(null);
  return w.bytes();
}

function groupBroker(meta: MetaStore) {
  return testBroker({ meta, groupInitialRebalanceDelayMs: 0, groupMinSessionTimeoutMs: 100 });
}

function joinRequest(groupId: string, memberId = "", topics = ["t"]) {
  return {
    ...defaultJoinGroupRequest(),
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: subscription(...topics) }],
  };
}

/** JoinGroup v9 as a new member: MEMBER_ID_REQUIRED, then the join with that id. */
async function joinV9(c: WireClient, groupId: string, topics = ["t"]): Promise<JoinGroupResponse> {
  const first = await c.call(JOIN_GROUP_API, 9, joinRequest(groupId, "", topics));
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.ok(first.memberId.startsWith("wire-test-"), `member id ${first.memberId}`);
  return await c.call(JOIN_GROUP_API, 9, joinRequest(groupId, first.memberId, topics));
}

metaStoreTest(
  "FindCoordinator v0 and v6 name this broker for groups and transactional ids",
  async (meta) => {
    await using broker = await groupBroker(meta);
    await using c = await WireClient.connect(broker.port);
    const v0 = await c.call(FIND_COORDINATOR_API, 0, {
      ...defaultFindCoordinatorRequest(),
      key: "g",
    });
    assert.equal(v0.errorCode, ErrorCode.NONE);
    assert.equal(v0.host, "127.0.0.1");
    assert.equal(v0.port, broker.port);
    const v6 = await c.call(FIND_COORDINATOR_API, 6, {
      ...defaultFindCoordinatorRequest(),
      keyType: 0,
      coordinatorKeys: ["a", "b"],
    });
    assert.deepEqual(
      v6.coordinators.map((x) => [x.key, x.errorCode, x.port]),
      [["a", 0, broker.port], ["b", 0, broker.port]],
    );
    const txn = await c.call(FIND_COORDINATOR_API, 6, {
      ...defaultFindCoordinatorRequest(),
      keyType: 1,
      coordinatorKeys: ["tx"],
    });
    assert.deepEqual(
      [txn.coordinators[0].errorCode, txn.coordinators[0].port],
      [ErrorCode.NONE, broker.port],
    );
  },
);

metaStoreTest("classic group v0: join, sync, heartbeat, commit, fetch and leave", async (meta) => {
  await using broker = await groupBroker(meta);
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "t", 2);
  // v0 has no MEMBER_ID_REQUIRED: the member joins at once, alone, as leader.
  const joined = await c.call(JOIN_GROUP_API, 0, joinRequest("g0"));
  assert.equal(joined.errorCode, ErrorCode.NONE);
  assert.equal(joined.generationId, 1);
  assert.equal(joined.leader, joined.memberId);
  assert.equal(joined.protocolName, "range");
  assert.deepEqual(joined.members.map((m) => m.memberId), [joined.memberId]);
  const synced = await c.call(SYNC_GROUP_API, 0, {
    ...defaultSyncGroupRequest(),
    groupId: "g0",
    generationId: 1,
    memberId: joined.memberId,
    assignments: [{ memberId: joined.memberId, assignment: enc.encode("both partitions") }],
  });
  assert.equal(synced.errorCode, ErrorCode.NONE);
  assert.equal(new TextDecoder().decode(synced.assignment), "both partitions");
  const hb = await c.call(HEARTBEAT_API, 0, {
    ...defaultHeartbeatRequest(),
    groupId: "g0",
    generationId: 1,
    memberId: joined.memberId,
  });
  assert.equal(hb.errorCode, ErrorCode.NONE);
  const stale = await c.call(HEARTBEAT_API, 0, {
    ...defaultHeartbeatRequest(),
    groupId: "g0",
    generationId: 0,
    memberId: joined.memberId,
  });
  assert.equal(stale.errorCode, ErrorCode.ILLEGAL_GENERATION);

  const commit = await c.call(OFFSET_COMMIT_API, 2, {
    ...defaultOffsetCommitRequest(),
    groupId: "g0",
    generationIdOrMemberEpoch: 1,
    memberId: joined.memberId,
    topics: [{
      name: "t",
      topicId: ZERO_UUID,
      partitions: [{
        partitionIndex: 0,
        committedOffset: 5,
        committedLeaderEpoch: -1,
        committedMetadata: "five",
      }],
    }, {
      name: "missing",
      topicId: ZERO_UUID,
      partitions: [{
        partitionIndex: 0,
        committedOffset: 1,
        committedLeaderEpoch: -1,
        committedMetadata: null,
      }],
    }],
  });
  assert.deepEqual(commit.topics.map((t) => t.partitions[0].errorCode), [
    ErrorCode.NONE,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ]);
  const fetched = await c.call(OFFSET_FETCH_API, 1, {
    ...defaultOffsetFetchRequest(),
    groupId: "g0",
    topics: [{ name: "t", partitionIndexes: [0, 1] }],
  });
  assert.deepEqual(
    fetched.topics[0].partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata]),
    [[0, 5, "five"], [1, -1, ""]],
    "a never-committed partition answers -1",
  );

  const left = await c.call(LEAVE_GROUP_API, 0, {
    ...defaultLeaveGroupRequest(),
    groupId: "g0",
    memberId: joined.memberId,
  });
  assert.equal(left.errorCode, ErrorCode.NONE);
  const again = await c.call(LEAVE_GROUP_API, 0, {
    ...defaultLeaveGroupRequest(),
    groupId: "g0",
    memberId: joined.memberId,
  });
  assert.equal(again.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

metaStoreTest(
  "classic group at the highest versions: two members, one rebalance, batch leave",
  async (meta) => {
    await using broker = await groupBroker(meta);
    await using c1 = await WireClient.connect(broker.port);
    await using c2 = await WireClient.connect(broker.port);
    await createTopic(c1, "t", 4);
    const a = await joinV9(c1, "g9");
    assert.equal(a.errorCode, ErrorCode.NONE);
    assert.equal(a.protocolType, "consumer");
    const syncReq = (
      j: JoinGroupResponse,
      assignments: { memberId: string; assignment: Uint8Array }[],
    ) => ({
      ...defaultSyncGroupRequest(),
      groupId: "g9",
      generationId: j.generationId,
      memberId: j.memberId,
      protocolType: "consumer",
      protocolName: "range",
      assignments,
    });
    const s1 = await c1.call(
      SYNC_GROUP_API,
      5,
      syncReq(a, [{ memberId: a.memberId, assignment: enc.encode("all") }]),
    );
    assert.equal(s1.errorCode, ErrorCode.NONE);
    assert.equal(s1.protocolName, "range");

    // A second member: the first learns of the rebalance from its heartbeat and rejoins.
    const bJoin = joinV9(c2, "g9");
    let hb = ErrorCode.NONE as number;
    for (let i = 0; i < 100 && hb === ErrorCode.NONE; i++) {
      await new Promise((r) => setTimeout(r, 20));
      hb = (await c1.call(HEARTBEAT_API, 4, {
        ...defaultHeartbeatRequest(),
        groupId: "g9",
        generationId: a.generationId,
        memberId: a.memberId,
      })).errorCode;
    }
    assert.equal(hb, ErrorCode.REBALANCE_IN_PROGRESS);
    const [a2, b] = await Promise.all([
      c1.call(JOIN_GROUP_API, 9, joinRequest("g9", a.memberId)),
      bJoin,
    ]);
    assert.equal(a2.generationId, 2);
    assert.equal(b.generationId, 2);
    assert.equal(a2.leader, a.memberId, "the leader keeps its role");
    assert.equal(a2.members.length, 2);
    assert.equal(b.members.length, 0);
    const wrong = await c2.call(SYNC_GROUP_API, 5, {
      ...syncReq(b, []),
      protocolName: "roundrobin",
    });
    assert.equal(wrong.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const [sa, sb] = await Promise.all([
      c1.call(
        SYNC_GROUP_API,
        5,
        syncReq(a2, [
          { memberId: a.memberId, assignment: enc.encode("p0 p1") },
          { memberId: b.memberId, assignment: enc.encode("p2 p3") },
        ]),
      ),
      c2.call(SYNC_GROUP_API, 5, syncReq(b, [])),
    ]);
    assert.equal(new TextDecoder().decode(sa.assignment), "p0 p1");
    assert.equal(new TextDecoder().decode(sb.assignment), "p2 p3");

    const commit = await c2.call(OFFSET_COMMIT_API, 9, {
      ...defaultOffsetCommitRequest(),
      groupId: "g9",
      generationIdOrMemberEpoch: 2,
      memberId: b.memberId,
      topics: [{
        name: "t",
        topicId: ZERO_UUID,
        partitions: [{
          partitionIndex: 2,
          committedOffset: 9,
          committedLeaderEpoch: 3,
          committedMetadata: "m",
        }],
      }],
    });
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    const stale = await c2.call(OFFSET_COMMIT_API, 9, {
      ...defaultOffsetCommitRequest(),
      groupId: "g9",
      generationIdOrMemberEpoch: 1,
      memberId: b.memberId,
      topics: [{
        name: "t",
        topicId: ZERO_UUID,
        partitions: [{
          partitionIndex: 2,
          committedOffset: 1,
          committedLeaderEpoch: -1,
          committedMetadata: null,
        }],
      }],
    });
    assert.equal(stale.topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);

    // OffsetFetch v9: two groups in one request (KIP-709), all partitions of one.
    const fetched = await c1.call(OFFSET_FETCH_API, 9, {
      ...defaultOffsetFetchRequest(),
      groups: [
        { groupId: "g9", memberId: null, memberEpoch: -1, topics: null },
        {
          groupId: "never",
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: "t", topicId: ZERO_UUID, partitionIndexes: [0] }],
        },
      ],
    });
    assert.deepEqual(
      fetched.groups.map((g) =>
        g.topics.flatMap((t) =>
          t.partitions.map((
            p,
          ) => [t.name, p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.metadata])
        )
      ),
      [[["t", 2, 9, 3, "m"]], [["t", 0, -1, -1, ""]]],
    );

    // Describe while Stable: members with subscriptions and assignments.
    const described = await c1.call(DESCRIBE_GROUPS_API, 6, {
      ...defaultDescribeGroupsRequest(),
      groups: ["g9", "nope"],
    });
    const [g9, nope] = described.groups;
    assert.equal(g9.groupState, "Stable");
    assert.equal(g9.protocolType, "consumer");
    assert.equal(g9.protocolData, "range");
    assert.equal(g9.members.length, 2);
    assert.equal(g9.members[0].clientHost, "/127.0.0.1");
    assert.equal(g9.members[0].clientId, "wire-test");
    assert.deepEqual(g9.members[1].memberMetadata, subscription("t"));
    assert.equal(nope.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(nope.groupState, "Dead");

    // OffsetDelete refuses a topic the live group subscribes to.
    const od = await c1.call(OFFSET_DELETE_API, 0, {
      ...defaultOffsetDeleteRequest(),
      groupId: "g9",
      topics: [{ name: "t", partitions: [{ partitionIndex: 2 }] }],
    });
    assert.equal(od.topics[0].partitions[0].errorCode, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);

    // Both leave in one batch (v3+): the group is Empty and can be deleted.
    const left = await c1.call(LEAVE_GROUP_API, 5, {
      ...defaultLeaveGroupRequest(),
      groupId: "g9",
      members: [
        { memberId: a.memberId, groupInstanceId: null, reason: "test" },
        { memberId: b.memberId, groupInstanceId: null, reason: null },
        { memberId: "stranger", groupInstanceId: null, reason: null },
      ],
    });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.deepEqual(left.members.map((m) => m.errorCode), [0, 0, ErrorCode.UNKNOWN_MEMBER_ID]);
    const listed = await c1.call(LIST_GROUPS_API, 5, {
      ...defaultListGroupsRequest(),
      statesFilter: ["empty"],
      typesFilter: ["Classic"],
    });
    assert.deepEqual(listed.groups.map((g) => [g.groupId, g.groupState, g.groupType]), [[
      "g9",
      "Empty",
      "classic",
    ]]);
    const od2 = await c1.call(OFFSET_DELETE_API, 0, {
      ...defaultOffsetDeleteRequest(),
      groupId: "g9",
      topics: [{ name: "t", partitions: [{ partitionIndex: 2 }] }],
    });
    assert.equal(od2.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    const deleted = await c1.call(DELETE_GROUPS_API, 2, {
      ...defaultDeleteGroupsRequest(),
      groupsNames: ["g9", "g9"],
    });
    assert.deepEqual(deleted.results.map((r) => r.errorCode), [
      ErrorCode.NONE,
      ErrorCode.GROUP_ID_NOT_FOUND,
    ]);
  },
);

metaStoreTest(
  "admin APIs at the lowest versions: ListGroups v0, DescribeGroups v0, DeleteGroups v0",
  async (meta) => {
    await using broker = await groupBroker(meta);
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, "t", 1);
    const joined = await c.call(JOIN_GROUP_API, 0, joinRequest("live"));
    assert.equal(joined.errorCode, ErrorCode.NONE);
    // An outside commit (generation -1) creates an Empty group that only holds offsets.
    const commit = await c.call(OFFSET_COMMIT_API, 2, {
      ...defaultOffsetCommitRequest(),
      groupId: "offsets-only",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      topics: [{
        name: "t",
        topicId: ZERO_UUID,
        partitions: [{
          partitionIndex: 0,
          committedOffset: 3,
          committedLeaderEpoch: -1,
          committedMetadata: null,
        }],
      }],
    });
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    const listed = await c.call(LIST_GROUPS_API, 0, defaultListGroupsRequest());
    assert.deepEqual(
      listed.groups.map((g) => [g.groupId, g.protocolType]).sort(),
      [["live", "consumer"], ["offsets-only", ""]],
    );
    const described = await c.call(DESCRIBE_GROUPS_API, 0, {
      ...defaultDescribeGroupsRequest(),
      groups: ["live", "missing"],
    });
    assert.equal(described.groups[0].groupState, "CompletingRebalance");
    assert.equal(described.groups[0].members.length, 1);
    assert.equal(described.groups[1].errorCode, ErrorCode.NONE, "v0-5: a missing group is Dead");
    assert.equal(described.groups[1].groupState, "Dead");
    const deleted = await c.call(DELETE_GROUPS_API, 0, {
      ...defaultDeleteGroupsRequest(),
      groupsNames: ["live", "offsets-only", "missing"],
    });
    assert.deepEqual(deleted.results.map((r) => r.errorCode), [
      ErrorCode.NON_EMPTY_GROUP,
      ErrorCode.NONE,
      ErrorCode.GROUP_ID_NOT_FOUND,
    ]);
    const fetched = await c.call(OFFSET_FETCH_API, 2, {
      ...defaultOffsetFetchRequest(),
      groupId: "offsets-only",
      topics: null,
    });
    assert.deepEqual(fetched.topics, [], "deleting the group deleted its offsets");
  },
);

metaStoreTest(
  "KIP-848 at v0 and v1: ConsumerGroupHeartbeat joins, reconciles and leaves; ConsumerGroupDescribe shows it",
  async (meta) => {
    await using broker = await groupBroker(meta);
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, "t", 2);
    const join = (version: number, memberId: string) =>
      c.call(CONSUMER_GROUP_HEARTBEAT_API, version, {
        ...defaultConsumerGroupHeartbeatRequest(),
        groupId: "cg",
        memberId,
        memberEpoch: 0,
        rebalanceTimeoutMs: 10_000,
        subscribedTopicNames: ["t"],
        serverAssignor: "range",
        topicPartitions: [],
      });
    // v0: the broker makes the member id.
    const a = await join(0, "");
    assert.equal(a.errorCode, ErrorCode.NONE);
    assert.ok(a.memberId && a.memberId.length > 0);
    assert.equal(a.memberEpoch, 1);
    assert.equal(a.heartbeatIntervalMs, 5000);
    const topicId = a.assignment!.topicPartitions[0].topicId;
    assert.deepEqual(a.assignment!.topicPartitions[0].partitions, [0, 1]);
    // v1: the client makes it (KIP-1082); an empty one is refused.
    const empty = await join(1, "");
    assert.equal(empty.errorCode, ErrorCode.INVALID_REQUEST);
    assert.match(empty.errorMessage ?? "", /MemberId/);
    const b = await join(1, "member-b");
    assert.equal(b.memberId, "member-b");
    assert.equal(b.memberEpoch, 2);
    assert.deepEqual(b.assignment!.topicPartitions, [], "partition 1 is still a's");
    // a revokes partition 1, then b gets it.
    const beat = (memberId: string, memberEpoch: number, owned: number[] | null) =>
      c.call(CONSUMER_GROUP_HEARTBEAT_API, 1, {
        ...defaultConsumerGroupHeartbeatRequest(),
        groupId: "cg",
        memberId,
        memberEpoch,
        topicPartitions: owned === null ? null : [{ topicId, partitions: owned }],
      });
    const revoke = await beat(a.memberId!, 1, null);
    assert.equal(revoke.memberEpoch, 1);
    assert.deepEqual(revoke.assignment!.topicPartitions[0].partitions, [0]);
    const acked = await beat(a.memberId!, 1, [0]);
    assert.equal(acked.memberEpoch, 2);
    const given = await beat("member-b", 2, null);
    assert.deepEqual(given.assignment!.topicPartitions[0].partitions, [1]);
    const fenced = await beat("member-b", 7, null);
    assert.equal(fenced.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);

    for (const version of [0, 1]) {
      const d = await c.call(CONSUMER_GROUP_DESCRIBE_API, version, {
        ...defaultConsumerGroupDescribeRequest(),
        groupIds: ["cg", "nope"],
      });
      const [cg, nope] = d.groups;
      assert.equal(cg.errorCode, ErrorCode.NONE);
      assert.equal(cg.groupState, "Stable");
      assert.equal(cg.groupEpoch, 2);
      assert.equal(cg.assignorName, "range");
      assert.deepEqual(
        cg.members.map((
          m,
        ) => [
          m.memberId === a.memberId ? "a" : m.memberId,
          m.memberEpoch,
          m.assignment.topicPartitions[0].topicName,
          m.assignment.topicPartitions[0].partitions,
        ]),
        [["a", 2, "t", [0]], ["member-b", 2, "t", [1]]],
      );
      assert.equal(nope.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    }
    const listed = await c.call(LIST_GROUPS_API, 5, {
      ...defaultListGroupsRequest(),
      typesFilter: ["consumer"],
    });
    assert.deepEqual(listed.groups.map((g) => [g.groupId, g.groupState, g.groupType]), [[
      "cg",
      "Stable",
      "consumer",
    ]]);
    // Leaving: epoch -1.
    const left = await beat("member-b", -1, null);
    assert.equal(left.memberEpoch, -1);
    assert.equal(left.errorCode, ErrorCode.NONE);
  },
);

metaStoreTest(
  "KIP-848: the heartbeat interval and session timeout are the broker's settings",
  async (meta) => {
    await using broker = await testBroker({
      meta,
      groupConsumerHeartbeatIntervalMs: 40,
      groupConsumerSessionTimeoutMs: 300,
    });
    await using c = await WireClient.connect(broker.port);
    await createTopic(c, "t", 2);
    const beat = (memberId: string, memberEpoch: number) =>
      c.call(CONSUMER_GROUP_HEARTBEAT_API, 1, {
        ...defaultConsumerGroupHeartbeatRequest(),
        groupId: "settings",
        memberId,
        memberEpoch,
        rebalanceTimeoutMs: memberEpoch === 0 ? 10_000 : -1,
        subscribedTopicNames: memberEpoch === 0 ? ["t"] : null,
        topicPartitions: memberEpoch === 0 ? [] : null,
      });
    const a = await beat("member-a", 0);
    assert.equal(a.heartbeatIntervalMs, 40, "group.consumer.heartbeat.interval.ms");
    const b = await beat("member-b", 0);
    assert.equal((await beat("member-b", b.memberEpoch)).errorCode, ErrorCode.NONE);
    // b goes silent past group.consumer.session.timeout.ms while a heartbeats as told.
    let epoch = a.memberEpoch;
    for (const started = Date.now(); Date.now() - started < 450;) {
      await new Promise((r) => setTimeout(r, a.heartbeatIntervalMs));
      epoch = (await beat("member-a", epoch)).memberEpoch;
    }
    assert.equal((await beat("member-b", b.memberEpoch)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.deepEqual([...(await meta.memberHeartbeats("settings")).keys()], ["member-a"]);
  },
);
