/**
 * InitProducerId (key 22), versions 0-5. Hands out producer ids and epochs
 * from the meta store, so ids are unique across every broker sharing it. An
 * idempotent producer that already has an id may ask for its epoch to be
 * bumped (KIP-360); a transactional id always gets its epoch bumped, which
 * fences older producers with the same id.
 */

import { INIT_PRODUCER_ID_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";

export const initProducerId = defineHandler({
  api: INIT_PRODUCER_ID_API,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    try {
      const r = await ctx.broker.meta.initProducerId({
        transactionalId: req.transactionalId,
        transactionTimeoutMs: req.transactionTimeoutMs,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
      });
      return { throttleTimeMs: 0, ...r };
    } catch {
      ctx.broker.metrics.storeError("meta", "initProducerId");
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
        producerId: -1,
        producerEpoch: -1,
      };
    }
  },
});
