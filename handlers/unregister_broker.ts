/**
 * UnregisterBroker (key 64), version 0 (KIP-631): removes a broker's
 * registration, for a broker that is gone. A broker's registration here is
 * its lease in the meta store (the addressable cluster shape) or, behind a
 * load balancer, simply this broker's node id. As in Kafka, a registered id
 * succeeds and any other answers BROKER_ID_NOT_REGISTERED. Unregistering
 * another broker ends its lease at once (a live broker takes it again at its
 * next renewal, as a live Kafka broker registers again); this broker's own
 * registration is left alone, since it holds it by serving. A meta store that
 * fails answers the retriable code of broker/store_guard.ts.
 */

import { UNREGISTER_BROKER_API, type UnregisterBrokerResponse } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { storeErrorCode } from "../broker/store_guard.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const unregisterBroker = defineHandler({
  api: UNREGISTER_BROKER_API,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx): Promise<UnregisterBrokerResponse> {
    if (!allowedCluster(ctx, AclOperation.ALTER)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
      };
    }
    const { broker } = ctx;
    const answer = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
    });
    const self = broker.config.nodeId;
    // Kafka answers a success with an empty message.
    if (req.brokerId === self) return answer(ErrorCode.NONE, "");
    const notRegistered = (how: string) =>
      answer(
        ErrorCode.BROKER_ID_NOT_REGISTERED,
        `Broker ID ${req.brokerId} is not currently registered: ${how}`,
      );
    if (broker.registry === null) {
      return notRegistered(
        `behind a load balancer every broker answers as node ${self}, and no other is registered`,
      );
    }
    try {
      const live = await broker.meta.liveBrokers(Date.now());
      if (!live.some((b) => b.nodeId === req.brokerId)) {
        return notRegistered("no broker holds a live lease with that id in the meta store");
      }
      await broker.meta.unregisterBroker(req.brokerId);
    } catch (e) {
      return answer(
        storeErrorCode(e),
        `The meta store did not answer, so broker ${req.brokerId}'s lease was not read or ended; retry`,
      );
    }
    return answer(ErrorCode.NONE, "");
  },
});
