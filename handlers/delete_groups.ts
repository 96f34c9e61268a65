/**
 * DeleteGroups (key 42), versions 0-3: removes Empty groups with their
 * committed offsets (NON_EMPTY_GROUP while members remain,
 * GROUP_ID_NOT_FOUND for a group that does not exist). v3's error message is
 * null for these verdicts, as Kafka 4.4 answers, and the cause when the
 * deletion itself failed (a store that did not answer).
 */

import { DELETE_GROUPS_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const deleteGroups = defineHandler({
  api: DELETE_GROUPS_API,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx) {
    const results = [];
    for (const groupId of req.groupsNames) {
      let errorCode: number;
      let errorMessage: string | null = null;
      if (!allowedGroup(ctx, Op.DELETE, groupId)) errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      else if (groupId === "") errorCode = ErrorCode.INVALID_GROUP_ID;
      else {
        try {
          errorCode = await ctx.broker.groups.delete(groupId);
        } catch (e) {
          errorCode = groupErrorCode(e, ctx, groupId);
          errorMessage = e instanceof Error ? e.message : String(e);
        }
      }
      results.push({ groupId, errorCode, errorMessage });
    }
    return { throttleTimeMs: 0, results };
  },
});
