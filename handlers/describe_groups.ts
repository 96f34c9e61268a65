/**
 * DescribeGroups (key 15), versions 0-6: a group's state, protocol and
 * members, as `kafka-consumer-groups --describe` shows them. Subscriptions
 * and assignments are filled while the group is Stable (as Kafka does). A
 * group that does not exist is "Dead"; from v6 it also answers
 * GROUP_ID_NOT_FOUND (KIP-1043). KIP-848 consumer groups are described by
 * ConsumerGroupDescribe and look absent here, as in Kafka.
 */

import {
  DESCRIBE_GROUPS_API,
  type DescribeGroupsResponseGroup,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { fromBase64 } from "../broker/group_state.ts";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  groupAuthorizedOperations,
} from "./_authorized_operations.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

const EMPTY = new Uint8Array(0);

/**
 * A group's authorized operations (KIP-430) as Kafka's bit field: with no ACLs,
 * every group operation (READ 3, DELETE 6, DESCRIBE 8, DESCRIBE_CONFIGS 10,
 * ALTER_CONFIGS 11), as Kafka 4.4 answers.
 */

async function describe(
  groupId: string,
  ctx: RequestContext,
  askedOperations: boolean,
): Promise<DescribeGroupsResponseGroup> {
  const dead = (errorCode: number, errorMessage: string | null) => ({
    errorCode,
    errorMessage,
    groupId,
    groupState: "Dead",
    protocolType: "",
    protocolData: "",
    members: [],
    authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  });
  if (!allowedGroup(ctx, Op.DESCRIBE, groupId)) {
    return dead(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
  }
  try {
    const g = await ctx.broker.groups.current(groupId);
    if (g === null || g.type !== "classic") {
      // KIP-848 groups are described by ConsumerGroupDescribe.
      const why = g === null ? "not found" : "not a classic group";
      return ctx.apiVersion >= 6
        ? dead(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${JSON.stringify(groupId)} ${why}`)
        : dead(ErrorCode.NONE, null);
    }
    const stable = g.state === "Stable";
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType ?? "",
      protocolData: stable ? g.protocolName ?? "" : "",
      members: g.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable
          ? fromBase64(m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? "")
          : EMPTY,
        memberAssignment: stable ? fromBase64(m.assignment) : EMPTY,
      })),
      authorizedOperations: groupAuthorizedOperations(askedOperations, ctx, groupId),
    };
  } catch (e) {
    return dead(groupErrorCode(e, ctx, groupId), null);
  }
}

export const describeGroups = defineHandler({
  api: DESCRIBE_GROUPS_API,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx) {
    const groups: DescribeGroupsResponseGroup[] = [];
    const asked = ctx.apiVersion >= 3 && req.includeAuthorizedOperations;
    for (const id of req.groups) groups.push(await describe(id, ctx, asked));
    return { throttleTimeMs: 0, groups };
  },
});
