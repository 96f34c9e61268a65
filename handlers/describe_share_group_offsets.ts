/**
 * DescribeShareGroupOffsets (key 90), versions 0-1: each share-partition's
 * start offset (KIP-932: every offset below it is acknowledged or archived)
 * and, from v1, its lag: the records below the high watermark not yet
 * acknowledged or archived. Partitions the group never fetched answer -1.
 */

import {
  DESCRIBE_SHARE_GROUP_OFFSETS_API,
  type DescribeShareGroupOffsetsResponseGroup,
  type DescribeShareGroupOffsetsResponsePartition,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { parseSharePartition } from "../broker/share_partition_state.ts";
import type { TopicInfo } from "../stores/types.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, allowedTopic, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

async function describeGroup(
  ctx: RequestContext,
  groupId: string,
  asked: { topicName: string; partitions: number[] }[] | null,
): Promise<DescribeShareGroupOffsetsResponseGroup> {
  const fail = (errorCode: number, errorMessage: string | null) => ({
    groupId,
    topics: [],
    errorCode,
    errorMessage,
  });
  if (!allowedGroup(ctx, Op.DESCRIBE, groupId)) {
    return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.");
  }
  try {
    const g = await ctx.broker.groups.current(groupId);
    if (g !== null && g.type !== "share") {
      return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a share group.`);
    }
    const states = new Map(
      (await ctx.broker.meta.listShareStates(groupId)).map((
        x,
      ) => [`${x.topicId}:${x.partition}`, x.share.state]),
    );
    const wanted: { topic: TopicInfo | null; name: string; partitions: number[] }[] = [];
    if (asked === null) {
      const byId = new Map<string, number[]>();
      for (const k of states.keys()) {
        const [id, p] = [k.slice(0, k.lastIndexOf(":")), Number(k.slice(k.lastIndexOf(":") + 1))];
        byId.set(id, [...byId.get(id) ?? [], p]);
      }
      for (const [id, partitions] of byId) {
        const t = await ctx.broker.topics.byTopicId(id);
        if (t && allowedTopic(ctx, Op.DESCRIBE, t.name)) {
          wanted.push({ topic: t, name: t.name, partitions: partitions.sort((a, b) => a - b) });
        }
      }
    } else {
      for (const a of asked) {
        wanted.push({
          topic: await ctx.broker.topics.byTopicName(a.topicName),
          name: a.topicName,
          partitions: a.partitions,
        });
      }
    }
    const topics = [];
    for (const w of wanted) {
      const partitions: DescribeShareGroupOffsetsResponsePartition[] = [];
      for (const p of w.partitions) {
        const out: DescribeShareGroupOffsetsResponsePartition = {
          partitionIndex: p,
          startOffset: -1,
          leaderEpoch: -1,
          lag: -1,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
        };
        if (!allowedTopic(ctx, Op.DESCRIBE, w.name)) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        } else if (w.topic === null || p < 0 || p >= w.topic.partitions) {
          out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else {
          const text = states.get(`${w.topic.id}:${p}`);
          const s = text ? parseSharePartition(text) : null;
          if (s) {
            out.startOffset = s.start;
            out.leaderEpoch = 0;
            const st = await ctx.broker.meta.partitionState(w.topic.id, p);
            if (st) {
              let done = 0;
              for (const r of s.ranges) {
                if (r.state === "acknowledged" || r.state === "archived") {
                  done += r.last - r.first + 1;
                }
              }
              out.lag = Math.max(0, st.highWatermark - s.start - done);
            }
          }
        }
        partitions.push(out);
      }
      topics.push({ topicName: w.name, topicId: w.topic?.id ?? ZERO_UUID, partitions });
    }
    return { groupId, topics, errorCode: ErrorCode.NONE, errorMessage: null };
  } catch (e) {
    return fail(groupErrorCode(e, ctx, groupId), e instanceof Error ? e.message : String(e));
  }
}

export const describeShareGroupOffsets = defineHandler({
  api: DESCRIBE_SHARE_GROUP_OFFSETS_API,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const groups = [];
    for (const g of req.groups) groups.push(await describeGroup(ctx, g.groupId, g.topics));
    return { throttleTimeMs: 0, groups };
  },
});
