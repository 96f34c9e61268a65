import assert from "node:assert/strict";
import { assignTasks, noTasks } from "./streams_assignor.ts";
import {
  emptyStreamsGroup,
  streamsGroupState,
  streamsHeartbeat,
  type StreamsHeartbeatInput,
  tickStreams,
} from "./streams_group_state.ts";
import { configureTopology, type StreamsTopology } from "./streams_topology.ts";
import type { TopicMeta } from "./consumer_group_state.ts";
import { ErrorCode } from "../protocol/errors.ts";

const CFG = { sessionTimeoutMs: 45_000, heartbeatIntervalMs: 5000, numStandbyReplicas: 0 };

function topology(): StreamsTopology {
  return {
    epoch: 1,
    subtopologies: [{
      subtopologyId: "0",
      sourceTopics: ["in"],
      sourceTopicRegex: [],
      stateChangelogTopics: [],
      repartitionSinkTopics: ["app-r"],
      repartitionSourceTopics: [],
      copartitionGroups: [],
    }, {
      subtopologyId: "1",
      sourceTopics: [],
      sourceTopicRegex: [],
      stateChangelogTopics: [{
        name: "app-c",
        partitions: 0,
        replicationFactor: 0,
        topicConfigs: [],
      }],
      repartitionSinkTopics: [],
      repartitionSourceTopics: [{
        name: "app-r",
        partitions: 0,
        replicationFactor: 0,
        topicConfigs: [],
      }],
      copartitionGroups: [],
    }],
  };
}

function input(memberId: string, memberEpoch: number, extra: Partial<StreamsHeartbeatInput> = {}) {
  return {
    memberId,
    memberEpoch,
    endpointInformationEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: memberEpoch === 0 ? 10_000 : -1,
    topology: memberEpoch === 0 ? topology() : null,
    activeTasks: memberEpoch === 0 ? {} : null,
    standbyTasks: memberEpoch === 0 ? {} : null,
    warmupTasks: memberEpoch === 0 ? {} : null,
    processId: memberEpoch === 0 ? `process-${memberId}` : null,
    userEndpoint: null,
    clientTags: null,
    taskOffsets: null,
    taskEndOffsets: null,
    shutdownApplication: false,
    clientId: "c",
    clientHost: "/127.0.0.1",
    ...extra,
  } satisfies StreamsHeartbeatInput;
}

const TOPICS = new Map<string, TopicMeta>([
  ["in", { id: "t-in", partitions: 4 }],
  ["app-r", { id: "t-r", partitions: 4 }],
  ["app-c", { id: "t-c", partitions: 4 }],
]);

Deno.test("configureTopology derives repartition counts, sizes changelogs, reports what is wrong", () => {
  const none = configureTopology(topology(), new Map([["in", 3]]));
  assert.deepEqual(none.toCreate.map((t) => [t.name, t.partitions, t.configs["cleanup.policy"]]), [
    ["app-c", 3, "compact"],
    ["app-r", 3, undefined],
  ]);
  assert.equal(none.status?.code, 3);
  const missing = configureTopology(topology(), new Map());
  assert.equal(missing.status?.code, 1);
  assert.equal(missing.subtopologies, null);
  const wrong = configureTopology(topology(), new Map([["in", 3], ["app-r", 3], ["app-c", 5]]));
  assert.equal(wrong.status?.code, 2);
  assert.match(wrong.status!.detail, /app-c/);
  // A join: two source topics that must be copartitioned, but are not.
  const join: StreamsTopology = {
    epoch: 1,
    subtopologies: [{
      subtopologyId: "0",
      sourceTopics: ["left", "right"],
      sourceTopicRegex: [],
      stateChangelogTopics: [],
      repartitionSinkTopics: [],
      repartitionSourceTopics: [],
      copartitionGroups: [{
        sourceTopics: [0, 1],
        sourceTopicRegex: [],
        repartitionSourceTopics: [],
      }],
    }],
  };
  assert.equal(configureTopology(join, new Map([["left", 2], ["right", 3]])).status?.code, 2);
  const ok = configureTopology(join, new Map([["left", 2], ["right", 2]]));
  assert.equal(ok.status, null);
  assert.equal(ok.subtopologies![0].numTasks, 2);
});

