/**
 * ShareGroupHeartbeat (key 76), version 1: the membership request of share
 * groups (KIP-932). Members join (epoch 0), heartbeat, change their
 * subscription and leave (epoch -1); the broker assigns every subscribed
 * partition to at least one member (many members share a partition when
 * there are more members than partitions: broker/share_group_state.ts).
 * The group's state is the same compare-and-set record in the shared meta
 * store as other groups', so members may heartbeat through any broker. A
 * member that leaves has the records it held released for redelivery.
 */

import { SHARE_GROUP_HEARTBEAT_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { TopicMeta } from "../broker/consumer_group_state.ts";
import { shareServiceFor } from "../broker/share_service.ts";
import { clientHost, groupErrorCode } from "./_groups.ts";
import { allowedGroup, allowedTopic, Op } from "./_authorize.ts";
import { wakeShareFetches } from "./_share.ts";
import { defineHandler } from "./types.ts";

export const shareGroupHeartbeat = defineHandler({
  api: SHARE_GROUP_HEARTBEAT_API,
  minVersion: 1,
  maxVersion: 1,
  async handle(req, ctx) {
    const fail = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      memberId: req.memberId || null,
      memberEpoch: -1,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (!allowedGroup(ctx, Op.READ, req.groupId)) {
      return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
    }
    const hidden = req.subscribedTopicNames?.filter((t) => !allowedTopic(ctx, Op.DESCRIBE, t)) ??
      [];
    if (hidden.length > 0) {
      return fail(
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `Topic authorization failed for ${hidden.join(", ")}.`,
      );
    }
    if (req.groupId === "") return fail(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.");
    try {
      const { result: r, departed } = await ctx.broker.groups.shareHeartbeat(req.groupId, {
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        rackId: req.rackId,
        subscribedTopicNames: req.subscribedTopicNames,
        clientId: ctx.header.clientId ?? "",
        clientHost: clientHost(ctx),
      }, async (names) => {
        const out = new Map<string, TopicMeta>();
        for (const name of names) {
          const t = await ctx.broker.topics.byTopicName(name);
          if (t) out.set(name, { id: t.id, partitions: t.partitions });
        }
        return out;
      });
      // A member that left holds nothing any more (Kafka releases its acquired records).
      const released = await shareServiceFor(ctx.broker.meta).releaseDeparted(
        req.groupId,
        departed,
      );
      wakeShareFetches(ctx, released);
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        memberId: r.memberId,
        memberEpoch: r.memberEpoch,
        heartbeatIntervalMs: r.heartbeatIntervalMs,
        assignment: r.assignment === null ? null : {
          topicPartitions: Object.entries(r.assignment).map(([topicId, partitions]) => ({
            topicId,
            partitions,
          })),
        },
      };
    } catch (e) {
      const code = groupErrorCode(e, ctx, req.groupId);
      return fail(code, `Group ${JSON.stringify(req.groupId)} could not be updated; retry`);
    }
  },
});
