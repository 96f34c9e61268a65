/** Pieces the group handlers share. */

import { getLogger } from "@logtape/logtape";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { RequestContext } from "./types.ts";

const log = getLogger(["skb", "groups"]);

/**
 * The error code for a failed group operation: a KafkaError's own code, else
 * (the meta store failed or timed out) COORDINATOR_NOT_AVAILABLE, which every
 * client retries after finding the coordinator again. Nothing is half done:
 * the group record changes only by one compare-and-set.
 */
export function groupErrorCode(e: unknown, ctx: RequestContext, groupId: string): number {
  if (e instanceof KafkaError) return e.code;
  log.warn("{api} for group {groupId} failed: {error}", {
    api: ctx.header.apiKey,
    groupId,
    error: e,
  });
  return ErrorCode.COORDINATOR_NOT_AVAILABLE;
}

/** The client's address as Kafka shows it in DescribeGroups ("/127.0.0.1"). */
export function clientHost(ctx: RequestContext): string {
  const remote = ctx.connection.remote;
  const colon = remote.lastIndexOf(":");
  return "/" + (colon > 0 ? remote.slice(0, colon) : remote);
}
