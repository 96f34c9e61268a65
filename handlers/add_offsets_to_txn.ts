/**
 * AddOffsetsToTxn (key 25), versions 0-4: a group's offsets will be committed
 * in the producer's transaction (TxnOffsetCommit follows). Every broker is
 * the group's coordinator as well, so nothing else is to be found. From v2 a
 * fenced producer is told PRODUCER_FENCED (KIP-588).
 */

import { ADD_OFFSETS_TO_TXN_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { allowedGroup, allowedTxnId, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";
import { fencedAs, txnErrorCode } from "./_txn.ts";

export const addOffsetsToTxn = defineHandler({
  api: ADD_OFFSETS_TO_TXN_API,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    if (!allowedTxnId(ctx, Op.WRITE, req.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    }
    if (!allowedGroup(ctx, Op.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    }
    if (req.groupId === "") return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID };
    let code: number;
    try {
      code = await ctx.broker.transactions.addOffsets(
        req.transactionalId,
        req.producerId,
        req.producerEpoch,
        req.groupId,
      );
    } catch (e) {
      code = txnErrorCode(e, ctx, req.transactionalId);
    }
    return { throttleTimeMs: 0, errorCode: fencedAs(code, ctx.apiVersion, 2) };
  },
});
