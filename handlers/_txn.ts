/** Pieces the transaction handlers share. */

import { getLogger } from "@logtape/logtape";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { RequestContext } from "./types.ts";

const log = getLogger(["skb", "txn"]);

/**
 * The error code for a failed coordinator operation: a KafkaError's own code,
 * else (the meta store failed or timed out) COORDINATOR_NOT_AVAILABLE, which
 * clients retry after finding the coordinator again. Nothing is half done: the
 * record changes only by compare-and-set, and an ending once decided is
 * finished by whichever broker finds it.
 */
export function txnErrorCode(e: unknown, ctx: RequestContext, transactionalId: string): number {
  if (e instanceof KafkaError) return e.code;
  log.warn("{api} for transactional id {tid} failed: {error}", {
    api: ctx.header.apiKey,
    tid: transactionalId,
    error: e,
  });
  return ErrorCode.COORDINATOR_NOT_AVAILABLE;
}

/**
 * PRODUCER_FENCED (KIP-588) as a version that knows it: older versions get
 * INVALID_PRODUCER_EPOCH, which their clients treat the same way.
 */
export function fencedAs(code: number, apiVersion: number, firstVersion: number): number {
  return code === ErrorCode.PRODUCER_FENCED && apiVersion < firstVersion
    ? ErrorCode.INVALID_PRODUCER_EPOCH
    : code;
}
