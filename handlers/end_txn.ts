/**
 * EndTxn (key 26), versions 0-5: commits or aborts the producer's
 * transaction. The decision is written first (PrepareCommit / PrepareAbort),
 * then markers go into every partition of the transaction in one atomic
 * commit, committed offsets are stored, and the transaction is complete
 * before the answer. A retry of an ending already done is answered NONE. From
 * v2 a fenced producer is told PRODUCER_FENCED (KIP-588). v5 answers the
 * producer id and epoch, and v5 is transactions v2 (KIP-890 part 2): every
 * ending bumps the epoch (the markers carry the new one) and the answer says
 * which; a retry of the same EndTxn with the epoch before gets the same
 * answer. v0-4 are transactions v1: the epoch stays.
 */

import { END_TXN_API } from "../protocol/generated/mod.ts";
import { allowedTxnId, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";
import { fencedAs, txnErrorCode } from "./_txn.ts";
import { ErrorCode } from "../protocol/errors.ts";

export const endTxn = defineHandler({
  api: END_TXN_API,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    if (!allowedTxnId(ctx, Op.WRITE, req.transactionalId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    let out: { errorCode: number; producerId: number; producerEpoch: number };
    try {
      out = await ctx.broker.transactions.endTxn(
        req.transactionalId,
        req.producerId,
        req.producerEpoch,
        req.committed,
        ctx.apiVersion >= 5,
      );
    } catch (e) {
      out = {
        errorCode: txnErrorCode(e, ctx, req.transactionalId),
        producerId: -1,
        producerEpoch: -1,
      };
    }
    const ok = out.errorCode === ErrorCode.NONE;
    return {
      throttleTimeMs: 0,
      errorCode: fencedAs(out.errorCode, ctx.apiVersion, 2),
      producerId: ok ? out.producerId : -1,
      producerEpoch: ok ? out.producerEpoch : -1,
    };
  },
});
