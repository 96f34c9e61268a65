/**
 * OffsetCommit (key 8), versions 2-10: stores a group's consumed positions.
 * A member's commit is checked against the group: its member id (and static
 * instance id, v7+, KIP-345) must be known and its generation current
 * (ILLEGAL_GENERATION otherwise), and not while the group completes a
 * rebalance (REBALANCE_IN_PROGRESS). A commit with generation -1 and no member
 * comes from an admin tool or a consumer that assigns partitions itself: it
 * creates the group if needed and is accepted while the group is Empty.
 * Metadata (up to offset.metadata.max.bytes, 4096) is kept and returned by
 * OffsetFetch; leader epochs (v6+) likewise. Retention times (v2-4) are
 * ignored: offsets live as long as their group. v10 names topics by id
 * (KIP-848): an id no topic has is UNKNOWN_TOPIC_ID, as Kafka 4.4 answers;
 * offsets are stored by topic name all the same.
 *
 * The check reads the group record and the offsets are then written apart
 * from it: a rebalance that lands between the two lets one last commit of
 * the old generation through, as a commit in flight on a Kafka broker would.
 */

import { OFFSET_COMMIT_API } from "../protocol/generated/mod.ts";
import { groupErrorCode } from "./_groups.ts";
import { allowedGroup, Op, refusePartitions } from "./_authorize.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";
import { checkCommitPartitions } from "./_offsets.ts";

export const offsetCommit = defineHandler({
  api: OFFSET_COMMIT_API,
  minVersion: 2,
  maxVersion: 10,
  async handle(req, ctx) {
    if (!allowedGroup(ctx, Op.READ, req.groupId)) {
      return {
        throttleTimeMs: 0,
        topics: refusePartitions(req.topics, ErrorCode.GROUP_AUTHORIZATION_FAILED),
      };
    }
    const { answers: topics, accepted, offsets } = await checkCommitPartitions(
      ctx,
      req.groupId,
      req.topics,
      // v10 names the topic by id (KIP-848); leader epochs from v6.
      { byId: ctx.apiVersion >= 10, checkRange: false, leaderEpochs: ctx.apiVersion >= 6 },
    );
    if (req.groupId !== "") {
      let code: number;
      try {
        code = await ctx.broker.groups.commitOffsets(req.groupId, {
          generationId: req.generationIdOrMemberEpoch,
          memberId: req.memberId,
          groupInstanceId: ctx.apiVersion >= 7 ? req.groupInstanceId : null,
          apiVersion: ctx.apiVersion,
        }, offsets);
      } catch (e) {
        code = groupErrorCode(e, ctx, req.groupId);
      }
      for (const p of accepted) p.errorCode = code;
    }
    return { throttleTimeMs: 0, topics };
  },
});
