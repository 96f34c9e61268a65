/** What ShareFetch and ShareAcknowledge share: checks, sessions and acknowledgements (KIP-932). */

import { ErrorCode } from "../protocol/errors.ts";
import { type AckBatch, AckType } from "../broker/share_partition_state.ts";
import type { ShareKey } from "../broker/share_service.ts";
import { shareServiceFor } from "../broker/share_service.ts";
import type { TopicLookup } from "../broker/partition_log.ts";
import { partitionKey } from "../broker/waiter.ts";
import { allowedGroup, guardLookup, Op } from "./_authorize.ts";
import type { BrokerContext, RequestContext } from "./types.ts";

/** A partition of a request, with its topic looked up and its acknowledgements. */
export interface SharePartitionAsk {
  topicId: string;
  partition: number;
  lookup: TopicLookup;
  acks: AckBatch[];
}

/** The top-level refusal of a request with no valid group or member id, or null. */
export function shareRequestProblem(
  ctx: RequestContext,
  groupId: string | null,
  memberId: string | null,
): { errorCode: number; message: string } | null {
  if (groupId === null || groupId === "") {
    return { errorCode: ErrorCode.INVALID_REQUEST, message: "The group id must be set." };
  }
  if (memberId === null || memberId === "") {
    return { errorCode: ErrorCode.INVALID_REQUEST, message: "The member id must be set." };
  }
  if (!allowedGroup(ctx, Op.READ, groupId)) {
    return {
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      message: "Group authorization failed.",
    };
  }
  return null;
}

/** Looks up the topics of a request (by id), checking READ on each. */
export async function lookupShareTopics(
  ctx: RequestContext,
  topics: {
    topicId: string;
    partitions: { partitionIndex: number; acknowledgementBatches: AckBatch[] }[];
  }[],
): Promise<SharePartitionAsk[]> {
  const out: SharePartitionAsk[] = [];
  for (const t of topics) {
    const lookup = guardLookup(
      ctx,
      Op.READ,
      await ctx.broker.partitions.topicById(t.topicId),
      null,
    );
    for (const p of t.partitions) {
      out.push({
        topicId: t.topicId,
        partition: p.partitionIndex,
        lookup,
        acks: p.acknowledgementBatches,
      });
    }
  }
  return out;
}

/** The error of one partition: its topic's, or UNKNOWN_TOPIC_OR_PARTITION past its count. */
export function partitionProblem(
  ctx: RequestContext,
  ask: { lookup: TopicLookup; partition: number },
): { errorCode: number; message: string | null } | null {
  const at = ctx.broker.partitions.locate(ask.lookup, ask.partition);
  return at.ref ? null : { errorCode: at.errorCode, message: at.message };
}

/** Applies each partition's acknowledgements; the error code and message per partition. */
export async function applyAcks(
  ctx: RequestContext,
  groupId: string,
  memberId: string,
  asks: SharePartitionAsk[],
): Promise<Map<string, { errorCode: number; message: string | null }>> {
  const service = shareServiceFor(ctx.broker.meta);
  const out = new Map<string, { errorCode: number; message: string | null }>();
  for (const a of asks) {
    if (a.acks.length === 0) continue;
    const key = `${a.topicId}:${a.partition}`;
    const problem = partitionProblem(ctx, a);
    if (problem) {
      out.set(key, problem);
      continue;
    }
    try {
      const why = await service.acknowledge(groupId, memberId, a, a.acks);
      out.set(key, {
        errorCode: why === null ? ErrorCode.NONE : ErrorCode.INVALID_RECORD_STATE,
        message: why,
      });
      if (why === null && a.acks.some((b) => b.acknowledgeTypes.includes(AckType.RELEASE))) {
        wakeShareFetches(ctx, [a]);
      }
    } catch (e) {
      out.set(key, {
        errorCode: ctx.broker.partitions.failure(e),
        message: e instanceof Error ? e.message : String(e),
      });
    }
  }
  return out;
}

/** The share-partitions a ShareFetch or ShareAcknowledge names. */
export function requestKeys(
  topics: { topicId: string; partitions: { partitionIndex: number }[] }[],
): ShareKey[] {
  return topics.flatMap((t) =>
    t.partitions.map((p) => ({ topicId: t.topicId, partition: p.partitionIndex }))
  );
}

/** The top level of a ShareFetch or ShareAcknowledge response: the two have the same shape (KIP-932). */
export function shareAnswer<T>(
  errorCode: number,
  errorMessage: string | null,
  responses: T[],
  acquisitionLockTimeoutMs = 0,
) {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    acquisitionLockTimeoutMs,
    responses,
    nodeEndpoints: [],
  };
}

/**
 * Wakes this broker's ShareFetch long polls on share-partitions whose records
 * became available again (released, or their holder's session closed), so a
 * waiting member is handed them at once rather than at its next poll round.
 */
export function wakeShareFetches(
  ctx: { broker: BrokerContext },
  keys: { topicId: string; partition: number }[],
): void {
  for (const k of keys) ctx.broker.waiter.wake(partitionKey(k.topicId, k.partition));
}

/**
 * To be called once a client connection closed (its ConnectionInfo): the
 * share sessions it opened end and their members' records are released at
 * once, as Kafka's share session cache does on a disconnect (KIP-932).
 */
export async function shareConnectionClosed(
  broker: BrokerContext,
  connection: object,
): Promise<void> {
  const keys = await shareServiceFor(broker.meta).connectionClosed(connection);
  wakeShareFetches({ broker }, keys);
}
