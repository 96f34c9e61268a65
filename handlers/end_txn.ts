/**
 * EndTxn (key 26), versions 0-5: commits or aborts the producer's
 * transaction. The decision is written first (PrepareCommit / PrepareAbort),
 * then markers go into every partition of the transaction in one atomic
 * commit, committed offsets are stored, and the transaction is complete
 * before the answer. A retry of an ending already done is answered NONE. From
 * v2 a fenced producer is told PRODUCER_FENCED (KIP-588). v5 answers the
 * producer id and epoch (KIP-890 part 2): under transactions v1, which is what
 * this broker runs (transaction.version 0), they stay the same.
 */

import { END_TXN_API } from "../protocol/generated/mod.ts";
import { defineHandler } from "./types.ts";
import { fencedAs, txnErrorCode } from "./_txn.ts";
import { ErrorCode } from "../protocol/errors.ts";

export const endTxn = defineHandler({
  api: END_TXN_API,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    let code: number;
    try {
      code = await ctx.broker.transactions.endTxn(
        req.transactionalId,
        req.producerId,
        req.producerEpoch,
        req.committed,
      );
    } catch (e) {
      code = txnErrorCode(e, ctx, req.transactionalId);
    }
    const ok = code === ErrorCode.NONE;
    return {
      throttleTimeMs: 0,
      errorCode: fencedAs(code, ctx.apiVersion, 2),
      producerId: ok ? req.producerId : -1,
      producerEpoch: ok ? req.producerEpoch : -1,
    };
  },
});
