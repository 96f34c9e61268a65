/**
 * OffsetDelete (key 47), version 0 (KIP-496): removes a group's committed
 * offsets for some partitions. Refused per partition with
 * GROUP_SUBSCRIBED_TO_TOPIC while the group's members subscribe to the topic,
 * and for the whole request with NON_EMPTY_GROUP when a non-empty group does
 * not use the consumer protocol (its subscriptions cannot be read).
 */

import {
  OFFSET_DELETE_API,
  type OffsetDeleteResponsePartition,
  type OffsetDeleteResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, allowedTopic, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const offsetDelete = defineHandler({
  api: OFFSET_DELETE_API,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const fail = (errorCode: number) => ({ errorCode, throttleTimeMs: 0, topics: [] });
    if (!allowedGroup(ctx, Op.DELETE, req.groupId)) {
      return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    }
    if (req.groupId === "") return fail(ErrorCode.INVALID_GROUP_ID);
    const topics: OffsetDeleteResponseTopic[] = [];
    const asked: { topic: string; partition: number }[] = [];
    const slots: OffsetDeleteResponsePartition[] = [];
    for (const t of req.topics) {
      // Each topic needs READ (KIP-11).
      const readable = allowedTopic(ctx, Op.READ, t.name);
      const info = readable ? await ctx.broker.topics.byTopicName(t.name) : null;
      const partitions = t.partitions.map((p) => {
        const out: OffsetDeleteResponsePartition = {
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.NONE,
        };
        if (!readable) out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        else if (!info || p.partitionIndex < 0 || p.partitionIndex >= info.partitions) {
          out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else {
          asked.push({ topic: t.name, partition: p.partitionIndex });
          slots.push(out);
        }
        return out;
      });
      topics.push({ name: t.name, partitions });
    }
    try {
      const r = await ctx.broker.groups.deleteOffsets(req.groupId, asked);
      if (r.errorCode !== ErrorCode.NONE) return fail(r.errorCode);
      r.partitions.forEach((code, i) => (slots[i].errorCode = code));
    } catch (e) {
      return fail(groupErrorCode(e, ctx, req.groupId));
    }
    return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics };
  },
});
