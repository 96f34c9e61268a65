/**
 * ShareGroupDescribe (key 77), version 1: share groups (KIP-932) with their
 * epochs, assignor and members' assignments. A group of another type answers
 * GROUP_ID_NOT_FOUND, as in Kafka.
 */

import {
  SHARE_GROUP_DESCRIBE_API,
  type ShareGroupDescribeResponseGroup,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { SHARE_ASSIGNOR, shareGroupState } from "../broker/share_group_state.ts";
import type { TopicPartitions } from "../broker/consumer_group_state.ts";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  groupAuthorizedOperations,
} from "./_authorized_operations.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

async function describe(
  groupId: string,
  ctx: RequestContext,
  asked: boolean,
): Promise<ShareGroupDescribeResponseGroup> {
  const missing = (errorCode: number, errorMessage: string | null) => ({
    errorCode,
    errorMessage,
    groupId,
    groupState: "Dead",
    groupEpoch: -1,
    assignmentEpoch: -1,
    assignorName: "",
    members: [],
    authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  });
  if (!allowedGroup(ctx, Op.DESCRIBE, groupId)) {
    return missing(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
  }
  try {
    const g = await ctx.broker.groups.current(groupId);
    if (g === null) {
      return missing(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);
    }
    if (g.type !== "share") {
      return missing(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a share group.`);
    }
    const names = new Map(Object.entries(g.topics).map(([name, t]) => [t.id, name]));
    const named = (a: TopicPartitions) => ({
      topicPartitions: Object.entries(a).map(([topicId, partitions]) => ({
        topicId,
        topicName: names.get(topicId) ?? "",
        partitions,
      })),
    });
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: shareGroupState(g),
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      assignorName: SHARE_ASSIGNOR,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        assignment: named(m.assigned),
      })),
      authorizedOperations: groupAuthorizedOperations(asked, ctx, groupId),
    };
  } catch (e) {
    return missing(groupErrorCode(e, ctx, groupId), null);
  }
}

export const shareGroupDescribe = defineHandler({
  api: SHARE_GROUP_DESCRIBE_API,
  minVersion: 1,
  maxVersion: 1,
  async handle(req, ctx) {
    const groups: ShareGroupDescribeResponseGroup[] = [];
    for (const id of req.groupIds) {
      groups.push(await describe(id, ctx, req.includeAuthorizedOperations));
    }
    return { throttleTimeMs: 0, groups };
  },
});
