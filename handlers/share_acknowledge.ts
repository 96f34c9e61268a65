/**
 * ShareAcknowledge (key 79), versions 1-2: acknowledges records a share
 * group member was delivered (KIP-932) without fetching: Accept, Release,
 * Reject and, from v2, Renew (KIP-1222). It belongs to the member's share
 * session (epoch 0 cannot open one here); epoch -1 closes the session and
 * releases what the member still holds.
 */

import {
  SHARE_ACKNOWLEDGE_API,
  type ShareAcknowledgeResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { shareServiceFor } from "../broker/share_service.ts";
import {
  applyAcks,
  lookupShareTopics,
  requestKeys,
  shareAnswer,
  shareRequestProblem,
  wakeShareFetches,
} from "./_share.ts";
import { defineHandler } from "./types.ts";

export const shareAcknowledge = defineHandler({
  api: SHARE_ACKNOWLEDGE_API,
  minVersion: 1,
  maxVersion: 2,
  async handle(req, ctx) {
    const service = shareServiceFor(ctx.broker.meta);
    const answer = (
      errorCode: number,
      errorMessage: string | null,
      responses: ShareAcknowledgeResponseTopic[],
      lockMs = 0,
    ) => shareAnswer(errorCode, errorMessage, responses, lockMs);
    const problem = shareRequestProblem(ctx, req.groupId, req.memberId);
    if (problem) return answer(problem.errorCode, problem.message, []);
    const groupId = req.groupId!;
    const memberId = req.memberId!;
    if (req.shareSessionEpoch === 0) {
      return answer(
        ErrorCode.INVALID_SHARE_SESSION_EPOCH,
        "ShareAcknowledge cannot open a share session (epoch 0).",
        [],
      );
    }
    // The session epoch is checked before anything is awaited (requests in arrival order).
    const session = service.session(
      groupId,
      memberId,
      req.shareSessionEpoch,
      requestKeys(req.topics),
      [],
    );
    if (!session.ok) return answer(session.errorCode, session.message, []);
    const asks = await lookupShareTopics(ctx, req.topics);
    const acks = await applyAcks(ctx, groupId, memberId, asks);
    if (session.closing) {
      try {
        await service.release(groupId, memberId, session.partitions);
        wakeShareFetches(ctx, session.partitions);
      } catch { /* the locks expire on their own */ }
    }
    const topics = new Map<string, ShareAcknowledgeResponseTopic>();
    for (const a of asks) {
      let t = topics.get(a.topicId);
      if (!t) topics.set(a.topicId, t = { topicId: a.topicId, partitions: [] });
      const r = acks.get(`${a.topicId}:${a.partition}`);
      t.partitions.push({
        partitionIndex: a.partition,
        errorCode: r?.errorCode ?? ErrorCode.NONE,
        errorMessage: r?.message ?? null,
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
      });
    }
    const settings = await service.settings(groupId);
    return answer(ErrorCode.NONE, null, [...topics.values()], settings.lockDurationMs);
  },
});
