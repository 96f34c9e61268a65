/**
 * TxnOffsetCommit (key 28), versions 0-6: a group's offsets committed inside
 * the producer's transaction. They are kept in the transaction's record and
 * stored when it commits (dropped when it aborts), so consumers see them only
 * then. From v3 (KIP-447) the member's generation is checked against the
 * group as OffsetCommit checks it (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID); a producer that names no member is not checked. The
 * group must have been added with AddOffsetsToTxn (INVALID_TXN_STATE
 * otherwise) before v5; from v5 (transactions v2, KIP-890 part 2) the commit
 * adds the group itself, as AddOffsetsToTxn would. v6 names topics by id (KIP-516): an id no topic has is
 * UNKNOWN_TOPIC_ID.
 */

import { TXN_OFFSET_COMMIT_API } from "../protocol/generated/mod.ts";
import { allowedGroup, allowedTxnId, Op, refusePartitions } from "./_authorize.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";
import { checkCommitPartitions } from "./_offsets.ts";
import { fencedAs, txnErrorCode } from "./_txn.ts";

export const txnOffsetCommit = defineHandler({
  api: TXN_OFFSET_COMMIT_API,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx) {
    const refused = !allowedTxnId(ctx, Op.WRITE, req.transactionalId)
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : !allowedGroup(ctx, Op.READ, req.groupId)
      ? ErrorCode.GROUP_AUTHORIZATION_FAILED
      : null;
    if (refused !== null) {
      return { throttleTimeMs: 0, topics: refusePartitions(req.topics, refused) };
    }
    const { answers: topics, accepted, offsets } = await checkCommitPartitions(
      ctx,
      req.groupId,
      req.topics,
      // v6 names the topic by id (KIP-516).
      { byId: ctx.apiVersion >= 6, checkRange: true, leaderEpochs: true },
    );
    if (accepted.length > 0) {
      let code: number;
      try {
        code = await ctx.broker.transactions.commitOffsets(
          req.transactionalId,
          req.producerId,
          req.producerEpoch,
          req.groupId,
          {
            generationId: req.generationIdOrMemberEpoch,
            memberId: req.memberId,
            groupInstanceId: req.groupInstanceId,
          },
          offsets,
          // v5+ under transactions v2 (KIP-890 part 2): the commit adds the group itself.
          ctx.apiVersion >= 5,
        );
      } catch (e) {
        code = txnErrorCode(e, ctx, req.transactionalId);
      }
      // Before KIP-588's versions, a fenced producer is told INVALID_PRODUCER_EPOCH.
      code = fencedAs(code, ctx.apiVersion, 3);
      for (const p of accepted) p.errorCode = code;
    }
    return { throttleTimeMs: 0, topics };
  },
});
