/**
 * LeaveGroup (key 13), versions 0-5: members leave a classic group, which
 * rebalances without waiting for their session to time out. v0-2 name one
 * member; from v3 a batch, by member id or (an admin removing static members,
 * KIP-345) by instance id alone, each with its own error code. v5 adds a
 * reason (KIP-800).
 */

import { LEAVE_GROUP_API, type LeaveGroupResponse } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const leaveGroup = defineHandler({
  api: LEAVE_GROUP_API,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx): Promise<LeaveGroupResponse> {
    const batch = ctx.apiVersion >= 3;
    const leaving = batch
      ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
      : [{ memberId: req.memberId, groupInstanceId: null }];
    let results: number[];
    let errorCode: number = ErrorCode.NONE;
    if (!allowedGroup(ctx, Op.READ, req.groupId)) {
      errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      results = [];
    } else if (req.groupId === "") {
      errorCode = ErrorCode.INVALID_GROUP_ID;
      results = [];
    } else {
      try {
        results = await ctx.broker.groups.leave(req.groupId, leaving);
      } catch (e) {
        errorCode = groupErrorCode(e, ctx, req.groupId);
        results = [];
      }
    }
    // v0-2 carry the one member's outcome as the top-level error.
    if (!batch && errorCode === ErrorCode.NONE) errorCode = results[0];
    return {
      throttleTimeMs: 0,
      errorCode,
      members: batch && results.length > 0
        ? leaving.map((m, i) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          errorCode: results[i],
        }))
        : [],
    };
  },
});
