/**
 * OffsetFetch (key 9), versions 1-10: a group's committed offsets, with the
 * metadata and leader epoch they were committed with. A partition never
 * committed answers offset -1, which makes a consumer apply its
 * auto.offset.reset. v2+ may ask for every partition the group committed
 * (null topics) and carry a top-level error; v8+ ask about several groups at
 * once (KIP-709); v9 members of KIP-848 groups name themselves and their
 * epoch, which must be current (STALE_MEMBER_EPOCH otherwise). v10 names
 * topics by id (KIP-848); offsets are stored by name, so ids are translated
 * here: an id no topic has answers its partitions with UNKNOWN_TOPIC_ID, and
 * asked for every topic, committed topics that no longer exist are left out,
 * as Kafka 4.4 does.
 */

import { OFFSET_FETCH_API, type OffsetFetchResponseGroupTopic } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, allowedTopic, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

type AskedTopic = { name: string; topicId: string; partitionIndexes: number[] };
type Asked = AskedTopic[] | null;

/** An asked topic answered with no offsets and one error code. */
function unanswered(t: AskedTopic, errorCode: number): OffsetFetchResponseGroupTopic {
  return {
    name: t.name,
    topicId: t.topicId,
    partitions: t.partitionIndexes.map((p) => ({
      partitionIndex: p,
      committedOffset: -1,
      committedLeaderEpoch: -1,
      metadata: "",
      errorCode,
    })),
  };
}

/** v10 (KIP-848): the name of each asked topic id, null for an id no topic has. */
async function namesOf(asked: Asked, ctx: RequestContext) {
  if (asked === null) return null;
  const named: (AskedTopic & { known: boolean })[] = [];
  for (const t of asked) {
    const info = await ctx.broker.topics.byTopicId(t.topicId);
    named.push({ ...t, name: info?.name ?? "", known: info !== null });
  }
  return named;
}

/** One group's answer: its topics, or a group-level error. */
async function fetchGroup(
  groupId: string,
  asked: Asked,
  ctx: RequestContext,
  member: { memberId: string | null; memberEpoch: number } = { memberId: null, memberEpoch: -1 },
): Promise<{ errorCode: number; topics: OffsetFetchResponseGroupTopic[] }> {
  const byId = ctx.apiVersion >= 10;
  const none = (errorCode: number) => ({
    errorCode,
    topics: (asked ?? []).map((t) => unanswered(t, errorCode)),
  });
  if (!allowedGroup(ctx, Op.DESCRIBE, groupId)) return none(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  if (groupId === "") return none(ErrorCode.INVALID_GROUP_ID);
  try {
    // v9: a KIP-848 member reads with its current epoch.
    const invalid = await ctx.broker.groups.validateFetch(
      groupId,
      member.memberId,
      member.memberEpoch,
    );
    if (invalid !== ErrorCode.NONE) return none(invalid);
    const named = byId ? await namesOf(asked, ctx) : asked?.map((t) => ({ ...t, known: true }));
    const wanted = named
      ?.filter((t) => t.known)
      .flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition }))) ??
      null;
    const committed = await ctx.broker.groups.fetchOffsets(groupId, wanted);
    const byKey = new Map(committed.map((o) => [`${o.topic}\u0000${o.partition}`, o]));
    const topics: OffsetFetchResponseGroupTopic[] = [];
    if (!named) {
      const byTopic = new Map<string, OffsetFetchResponseGroupTopic>();
      // v10: topics that no longer exist have no id to answer with.
      const gone = new Set<string>();
      for (const o of committed) {
        // Topics the caller may not DESCRIBE are left out (KIP-11).
        if (gone.has(o.topic) || !allowedTopic(ctx, Op.DESCRIBE, o.topic)) continue;
        let t = byTopic.get(o.topic);
        if (!t) {
          const topicId = byId
            ? (await ctx.broker.topics.byTopicName(o.topic))?.id ?? null
            : ZERO_UUID;
          if (topicId === null) {
            gone.add(o.topic);
            continue;
          }
          byTopic.set(o.topic, t = { name: o.topic, topicId, partitions: [] });
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
      for (const t of named) {
        if (!t.known) {
          topics.push(unanswered(t, ErrorCode.UNKNOWN_TOPIC_ID));
          continue;
        }
        if (!allowedTopic(ctx, Op.DESCRIBE, t.name)) {
          topics.push(unanswered(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        topics.push({
          name: t.name,
          topicId: t.topicId,
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
  maxVersion: 10,
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
    const topics = (ctx.apiVersion >= 2 ? req.topics : req.topics ?? [])
      ?.map((t) => ({ ...t, topicId: ZERO_UUID })) ?? null;
    const r = await fetchGroup(req.groupId, topics, ctx);
    return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode, groups: [] };
  },
});
