/**
 * AddPartitionsToTxn (key 24), versions 0-5: adds partitions to a producer's
 * transaction before it produces to them. v0-3 carry one transaction; v4+
 * (KIP-890, sent by brokers) batch several and may only verify that the
 * partitions are already in (verifyOnly). A partition of a topic that does not
 * exist is UNKNOWN_TOPIC_OR_PARTITION, and then nothing is added: the other
 * partitions answer OPERATION_NOT_ATTEMPTED (as Kafka answers). From v2 a
 * fenced producer is told PRODUCER_FENCED (KIP-588).
 */

import {
  ADD_PARTITIONS_TO_TXN_API,
  type AddPartitionsToTxnResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { TxnPartition } from "../broker/txn_state.ts";
import { allowedCluster, allowedTxnId, guardLookup, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";
import { fencedAs, txnErrorCode } from "./_txn.ts";

interface TxnAsk {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  verifyOnly: boolean;
  topics: { name: string; partitions: number[] }[];
}

async function addOne(
  ask: TxnAsk,
  ctx: RequestContext,
): Promise<AddPartitionsToTxnResponseTopic[]> {
  const found: TxnPartition[] = [];
  const codes = new Map<string, number>();
  const key = (t: string, p: number) => `${t}\0${p}`;
  let unknown = false;
  if (!allowedTxnId(ctx, Op.WRITE, ask.transactionalId)) {
    return ask.topics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((p) => ({
        partitionIndex: p,
        partitionErrorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      })),
    }));
  }
  for (const t of ask.topics) {
    // WRITE on each topic (KIP-11); the other partitions are then not attempted.
    const lookup = guardLookup(
      ctx,
      Op.WRITE,
      await ctx.broker.partitions.topicByName(t.name),
      t.name,
    );
    for (const p of t.partitions) {
      const at = ctx.broker.partitions.locate(lookup, p);
      if (at.ref === null) {
        codes.set(key(t.name, p), at.errorCode);
        unknown = true;
      } else found.push({ topic: t.name, topicId: at.ref.topic.id, partition: p });
    }
  }
  const tc = ctx.broker.transactions;
  try {
    if (ask.verifyOnly) {
      const verified = await tc.verifyPartitions(
        ask.transactionalId,
        ask.producerId,
        ask.producerEpoch,
        found,
      );
      found.forEach((p, i) => codes.set(key(p.topic, p.partition), verified[i]));
    } else if (unknown) {
      for (const p of found) {
        codes.set(key(p.topic, p.partition), ErrorCode.OPERATION_NOT_ATTEMPTED);
      }
    } else {
      const code = await tc.addPartitions(
        ask.transactionalId,
        ask.producerId,
        ask.producerEpoch,
        found,
      );
      for (const p of found) codes.set(key(p.topic, p.partition), code);
    }
  } catch (e) {
    const code = txnErrorCode(e, ctx, ask.transactionalId);
    for (const p of found) codes.set(key(p.topic, p.partition), code);
  }
  return ask.topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((p) => ({
      partitionIndex: p,
      partitionErrorCode: fencedAs(codes.get(key(t.name, p))!, ctx.apiVersion, 2),
    })),
  }));
}

export const addPartitionsToTxn = defineHandler({
  api: ADD_PARTITIONS_TO_TXN_API,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    if (ctx.apiVersion <= 3) {
      const results = await addOne({
        transactionalId: req.v3AndBelowTransactionalId,
        producerId: req.v3AndBelowProducerId,
        producerEpoch: req.v3AndBelowProducerEpoch,
        verifyOnly: false,
        topics: req.v3AndBelowTopics,
      }, ctx);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        resultsByTransaction: [],
        resultsByTopicV3AndBelow: results,
      };
    }
    // v4+ batches come from brokers verifying partitions: CLUSTER_ACTION (KIP-890).
    if (!allowedCluster(ctx, Op.CLUSTER_ACTION)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        resultsByTransaction: [],
        resultsByTopicV3AndBelow: [],
      };
    }
    const resultsByTransaction = [];
    for (const t of req.transactions) {
      resultsByTransaction.push({
        transactionalId: t.transactionalId,
        topicResults: await addOne(t, ctx),
      });
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      resultsByTransaction,
      resultsByTopicV3AndBelow: [],
    };
  },
});
