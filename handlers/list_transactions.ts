/**
 * ListTransactions (key 66), versions 0-2 (KIP-664): every transactional id
 * the coordinator has a record of, filtered by state and producer id (empty
 * filters pass everything); v1 keeps only transactions running longer than
 * a duration (KIP-994), v2 only ids matching a regular expression as a whole
 * (KIP-1152; INVALID_REGULAR_EXPRESSION when it does not compile). State
 * filters Kafka does not know come back as unknownStateFilters.
 */

import { LIST_TRANSACTIONS_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { allowedTxnId, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";
import { txnErrorCode } from "./_txn.ts";

export const listTransactions = defineHandler({
  api: LIST_TRANSACTIONS_API,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx) {
    const fail = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      unknownStateFilters: [],
      transactionStates: [],
    });
    let pattern: RegExp | null = null;
    const source = ctx.apiVersion >= 2 ? req.transactionalIdPattern : null;
    if (source) {
      try {
        pattern = new RegExp(`^(?:${source})$`, "u");
      } catch {
        return fail(ErrorCode.INVALID_REGULAR_EXPRESSION);
      }
    }
    try {
      const { views, unknownStates } = await ctx.broker.transactions.list({
        states: req.stateFilters,
        producerIds: req.producerIdFilters,
        durationMs: ctx.apiVersion >= 1 ? req.durationFilter : -1,
        pattern,
      });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        unknownStateFilters: unknownStates,
        // Only the transactional ids the caller may DESCRIBE (KIP-664).
        transactionStates: views.filter((v) => allowedTxnId(ctx, Op.DESCRIBE, v.transactionalId))
          .map((v) => ({
            transactionalId: v.transactionalId,
            producerId: v.record.producerId,
            transactionState: v.record.state,
          })),
      };
    } catch (e) {
      return fail(txnErrorCode(e, ctx, "*"));
    }
  },
});
