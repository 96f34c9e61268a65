/**
 * OffsetFetch (key 9), versions 1-9: a group's committed offsets, with the
 * metadata and leader epoch they were committed with. A partition never
 * committed answers offset -1, which makes a consumer apply its
 * auto.offset.reset. v2+ may ask for every partition the group committed
 * (null topics) and carry a top-level error; v8+ ask about several groups at
 * once (KIP-709); v9 members of KIP-848 groups name themselves and their
 * epoch, which must be current (STALE_MEMBER_EPOCH otherwise).
 */

import { OFFSET_FETCH_API, type OffsetFetchResponseGroupTopic } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { groupErrorCode } from "./_groups.ts";
import { defineHandler, type RequestContext } from "./types.ts";

type Asked = { name: string; partitionIndexes: number[] }[] | null;

/** One group's answer: its topics, or a group-level error. */
async function fetchGroup(
  groupId: string,
  asked: Asked,
  ctx: RequestContext,
  member: { memberId: string | null; memberEpoch: number } = { memberId: null, memberEpoch: -1 },
): Promise<{ errorCode: number; topics: OffsetFetchResponseGroupTopic[] }> {
  const none = (errorCode: number) => ({
    errorCode,
    topics: (asked ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => ({
        partitionIndex: p,
        committedOffset: -1,
        committedLeaderEpoch: -1,
        metadata: "",
        errorCode,
      })),
    })),
  });
  if (groupId === "") return none(ErrorCode.INVALID_GROUP_ID);
  try {
    // v9: a KIP-848 member reads with its current epoch.
    const invalid = await ctx.broker.groups.validateFetch(
      groupId,
      member.memberId,
      member.memberEpoch,
    );
    if (invalid !== ErrorCode.NONE) return none(invalid);
    const wanted = asked?.flatMap((t) =>
      t.partitionIndexes.map((partition) => ({ topic: t.name, partition }))
    ) ?? null;
    const committed = await ctx.broker.groups.fetchOffsets(groupId, wanted);
    const byKey = new Map(committed.map((o) => [`${o.topic}\u0000${o.partition}`, o]));
    const topics: OffsetFetchResponseGroupTopic[] = [];
    if (asked === null) {
      const byTopic = new Map<string, OffsetFetchResponseGroupTopic>();
      for (const o of committed) {
        let t = byTopic.get(o.topic);
        if (!t) {
          byTopic.set(o.topic, t = { name: o.topic, partitions: [] });
          topics.push(t);
        }
        t.partitions.push({
          partitionIndex: o.partition,
          committedOffset: o.offset,
          committedLeaderEpoch: o.leaderEpoch,
          metadata: o.metadata ?? "",
          errorCode: ErrorCode.NONE,
        });
      }
    } else {
      for (const t of asked) {
        topics.push({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => {
            const o = byKey.get(`${t.name}\u0000${p}`);
            return {
              partitionIndex: p,
              committedOffset: o?.offset ?? -1,
              committedLeaderEpoch: o?.leaderEpoch ?? -1,
              metadata: o ? o.metadata ?? "" : "",
              errorCode: ErrorCode.NONE,
            };
          }),
        });
      }
    }
    return { errorCode: ErrorCode.NONE, topics };
  } catch (e) {
    return none(groupErrorCode(e, ctx, groupId));
  }
}

export const offsetFetch = defineHandler({
  api: OFFSET_FETCH_API,
  minVersion: 1,
  maxVersion: 9,
  async handle(req, ctx) {
    if (ctx.apiVersion >= 8) {
      const groups = [];
      for (const g of req.groups) {
        const r = await fetchGroup(g.groupId, g.topics, ctx, g);
        groups.push({ groupId: g.groupId, topics: r.topics, errorCode: r.errorCode });
      }
      return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE, groups };
    }
    // v1 has no null topics and no top-level error: errors go on each partition.
    const r = await fetchGroup(
      req.groupId,
      ctx.apiVersion >= 2 ? req.topics : req.topics ?? [],
      ctx,
    );
    return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode, groups: [] };
  },
});
