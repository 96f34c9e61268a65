/**
 * AlterShareGroupOffsets (key 91) and DeleteShareGroupOffsets (key 92),
 * version 0: an operator's changes to an empty share group's share-partition
 * state (KIP-932; kafka-share-groups --reset-offsets and --delete-offsets).
 * A group with members answers NON_EMPTY_GROUP; a group of another type
 * GROUP_ID_NOT_FOUND. Altering a group that does not exist yet sets the
 * state its first members will start from.
 */

import {
  ALTER_SHARE_GROUP_OFFSETS_API,
  DELETE_SHARE_GROUP_OFFSETS_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { shareServiceFor } from "../broker/share_service.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, allowedTopic, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

/** Why the group's state may not be changed now, or null. */
async function refusal(
  ctx: RequestContext,
  groupId: string,
  mustExist: boolean,
): Promise<{ errorCode: number; errorMessage: string } | null> {
  if (!allowedGroup(ctx, Op.READ, groupId)) {
    return {
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      errorMessage: "Group authorization failed.",
    };
  }
  try {
    const g = await ctx.broker.groups.current(groupId);
    if (g === null && mustExist && (await ctx.broker.meta.listShareStates(groupId)).length === 0) {
      return {
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
        errorMessage: `Group ${groupId} not found.`,
      };
    }
    if (g !== null && g.type !== "share") {
      return {
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
        errorMessage: `Group ${groupId} is not a share group.`,
      };
    }
    if (g !== null && g.members.length > 0) {
      return {
        errorCode: ErrorCode.NON_EMPTY_GROUP,
        errorMessage: `Share group ${groupId} has members; stop them first.`,
      };
    }
  } catch (e) {
    return { errorCode: groupErrorCode(e, ctx, groupId), errorMessage: String(e) };
  }
  return null;
}

export const alterShareGroupOffsets = defineHandler({
  api: ALTER_SHARE_GROUP_OFFSETS_API,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const no = await refusal(ctx, req.groupId, false);
    if (no) return { throttleTimeMs: 0, ...no, responses: [] };
    const service = shareServiceFor(ctx.broker.meta);
    const responses = [];
    for (const t of req.topics) {
      const topic = allowedTopic(ctx, Op.READ, t.topicName)
        ? await ctx.broker.topics.byTopicName(t.topicName)
        : null;
      const partitions = [];
      for (const p of t.partitions) {
        let errorCode: number = ErrorCode.NONE;
        let errorMessage: string | null = null;
        if (!allowedTopic(ctx, Op.READ, t.topicName)) {
          errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        } else if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
          errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (p.startOffset < 0) {
          errorCode = ErrorCode.INVALID_REQUEST;
          errorMessage = `Start offset ${p.startOffset} must be 0 or more.`;
        } else {
          try {
            await service.replace(
              req.groupId,
              { topicId: topic.id, partition: p.partitionIndex },
              p.startOffset,
            );
          } catch (e) {
            errorCode = ctx.broker.partitions.failure(e);
            errorMessage = e instanceof Error ? e.message : String(e);
          }
        }
        partitions.push({ partitionIndex: p.partitionIndex, errorCode, errorMessage });
      }
      responses.push({ topicName: t.topicName, topicId: topic?.id ?? ZERO_UUID, partitions });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses };
  },
});

export const deleteShareGroupOffsets = defineHandler({
  api: DELETE_SHARE_GROUP_OFFSETS_API,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const no = await refusal(ctx, req.groupId, true);
    if (no) return { throttleTimeMs: 0, ...no, responses: [] };
    const service = shareServiceFor(ctx.broker.meta);
    const states = await ctx.broker.meta.listShareStates(req.groupId);
    const responses = [];
    for (const t of req.topics) {
      const topic = await ctx.broker.topics.byTopicName(t.topicName);
      let errorCode: number = ErrorCode.NONE;
      let errorMessage: string | null = null;
      if (!allowedTopic(ctx, Op.READ, t.topicName)) {
        errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      } else if (!topic) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else {
        try {
          for (const s of states.filter((x) => x.topicId === topic.id)) {
            await service.replace(req.groupId, s, null);
          }
        } catch (e) {
          errorCode = ctx.broker.partitions.failure(e);
          errorMessage = e instanceof Error ? e.message : String(e);
        }
      }
      responses.push({
        topicName: t.topicName,
        topicId: topic?.id ?? ZERO_UUID,
        errorCode,
        errorMessage,
      });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses };
  },
});
