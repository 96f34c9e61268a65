/**
 * Heartbeat (key 12), versions 0-4: a classic-protocol member says it is
 * alive. Liveness goes to the meta store apart from the group record (so a
 * heartbeat never conflicts with a rebalance); the answer tells the member
 * whether to rejoin (REBALANCE_IN_PROGRESS), that its generation is stale
 * (ILLEGAL_GENERATION) or that it was removed (UNKNOWN_MEMBER_ID). v3 adds
 * the static instance id (KIP-345).
 */

import { HEARTBEAT_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const heartbeat = defineHandler({
  api: HEARTBEAT_API,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    if (!allowedGroup(ctx, Op.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    }
    if (req.groupId === "") return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID };
    let errorCode: number;
    try {
      errorCode = await ctx.broker.groups.heartbeat(req.groupId, {
        memberId: req.memberId,
        groupInstanceId: ctx.apiVersion >= 3 ? req.groupInstanceId : null,
        generationId: req.generationId,
      });
    } catch (e) {
      errorCode = groupErrorCode(e, ctx, req.groupId);
    }
    return { throttleTimeMs: 0, errorCode };
  },
});
