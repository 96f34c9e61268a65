/**
 * ListGroups (key 16), versions 0-5: every group with its protocol type; v4
 * adds the state and a filter on it (KIP-518), v5 the group type ("classic",
 * "consumer" for KIP-848 groups, "share" for KIP-932 share groups, "streams" for KIP-1071 streams groups) and a filter on that. Filters match without regard to case, as
 * Kafka's do.
 */

import { LIST_GROUPS_API, type ListGroupsResponseGroup } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { consumerGroupState } from "../broker/consumer_group_state.ts";
import { shareGroupState } from "../broker/share_group_state.ts";
import { streamsGroupState } from "../broker/streams_group_state.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedCluster, allowedGroup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const listGroups = defineHandler({
  api: LIST_GROUPS_API,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const states = new Set(
      (ctx.apiVersion >= 4 ? req.statesFilter : []).map((s) => s.toLowerCase()),
    );
    const types = new Set((ctx.apiVersion >= 5 ? req.typesFilter : []).map((s) => s.toLowerCase()));
    const groups: ListGroupsResponseGroup[] = [];
    // DESCRIBE on the cluster lists every group; else only those the caller may DESCRIBE.
    const everyGroup = allowedCluster(ctx, Op.DESCRIBE);
    try {
      for (const { groupId, group } of await ctx.broker.groups.list()) {
        const state = group.type === "classic"
          ? group.state
          : group.type === "share"
          ? shareGroupState(group)
          : group.type === "streams"
          ? streamsGroupState(group)
          : consumerGroupState(group);
        if (states.size > 0 && !states.has(state.toLowerCase())) continue;
        if (types.size > 0 && !types.has(group.type)) continue;
        if (!everyGroup && !allowedGroup(ctx, Op.DESCRIBE, groupId)) continue;
        groups.push({
          groupId,
          // KIP-932: share groups list with protocol type "share".
          protocolType: group.type === "classic" ? group.protocolType ?? "" : group.type,
          groupState: state,
          groupType: group.type,
        });
      }
    } catch (e) {
      return { throttleTimeMs: 0, errorCode: groupErrorCode(e, ctx, ""), groups: [] };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
  },
});
