/**
 * ConsumerGroupDescribe (key 69), versions 0-1: KIP-848 groups with their
 * epochs, assignor and members (current and target assignments); v1 adds
 * the member type (KIP-1099). A classic group answers GROUP_ID_NOT_FOUND, as
 * in Kafka, which makes the AdminClient fall back to DescribeGroups.
 */

import {
  CONSUMER_GROUP_DESCRIBE_API,
  type ConsumerGroupDescribeResponseGroup,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import {
  consumerGroupState,
  groupAssignor,
  type TopicPartitions,
} from "../broker/consumer_group_state.ts";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  groupAuthorizedOperations,
} from "./_authorized_operations.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

/** KIP-1099: the member speaks the consumer protocol (0 would be a classic member). */
const CONSUMER_MEMBER = 1;

async function describe(
  groupId: string,
  ctx: RequestContext,
  asked: boolean,
): Promise<ConsumerGroupDescribeResponseGroup> {
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
      return missing(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${JSON.stringify(groupId)} not found`);
    }
    if (g.type !== "consumer") {
      return missing(
        ErrorCode.GROUP_ID_NOT_FOUND,
        `Group ${JSON.stringify(groupId)} is not a consumer group`,
      );
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
      groupState: consumerGroupState(g),
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      assignorName: groupAssignor(g),
      members: g.members.map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: named(m.assigned),
        targetAssignment: named(m.target),
        memberType: CONSUMER_MEMBER,
      })),
      authorizedOperations: groupAuthorizedOperations(asked, ctx, groupId),
    };
  } catch (e) {
    return missing(groupErrorCode(e, ctx, groupId), null);
  }
}

export const consumerGroupDescribe = defineHandler({
  api: CONSUMER_GROUP_DESCRIBE_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const groups: ConsumerGroupDescribeResponseGroup[] = [];
    for (const id of req.groupIds) {
      groups.push(await describe(id, ctx, req.includeAuthorizedOperations));
    }
    return { throttleTimeMs: 0, groups };
  },
});
