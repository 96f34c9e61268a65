/**
 * JoinGroup (key 11), versions 0-9: a classic-protocol member joins or
 * rejoins a group and waits at the barrier until every known member has
 * rejoined (or the rebalance timeout passes); then each gets the new
 * generation and the leader also gets every member's subscription to run the
 * assignor on. From v4 a member's first join is answered MEMBER_ID_REQUIRED
 * with the id to rejoin with (KIP-394); v5 adds static membership (KIP-345);
 * v9 lets a rejoining static leader skip assigning (KIP-814). v0 has no
 * rebalance timeout: the session timeout serves for both.
 *
 * The barrier watches the group's shared record (broker/group_coordinator.ts),
 * so members may join through different brokers.
 */

import { JOIN_GROUP_API, type JoinGroupResponse } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { fromBase64, type JoinResponse, toBase64 } from "../broker/group_state.ts";
import { clientHost, groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

function toWire(r: JoinResponse, version: number): JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    generationId: r.generationId,
    protocolType: r.protocolType,
    // Nullable only from v7.
    protocolName: r.protocolName ?? (version >= 7 ? null : ""),
    leader: r.leader,
    skipAssignment: r.skipAssignment,
    memberId: r.memberId,
    members: r.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: fromBase64(m.metadata),
    })),
  };
}

function failure(errorCode: number, memberId: string, version: number): JoinGroupResponse {
  return toWire({
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: "",
    skipAssignment: false,
    memberId,
    members: [],
  }, version);
}

export const joinGroup = defineHandler({
  api: JOIN_GROUP_API,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx) {
    if (!allowedGroup(ctx, Op.READ, req.groupId)) {
      return failure(ErrorCode.GROUP_AUTHORIZATION_FAILED, req.memberId, ctx.apiVersion);
    }
    const v = ctx.apiVersion;
    if (req.groupId === "") return failure(ErrorCode.INVALID_GROUP_ID, req.memberId, v);
    const clientId = ctx.header.clientId ?? "";
    try {
      const r = await ctx.broker.groups.join(req.groupId, {
        memberId: req.memberId,
        groupInstanceId: v >= 5 ? req.groupInstanceId : null,
        clientId,
        clientHost: clientHost(ctx),
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: v === 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
        protocolType: req.protocolType,
        protocols: req.protocols.map((p) => ({ name: p.name, metadata: toBase64(p.metadata) })),
        apiVersion: v,
        newMemberId: `${req.groupInstanceId ?? clientId}-${crypto.randomUUID()}`,
      });
      return toWire(r, v);
    } catch (e) {
      return failure(groupErrorCode(e, ctx, req.groupId), req.memberId, v);
    }
  },
});
