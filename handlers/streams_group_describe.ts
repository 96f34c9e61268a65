/**
 * StreamsGroupDescribe (key 89), versions 0-1: streams groups (KIP-1071)
 * with their epochs, the topology as the broker configured it (partition
 * counts decided, regexes resolved), or as the members sent it while it is
 * not ready (topics missing or wrongly partitioned; as Kafka describes it),
 * and each member's process, endpoint, client tags,
 * reported changelog offsets, current and target tasks, as
 * `kafka-streams-groups --describe` shows them. Version 1 names the assignor
 * (KIP-1357) and answers a topology description request (KIP-1331) with
 * NOT_STORED: descriptions are not kept here. A group of another type
 * answers GROUP_ID_NOT_FOUND, as in Kafka.
 */

import {
  STREAMS_GROUP_DESCRIBE_API,
  type StreamsGroupDescribeResponseGroup,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { streamsGroupState, tasksToWire } from "../broker/streams_group_state.ts";
import { noTasks, STREAMS_ASSIGNOR, type TaskSet } from "../broker/streams_assignor.ts";
import { isReady, type StreamsTopicInfo } from "../broker/streams_topology.ts";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  groupAuthorizedOperations,
} from "./_authorized_operations.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

/** KIP-1331's TopologyDescriptionStatus. */
const DESCRIPTION_NOT_REQUESTED = 0;
const DESCRIPTION_NOT_STORED = 1;

function topicInfos(list: StreamsTopicInfo[]) {
  return list.map((t) => ({
    name: t.name,
    partitions: t.partitions,
    replicationFactor: t.replicationFactor,
    topicConfigs: t.topicConfigs.map(([key, value]) => ({ key, value })),
  }));
}

function assignment(t: TaskSet) {
  return {
    activeTasks: tasksToWire(t.active),
    standbyTasks: tasksToWire(t.standby),
    warmupTasks: tasksToWire(t.warmup),
  };
}

async function describe(
  groupId: string,
  ctx: RequestContext,
  asked: boolean,
  description: boolean,
): Promise<StreamsGroupDescribeResponseGroup> {
  const missing = (errorCode: number, errorMessage: string | null) => ({
    errorCode,
    errorMessage,
    groupId,
    groupState: "Dead",
    groupEpoch: -1,
    assignmentEpoch: -1,
    topology: null,
    members: [],
    authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    topologyDescription: null,
    topologyDescriptionStatus: DESCRIPTION_NOT_REQUESTED,
    assignorName: null,
  });
  if (!allowedGroup(ctx, Op.DESCRIBE, groupId)) {
    return missing(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
  }
  try {
    const g = await ctx.broker.groups.current(groupId);
    if (g === null) return missing(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);
    if (g.type !== "streams") {
      return missing(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a streams group.`);
    }
    const offsets = (l: [string, number, number][]) =>
      l.map(([subtopologyId, partition, offset]) => ({
        subtopologyId,
        partition,
        offset,
      }));
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: streamsGroupState(g),
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      topology: g.topology === null ? null : {
        epoch: g.topology.epoch,
        subtopologies:
          (isReady(g.configured) ? g.configured!.subtopologies! : g.topology.subtopologies)
            .map((s) => ({
              subtopologyId: s.subtopologyId,
              sourceTopics: s.sourceTopics,
              repartitionSinkTopics: s.repartitionSinkTopics,
              stateChangelogTopics: topicInfos(s.stateChangelogTopics),
              repartitionSourceTopics: topicInfos(s.repartitionSourceTopics),
            })),
      },
      members: g.members.map((m) => ({
        memberId: m.memberId,
        memberEpoch: m.memberEpoch,
        instanceId: m.instanceId,
        rackId: m.rackId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        topologyEpoch: m.topologyEpoch,
        processId: m.processId,
        userEndpoint: m.userEndpoint,
        clientTags: m.clientTags.map(([key, value]) => ({ key, value })),
        taskOffsets: offsets(m.taskOffsets),
        taskEndOffsets: offsets(m.taskEndOffsets),
        assignment: assignment(m.assigned),
        targetAssignment: assignment(g.target[m.memberId] ?? noTasks()),
        isClassic: false,
      })),
      authorizedOperations: groupAuthorizedOperations(asked, ctx, groupId),
      topologyDescription: null,
      topologyDescriptionStatus: description ? DESCRIPTION_NOT_STORED : DESCRIPTION_NOT_REQUESTED,
      assignorName: STREAMS_ASSIGNOR,
    };
  } catch (e) {
    return missing(groupErrorCode(e, ctx, groupId), null);
  }
}

export const streamsGroupDescribe = defineHandler({
  api: STREAMS_GROUP_DESCRIBE_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const groups: StreamsGroupDescribeResponseGroup[] = [];
    const description = ctx.apiVersion >= 1 && req.includeTopologyDescription;
    for (const id of req.groupIds) {
      groups.push(await describe(id, ctx, req.includeAuthorizedOperations, description));
    }
    return { throttleTimeMs: 0, groups };
  },
});
