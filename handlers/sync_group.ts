/**
 * SyncGroup (key 14), versions 0-5: after a join phase the leader sends every
 * member's assignment and the group becomes Stable; the other members wait
 * for it and get their own. Members whose SyncGroup does not arrive within
 * the rebalance timeout are removed. v3 adds the static instance id
 * (KIP-345); v5 names the protocol type and assignor, checked against the
 * group's (KIP-559).
 */

import { SYNC_GROUP_API, type SyncGroupResponse } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { fromBase64, toBase64 } from "../broker/group_state.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

function failure(errorCode: number): SyncGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    protocolType: null,
    protocolName: null,
    assignment: new Uint8Array(0),
  };
}

export const syncGroup = defineHandler({
  api: SYNC_GROUP_API,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    if (!allowedGroup(ctx, Op.READ, req.groupId)) {
      return failure(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    if (req.groupId === "") return failure(ErrorCode.INVALID_GROUP_ID);
    const v = ctx.apiVersion;
    try {
      const r = await ctx.broker.groups.sync(req.groupId, {
        memberId: req.memberId,
        groupInstanceId: v >= 3 ? req.groupInstanceId : null,
        generationId: req.generationId,
        protocolType: v >= 5 ? req.protocolType : null,
        protocolName: v >= 5 ? req.protocolName : null,
        assignments: req.assignments.map((a) => ({
          memberId: a.memberId,
          assignment: toBase64(a.assignment),
        })),
      });
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        protocolType: r.protocolType,
        protocolName: r.protocolName,
        assignment: fromBase64(r.assignment),
      };
    } catch (e) {
      return failure(groupErrorCode(e, ctx, req.groupId));
    }
  },
});
