/**
 * FindCoordinator (key 10), versions 0-6. Every broker coordinates every
 * group and every transactional id: their state is one record each in the
 * shared meta store, so the answer is always this broker itself, for groups
 * (key type 0) and transactions (key type 1) alike. From v4 a request asks
 * about several keys at once (KIP-699). Share groups (key type 2, KIP-932)
 * answer INVALID_REQUEST.
 */

import {
  FIND_COORDINATOR_API,
  type FindCoordinatorResponseCoordinator,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { selfAddress } from "./cluster.ts";
import { allowedGroup, allowedTxnId, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

const GROUP = 0;
const TRANSACTION = 1;

function coordinatorFor(
  key: string,
  keyType: number,
  ctx: RequestContext,
): FindCoordinatorResponseCoordinator {
  const refuse = (errorCode: number, errorMessage: string) => ({
    key,
    nodeId: -1,
    host: "",
    port: -1,
    errorCode,
    errorMessage,
  });
  if (keyType !== GROUP && keyType !== TRANSACTION) {
    return refuse(
      ErrorCode.INVALID_REQUEST,
      `Key type ${keyType} is not supported; use 0 (group) or 1 (transaction)`,
    );
  }
  // DESCRIBE on the group or the transactional id (KIP-11).
  if (keyType === GROUP && !allowedGroup(ctx, Op.DESCRIBE, key)) {
    return refuse(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
  }
  if (keyType === TRANSACTION && !allowedTxnId(ctx, Op.DESCRIBE, key)) {
    return refuse(
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      "Transactional id authorization failed.",
    );
  }
  if (key === "") {
    return refuse(
      ErrorCode.INVALID_REQUEST,
      keyType === GROUP ? "Group id must not be empty" : "Transactional id must not be empty",
    );
  }
  const self = selfAddress(ctx);
  return {
    key,
    nodeId: self.nodeId,
    host: self.host,
    port: self.port,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
  };
}

export const findCoordinator = defineHandler({
  api: FIND_COORDINATOR_API,
  minVersion: 0,
  maxVersion: 6,
  handle(req, ctx) {
    // v0 has no key type: it always means a group.
    const keyType = ctx.apiVersion === 0 ? GROUP : req.keyType;
    const keys = ctx.apiVersion >= 4 ? req.coordinatorKeys : [req.key];
    const coordinators = keys.map((k) => coordinatorFor(k, keyType, ctx));
    const first = coordinators[0] ?? coordinatorFor("", keyType, ctx);
    return Promise.resolve({
      throttleTimeMs: 0,
      errorCode: first.errorCode,
      errorMessage: first.errorMessage,
      nodeId: first.nodeId,
      host: first.host,
      port: first.port,
      coordinators,
    });
  },
});
