/**
 * InitProducerId (key 22), versions 0-5. Without a transactional id it hands
 * out producer ids and epochs from the meta store (unique across every broker
 * sharing it); an idempotent producer that already has an id may ask for its
 * epoch to be bumped (KIP-360). With a transactional id the transaction
 * coordinator answers (broker/txn_coordinator.ts): a producer id the first
 * time, the epoch bumped every time (fencing older producers), a transaction
 * the previous producer left open aborted first. From v4, a fenced producer is
 * told PRODUCER_FENCED (KIP-588). v6 (two-phase commit, KIP-939) is unstable in
 * Kafka 4.4, which does not advertise it, and neither do we.
 */

import { INIT_PRODUCER_ID_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { allowedAny, allowedCluster, allowedTxnId, Op, Res } from "./_authorize.ts";
import { defineHandler } from "./types.ts";
import { fencedAs, txnErrorCode } from "./_txn.ts";

const failed = (errorCode: number) => ({
  throttleTimeMs: 0,
  errorCode,
  producerId: -1,
  producerEpoch: -1,
  ongoingTxnProducerId: -1,
  ongoingTxnProducerEpoch: -1,
});

export const initProducerId = defineHandler({
  api: INIT_PRODUCER_ID_API,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const tid = req.transactionalId;
    if (tid !== null) {
      if (tid === "") return failed(ErrorCode.INVALID_REQUEST);
      if (!allowedTxnId(ctx, Op.WRITE, tid)) {
        return failed(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      }
      try {
        const r = await ctx.broker.transactions.initProducerId({
          transactionalId: tid,
          timeoutMs: req.transactionTimeoutMs,
          producerId: req.producerId,
          producerEpoch: req.producerEpoch,
        });
        return {
          ...failed(fencedAs(r.errorCode, ctx.apiVersion, 4)),
          producerId: r.producerId,
          producerEpoch: r.producerEpoch,
        };
      } catch (e) {
        return failed(txnErrorCode(e, ctx, tid));
      }
    }
    // An idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679).
    if (
      !allowedCluster(ctx, Op.IDEMPOTENT_WRITE) && !allowedAny(ctx, Op.WRITE, Res.TOPIC)
    ) return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    try {
      const r = await ctx.broker.meta.initProducerId({
        transactionalId: null,
        transactionTimeoutMs: req.transactionTimeoutMs,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
      });
      return { ...failed(r.errorCode), producerId: r.producerId, producerEpoch: r.producerEpoch };
    } catch {
      ctx.broker.metrics.storeError("meta", "initProducerId");
      return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  },
});
