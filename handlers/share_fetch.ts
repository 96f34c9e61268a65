/**
 * ShareFetch (key 78), versions 1-2: fetches records for a share group
 * member (KIP-932). In one request: the share session is opened (epoch 0),
 * continued or closed (-1, which releases what the member still holds);
 * piggy-backed acknowledgements are applied; then records are acquired for
 * the member in each share-partition of its session (one compare-and-set on
 * the share-partition's record in the meta store, so two brokers never both
 * win a record) and answered with the batches holding them and the acquired
 * ranges with their delivery counts. With nothing to acquire it waits up to
 * MaxWaitMs for new records. v2's Renew acknowledgements (KIP-1222) restart
 * locks; a renew-only request (IsRenewAck) acquires nothing. The acquire
 * mode of v2 (KIP-1206) is read and not used: MaxRecords is a bound here in
 * both modes.
 */

import {
  SHARE_FETCH_API,
  type ShareFetchResponse,
  type ShareFetchResponsePartition,
  type ShareFetchResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { recordsSize } from "../protocol/writer.ts";
import { partitionKey } from "../broker/waiter.ts";
import { shareServiceFor } from "../broker/share_service.ts";
import { AckType, type Acquired } from "../broker/share_partition_state.ts";
import { abortedAcquiredRanges, withoutRanges } from "../broker/share_isolation.ts";
import type { PartitionRef } from "../broker/partition_log.ts";
import {
  applyAcks,
  lookupShareTopics,
  requestKeys,
  shareAnswer,
  shareRequestProblem,
  wakeShareFetches,
} from "./_share.ts";
import { defineHandler, type RequestContext } from "./types.ts";

const EMPTY = new Uint8Array(0);
const NO_LEADER = { leaderId: -1, leaderEpoch: -1 };

/** A share-partition of the session, found in the log. */
interface Target {
  topicId: string;
  partition: number;
  ref: PartitionRef | null;
  errorCode: number;
  message: string | null;
}

/** Reads the batches holding the acquired offsets (and no batch past the last). */
async function readAcquired(
  ctx: RequestContext,
  ref: PartitionRef,
  acquired: Acquired[],
): Promise<Uint8Array[]> {
  const first = acquired[0].firstOffset;
  const last = acquired[acquired.length - 1].lastOffset;
  const entries = await ctx.broker.meta.readIndex(ref.topic.id, ref.partition, first, 64 << 20);
  let bytes = 0;
  for (const e of entries) {
    if (e.baseOffset > last) break;
    bytes += e.length;
  }
  const [read] = await ctx.broker.partitions.fetch([{
    at: { ref, errorCode: 0 },
    fetchOffset: first,
    partitionMaxBytes: Math.max(1, bytes),
  }], { maxBytes: Math.max(1, bytes), minBytes: 0, maxWaitMs: 0, readCommitted: false });
  if (read.errorCode !== 0) throw new Error(read.message ?? `Reading failed (${read.errorCode})`);
  return read.records;
}

/**
 * Under share.isolation.level=read_committed: archives the acquired records
 * of aborted transactions (broker/share_isolation.ts) and returns what is
 * left to hand over.
 */
async function archiveAborted(
  ctx: RequestContext,
  groupId: string,
  memberId: string,
  t: Target,
  records: Uint8Array[],
  acquired: Acquired[],
): Promise<Acquired[]> {
  const aborted = await ctx.broker.meta.abortedTransactions(
    t.topicId,
    t.partition,
    acquired[0].firstOffset,
    acquired[acquired.length - 1].lastOffset + 1,
  );
  const drop = abortedAcquiredRanges(records, aborted, acquired);
  if (drop.length === 0) return acquired;
  const why = await shareServiceFor(ctx.broker.meta).acknowledge(
    groupId,
    memberId,
    t,
    drop.map((r) => ({
      firstOffset: r.first,
      lastOffset: r.last,
      acknowledgeTypes: [AckType.REJECT],
    })),
  );
  if (why !== null) throw new Error(`Archiving aborted records failed: ${why}`);
  return withoutRanges(acquired, drop);
}

export const shareFetch = defineHandler({
  api: SHARE_FETCH_API,
  minVersion: 1,
  maxVersion: 2,
  async handle(req, ctx) {
    const service = shareServiceFor(ctx.broker.meta);
    const answer = (
      errorCode: number,
      errorMessage: string | null,
      responses: ShareFetchResponseTopic[],
      lockMs = 0,
    ) => shareAnswer(errorCode, errorMessage, responses, lockMs);
    const problem = shareRequestProblem(ctx, req.groupId, req.memberId);
    if (problem) return answer(problem.errorCode, problem.message, []);
    const groupId = req.groupId!;
    const memberId = req.memberId!;
    const forgotten = req.forgottenTopicsData.flatMap((t) =>
      t.partitions.map((partition) => ({ topicId: t.topicId, partition }))
    );
    if (
      req.shareSessionEpoch === 0 &&
      req.topics.some((t) => t.partitions.some((p) => p.acknowledgementBatches.length > 0))
    ) {
      return answer(
        ErrorCode.INVALID_REQUEST,
        "Acknowledgements cannot be sent when opening a share session (epoch 0).",
        [],
      );
    }
    // The session epoch is checked before anything is awaited, so a member's requests meet
    // their session in the order they arrived.
    const session = service.session(
      groupId,
      memberId,
      req.shareSessionEpoch,
      requestKeys(req.topics),
      forgotten,
      ctx.connection,
    );
    if (!session.ok) return answer(session.errorCode, session.message, []);
    const asks = await lookupShareTopics(ctx, req.topics);
    const settings = await service.settings(groupId);
    const byKey = new Map<string, ShareFetchResponsePartition & { topicId: string }>();
    const entry = (topicId: string, partition: number) => {
      const k = `${topicId}:${partition}`;
      let e = byKey.get(k);
      if (!e) {
        e = {
          topicId,
          partitionIndex: partition,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          acknowledgeErrorCode: ErrorCode.NONE,
          acknowledgeErrorMessage: null,
          currentLeader: NO_LEADER,
          records: EMPTY,
          acquiredRecords: [],
        };
        byKey.set(k, e);
      }
      return e;
    };
    for (const [k, r] of await applyAcks(ctx, groupId, memberId, asks)) {
      const [topicId, p] = [
        k.slice(0, k.lastIndexOf(":")),
        Number(k.slice(k.lastIndexOf(":") + 1)),
      ];
      const e = entry(topicId, p);
      e.acknowledgeErrorCode = r.errorCode;
      e.acknowledgeErrorMessage = r.message;
    }
    if (session.closing) {
      // The member's share session ends: what it still holds goes back for redelivery.
      try {
        await service.release(groupId, memberId, session.partitions);
        wakeShareFetches(ctx, session.partitions);
      } catch { /* the locks expire on their own */ }
    } else if (!(ctx.apiVersion >= 2 && req.isRenewAck)) {
      const targets: Target[] = [];
      for (const k of session.partitions) {
        const at = ctx.broker.partitions.locate(
          await ctx.broker.partitions.topicById(k.topicId),
          k.partition,
        );
        targets.push({
          ...k,
          ref: at.ref,
          errorCode: at.errorCode,
          message: at.ref ? null : at.message,
        });
      }
      for (const t of targets) {
        if (t.ref === null) {
          const e = entry(t.topicId, t.partition);
          e.errorCode = t.errorCode;
          e.errorMessage = t.message;
        }
      }
      const live = targets.filter((t) => t.ref !== null);
      const deadline = performance.now() + Math.max(0, req.maxWaitMs);
      const keys = live.map((t) => partitionKey(t.topicId, t.partition));
      let budget = req.maxRecords > 0 ? req.maxRecords : 500;
      for (let round = 0; round < 10_000; round++) {
        let got = 0;
        for (const t of live) {
          if (budget <= 0) break;
          const e = () => entry(t.topicId, t.partition);
          try {
            const st = await ctx.broker.partitions.state(t.ref!);
            if (!("highWatermark" in st) || st.errorCode !== 0) {
              e().errorCode = st.errorCode;
              e().errorMessage = st.message;
              continue;
            }
            let acquired = await service.acquire(groupId, memberId, t, budget, {
              ...st,
              acquireLimit: settings.readCommitted ? st.lastStableOffset : st.highWatermark,
            });
            if (acquired.length === 0) continue;
            const records = await readAcquired(ctx, t.ref!, acquired);
            if (settings.readCommitted) {
              acquired = await archiveAborted(ctx, groupId, memberId, t, records, acquired);
            }
            const n = acquired.reduce((s, a) => s + a.lastOffset - a.firstOffset + 1, 0);
            budget -= n;
            got += n;
            if (n === 0) continue;
            const x = e();
            x.records = records;
            x.acquiredRecords = acquired;
          } catch (err) {
            e().errorCode = ctx.broker.partitions.failure(err);
            e().errorMessage = err instanceof Error ? err.message : String(err);
          }
        }
        const left = deadline - performance.now();
        if (got > 0 || left <= 0 || ctx.broker.closing.aborted || live.length === 0) break;
        let waitMs = Math.min(left, ctx.broker.config.fetchPollMs);
        // Wake when the first lock ends: its records are then free for this member.
        const lockEnds = service.nextLockExpiry(groupId, live);
        if (lockEnds !== null) waitMs = Math.min(waitMs, Math.max(1, lockEnds - Date.now() + 1));
        await ctx.broker.waiter.wait(keys, waitMs);
      }
    }
    const topics = new Map<string, ShareFetchResponseTopic>();
    for (const { topicId, ...p } of byKey.values()) {
      let t = topics.get(topicId);
      if (!t) topics.set(topicId, t = { topicId, partitions: [] });
      t.partitions.push(p);
    }
    return answer(ErrorCode.NONE, null, [...topics.values()], settings.lockDurationMs);
  },
  responseBytes,
});

/** The record sets' bytes plus room for the fields around them (Handler.responseBytes). */
function responseBytes(res: ShareFetchResponse): number {
  let n = 256 + (res.errorMessage?.length ?? 0) * 3;
  for (const t of res.responses) {
    n += 32;
    for (const p of t.partitions) {
      n += 96 + 20 * p.acquiredRecords.length + recordsSize(p.records);
    }
  }
  return n;
}