Deno.test("sticky assignor: balanced, keeps tasks in place, standbys on other processes", () => {
  const subs = [{ subtopologyId: "0", numTasks: 6, stateful: true }];
  const one = assignTasks([{ memberId: "a", processId: "pa", previous: noTasks() }], subs, 1);
  assert.deepEqual(one.get("a")!.active, { "0": [0, 1, 2, 3, 4, 5] });
  assert.deepEqual(one.get("a")!.standby, {}, "no other process for a standby");
  const two = assignTasks(
    [
      { memberId: "a", processId: "pa", previous: one.get("a")! },
      { memberId: "b", processId: "pb", previous: noTasks() },
    ],
    subs,
    1,
  );
  const a = two.get("a")!.active["0"];
  const b = two.get("b")!.active["0"];
  assert.equal(a.length, 3);
  assert.equal(b.length, 3);
  assert.deepEqual([...a, ...b].sort(), [0, 1, 2, 3, 4, 5]);
  // Each standby is the other process's active.
  assert.deepEqual(two.get("a")!.standby["0"], b);
  assert.deepEqual(two.get("b")!.standby["0"], a);
  // A third member takes a share; the others keep what they can.
  const three = assignTasks(
    [
      { memberId: "a", processId: "pa", previous: two.get("a")! },
      { memberId: "b", processId: "pb", previous: two.get("b")! },
      { memberId: "c", processId: "pc", previous: noTasks() },
    ],
    subs,
    0,
  );
  for (const id of ["a", "b", "c"]) assert.equal(three.get(id)!.active["0"].length, 2);
  assert.ok(three.get("a")!.active["0"].every((p) => a.includes(p)), "a keeps its own tasks");
});

Deno.test("streams group: silent members and members that do not revoke are removed", () => {
  let g = streamsHeartbeat(null, input("a", 0), TOPICS, 0, CFG).group!;
  g = streamsHeartbeat(g, input("b", 0), TOPICS, 1000, CFG).group!;
  assert.equal(streamsGroupState(g), "Reconciling");
  // a never revokes what b should get: it is removed after its rebalance timeout.
  const owned = structuredClone(g.members[0].assigned);
  const r = streamsHeartbeat(
    g,
    input("a", g.members[0].memberEpoch, {
      activeTasks: owned.active,
      standbyTasks: {},
      warmupTasks: {},
    }),
    TOPICS,
    2000,
    CFG,
  );
  assert.equal(r.group!.members[0].state, "unrevoked_tasks");
  const later = tickStreams(r.group!, 2000 + 10_001, new Map([["a", 12_000], ["b", 12_000]]));
  assert.deepEqual(later.members.map((m) => m.memberId), ["b"]);
  // b, silent past the session timeout, goes too.
  const gone = tickStreams(later, 12_000 + 45_001, new Map([["b", 12_000]]));
  assert.equal(gone.members.length, 0);
  assert.equal(streamsGroupState(gone), "Empty");
  // A heartbeat of a member no longer there.
  assert.equal(
    streamsHeartbeat(gone, input("b", 5), TOPICS, 60_000, CFG).result.errorCode,
    ErrorCode.UNKNOWN_MEMBER_ID,
  );
});

Deno.test("streams group: a topology of the same epoch must be the same", () => {
  const g = streamsHeartbeat(emptyStreamsGroup(0), input("a", 0), TOPICS, 0, CFG).group!;
  const other = topology();
  other.subtopologies[0].sourceTopics = ["elsewhere"];
  const r = streamsHeartbeat(g, input("b", 0, { topology: other }), TOPICS, 1, CFG);
  assert.equal(r.result.errorCode, ErrorCode.STREAMS_INVALID_TOPOLOGY);
});
