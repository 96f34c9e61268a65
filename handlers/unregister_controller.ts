/**
 * UnregisterController (key 94), version 0: removes a controller's
 * registration. The one controller here is this broker, the quorum's active
 * leader, which Kafka refuses to unregister (INVALID_REQUEST); any other id
 * has never been registered (CONTROLLER_ID_NOT_REGISTERED), since no broker
 * here registers as a controller anywhere.
 */

import {
  UNREGISTER_CONTROLLER_API,
  type UnregisterControllerResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { NO_QUORUM } from "./_quorum.ts";
import { AclOperation, allowedCluster } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const unregisterController = defineHandler({
  api: UNREGISTER_CONTROLLER_API,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx): Promise<UnregisterControllerResponse> {
    if (!allowedCluster(ctx, AclOperation.ALTER)) {
      return Promise.resolve({
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: "Cluster authorization failed.",
      });
    }
    const self = ctx.broker.config.nodeId;
    const [errorCode, errorMessage] = req.controllerId === self
      ? [
        ErrorCode.INVALID_REQUEST,
        `Controller cannot unregister itself while it is active: controller ${self} is this broker, the only voter; ${NO_QUORUM}.`,
      ]
      : [
        ErrorCode.CONTROLLER_ID_NOT_REGISTERED,
        `Controller ID ${req.controllerId} is not currently registered: the only controller is this broker, ${self}.`,
      ];
    return Promise.resolve({ throttleTimeMs: 0, errorCode, errorMessage });
  },
});
