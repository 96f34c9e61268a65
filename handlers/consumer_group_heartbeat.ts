/**
 * ConsumerGroupHeartbeat (key 68), versions 0-1: the one request of the
 * KIP-848 consumer group protocol. Members join (epoch 0), heartbeat, change
 * their subscription and leave (epoch -1) with it; the broker computes the
 * assignment (server-side "uniform" or "range" assignor) and hands each
 * member its partitions as it reconciles, revoking before reassigning. In v0
 * the broker makes the member id; from v1 the client does (KIP-1082) and may
 * subscribe by regular expression.
 *
 * Like the classic protocol, the group's state is one record in the shared
 * meta store (broker/consumer_group_state.ts), so members may heartbeat
 * through any broker.
 */

import { CONSUMER_GROUP_HEARTBEAT_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { fromWire, type TopicMeta, toWire } from "../broker/consumer_group_state.ts";
import { clientHost, groupErrorCode } from "./_groups.ts";
import { allowedGroup, allowedTopic, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

/** Topic metadata for the named topics (through the topic cache), or for all of them. */
async function loadTopics(
  ctx: RequestContext,
  names: string[] | "all",
): Promise<Map<string, TopicMeta>> {
  const out = new Map<string, TopicMeta>();
  if (names === "all") {
    for (const t of await ctx.broker.meta.listTopics()) {
      out.set(t.name, { id: t.id, partitions: t.partitions });
    }
    return out;
  }
  for (const name of names) {
    const t = await ctx.broker.topics.byTopicName(name);
    if (t) out.set(name, { id: t.id, partitions: t.partitions });
  }
  return out;
}

export const consumerGroupHeartbeat = defineHandler({
  api: CONSUMER_GROUP_HEARTBEAT_API,
  minVersion: 0,
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
    // Every subscribed topic must be one the member may DESCRIBE (KIP-848).
    const hidden = req.subscribedTopicNames?.filter((t) => !allowedTopic(ctx, Op.DESCRIBE, t)) ??
      [];
    if (hidden.length > 0) {
      return fail(
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `Topic authorization failed for ${hidden.join(", ")}.`,
      );
    }
    if (req.groupId === "") {
      return fail(ErrorCode.INVALID_REQUEST, "GroupId can't be empty");
    }
    try {
      const r = await ctx.broker.groups.consumerHeartbeat(req.groupId, {
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        instanceId: req.instanceId,
        rackId: req.rackId,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        subscribedTopicNames: req.subscribedTopicNames,
        subscribedTopicRegex: ctx.apiVersion >= 1 ? req.subscribedTopicRegex : null,
        serverAssignor: req.serverAssignor,
        owned: req.topicPartitions === null ? null : fromWire(req.topicPartitions),
        clientId: ctx.header.clientId ?? "",
        clientHost: clientHost(ctx),
        apiVersion: ctx.apiVersion,
        newMemberId: crypto.randomUUID(),
      }, (names) => loadTopics(ctx, names));
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        memberId: r.memberId,
        memberEpoch: r.memberEpoch,
        heartbeatIntervalMs: r.heartbeatIntervalMs,
        assignment: r.assignment === null ? null : { topicPartitions: toWire(r.assignment) },
      };
    } catch (e) {
      const code = groupErrorCode(e, ctx, req.groupId);
      return fail(code, `Group ${JSON.stringify(req.groupId)} could not be updated; retry`);
    }
  },
});
