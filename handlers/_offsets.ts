/**
 * The partition checks OffsetCommit and TxnOffsetCommit share: each partition
 * of the request is refused on its own (an empty group id, a topic that does
 * not exist, metadata over offset.metadata.max.bytes) or accepted, waiting for
 * the group's (or the transaction's) verdict, which the caller then gives every
 * accepted partition. A meta store that fails during the topic lookup answers
 * COORDINATOR_NOT_AVAILABLE, the retriable code of group APIs.
 */

import { ErrorCode } from "../protocol/errors.ts";
import type { CommittedOffset } from "../stores/types.ts";
import { allowedTopic, Op } from "./_authorize.ts";
import type { RequestContext } from "./types.ts";

/** offset.metadata.max.bytes */
const MAX_METADATA_CHARS = 4096;

/** A partition of a commit request, as both APIs carry it. */
interface CommitPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

/** A topic of a commit request. */
interface CommitTopic {
  name: string;
  topicId: string;
  partitions: CommitPartition[];
}

/** A partition's answer: refused now, or NONE until the verdict is known. */
export interface PartitionAnswer {
  partitionIndex: number;
  errorCode: number;
}

/** How the two APIs differ. */
export interface CommitChecks {
  /** Topics are named by id (OffsetCommit v10, TxnOffsetCommit v6). */
  byId: boolean;
  /** Partitions past the topic's count are UNKNOWN_TOPIC_OR_PARTITION (TxnOffsetCommit). */
  checkRange: boolean;
  /** The request's leader epochs are kept (else -1: versions that have none). */
  leaderEpochs: boolean;
}

/** Checks every partition; the answers by topic, those accepted, and their offsets. */
export async function checkCommitPartitions(
  ctx: RequestContext,
  groupId: string,
  topics: CommitTopic[],
  checks: CommitChecks,
) {
  const now = Date.now();
  const log = ctx.broker.partitions;
  const answers: { name: string; topicId: string; partitions: PartitionAnswer[] }[] = [];
  const accepted: PartitionAnswer[] = [];
  const offsets: CommittedOffset[] = [];
  for (const t of topics) {
    const lookup = groupId === ""
      ? null
      : checks.byId
      ? await log.topicById(t.topicId)
      : await log.topicByName(t.name);
    const info = lookup?.topic ?? null;
    const storeFailed = lookup !== null && info === null &&
      lookup.errorCode !== ErrorCode.UNKNOWN_TOPIC_ID &&
      lookup.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    // Committing a topic's offsets needs READ on it (KIP-11).
    const topicName = info?.name ?? t.name;
    const denied = lookup !== null && topicName !== "" &&
      !allowedTopic(ctx, Op.READ, topicName);
    const partitions: PartitionAnswer[] = [];
    for (const p of t.partitions) {
      const out: PartitionAnswer = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
      partitions.push(out);
      if (groupId === "") out.errorCode = ErrorCode.INVALID_GROUP_ID;
      else if (denied) out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      else if (storeFailed) out.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      else if (!info && checks.byId) out.errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
      else if (
        !info || p.partitionIndex < 0 || (checks.checkRange && p.partitionIndex >= info.partitions)
      ) {
        out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      } else if ((p.committedMetadata?.length ?? 0) > MAX_METADATA_CHARS) {
        out.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
      } else {
        accepted.push(out);
        offsets.push({
          topic: info.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: checks.leaderEpochs ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata,
          commitTimestamp: now,
        });
      }
    }
    answers.push({ name: t.name, topicId: t.topicId, partitions });
  }
  return { answers, accepted, offsets };
}
