/**
 * DescribeTransactions (key 65), version 0 (KIP-664): the coordinator's
 * record of each transactional id asked for: state, timeout, start time,
 * producer id and epoch, partitions. An id without a record is
 * TRANSACTIONAL_ID_NOT_FOUND.
 */

import {
  DESCRIBE_TRANSACTIONS_API,
  type DescribeTransactionsResponseState,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { allowedTxnId, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";
import { txnErrorCode } from "./_txn.ts";

export const describeTransactions = defineHandler({
  api: DESCRIBE_TRANSACTIONS_API,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    const transactionStates: DescribeTransactionsResponseState[] = [];
    for (const tid of req.transactionalIds) {
      const out: DescribeTransactionsResponseState = {
        errorCode: ErrorCode.NONE,
        transactionalId: tid,
        transactionState: "",
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1,
        producerId: -1,
        producerEpoch: -1,
        topics: [],
      };
      transactionStates.push(out);
      if (!allowedTxnId(ctx, Op.DESCRIBE, tid)) {
        out.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        continue;
      }
      try {
        const r = await ctx.broker.transactions.describe(tid);
        if (!r) {
          out.errorCode = ErrorCode.TRANSACTIONAL_ID_NOT_FOUND;
          continue;
        }
        out.transactionState = r.state;
        out.transactionTimeoutMs = r.timeoutMs;
        out.transactionStartTimeMs = r.startTimeMs;
        out.producerId = r.producerId;
        out.producerEpoch = r.producerEpoch;
        const byTopic = new Map<string, number[]>();
        for (const p of r.partitions) {
          byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
        }
        out.topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
      } catch (e) {
        out.errorCode = txnErrorCode(e, ctx, tid);
      }
    }
    return { throttleTimeMs: 0, transactionStates };
  },
});
