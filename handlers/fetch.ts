/**
 * Fetch (key 1), versions 4-18. Consumers only: there are no follower
 * replicas, since the stores replicate. Topic ids replace names from v13
 * (KIP-516). The follower's high watermark of v18 (KIP-1166) is read and
 * ignored; the response is as in v17. Fetch sessions (KIP-227, v7+) are
 * served from a per-broker cache (broker/fetch_sessions.ts): a full fetch
 * gets a session id, an incremental one is answered with the changed
 * partitions only. Reading, byte limits and the long poll are the
 * partition-log service's (broker/partition_log.ts).
 */

import {
  FETCH_API,
  type FetchRequest,
  type FetchResponse,
  type FetchResponsePartition,
  type FetchResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { recordsSize } from "../protocol/writer.ts";
import type { FetchRead, FetchWant, TopicLookup } from "../broker/partition_log.ts";
import {
  type FetchContext,
  INVALID_FETCH_SESSION_EPOCH,
  INVALID_SESSION_ID,
  type PartitionAnswer,
  type SessionPartition,
  sessionsOf,
} from "../broker/fetch_sessions.ts";
import { guardLookup, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";

const READ_COMMITTED = 1;
const EMPTY = new Uint8Array(0);

export const fetch = defineHandler({
  api: FETCH_API,
  minVersion: 4,
  maxVersion: 18,
  async handle(req, ctx) {
    const useIds = ctx.apiVersion >= 13;
    const sessions = sessionsOf(ctx.broker);
    const asked = requestPartitions(req, useIds);
    // Before v7 there are no session fields: the decoded defaults (id 0, epoch -1) are sessionless.
    const context = sessions.open({
      sessionId: req.sessionId,
      sessionEpoch: req.sessionEpoch,
      usesTopicIds: useIds,
      partitions: asked,
      forgotten: req.forgottenTopicsData.map((f) => ({
        topicKey: useIds ? f.topicId : f.topic,
        partitions: f.partitions,
      })),
    });
    if (context.kind === "error") return answer(context.errorCode, INVALID_SESSION_ID, []);
    const partitions = context.kind === "incremental"
      ? [...context.session.partitions.values()]
      : asked;
    const reads = await read(ctx, req, partitions, useIds);
    const answers = reads.map(answerOf);
    return respond(context, partitions, reads, answers, sessions, useIds);
  },
  responseBytes,
});

/** The record sets' bytes plus room for the fields around them (Handler.responseBytes). */
function responseBytes(res: FetchResponse): number {
  let n = 256;
  for (const t of res.responses) {
    n += 64 + t.topic.length * 3;
    for (const p of t.partitions) {
      n += 96 + 16 * (p.abortedTransactions?.length ?? 0) + recordsSize(p.records);
    }
  }
  return n;
}

/** The partitions a request names, in its order, as a session would hold them. */
function requestPartitions(req: FetchRequest, useIds: boolean): SessionPartition[] {
  const out: SessionPartition[] = [];
  for (const t of req.topics) {
    const topicKey = useIds ? t.topicId : t.topic;
    for (const p of t.partitions) {
      out.push({
        topicKey,
        topic: t.topic,
        topicId: t.topicId ?? ZERO_UUID,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: p.partitionMaxBytes,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
      });
    }
  }
  return out;
}

/** Looks up each topic once (authorizing READ on it), then reads every partition. */
async function read(
  ctx: RequestContext,
  req: FetchRequest,
  partitions: SessionPartition[],
  useIds: boolean,
): Promise<FetchRead[]> {
  const log = ctx.broker.partitions;
  const lookups = new Map<string, TopicLookup>();
  for (const p of partitions) {
    if (lookups.has(p.topicKey)) continue;
    const found = useIds ? await log.topicById(p.topicId) : await log.topicByName(p.topic);
    lookups.set(p.topicKey, guardLookup(ctx, Op.READ, found, useIds ? null : p.topic));
  }
  const wants: FetchWant[] = partitions.map((p) => {
    const lookup = lookups.get(p.topicKey)!;
    // Named by id, a partition learns its topic's name for the response (and the other way round).
    if (lookup.topic) {
      p.topic = lookup.topic.name;
      p.topicId = lookup.topic.id;
    }
    return {
      at: log.locate(lookup, p.partition),
      fetchOffset: p.fetchOffset,
      partitionMaxBytes: p.partitionMaxBytes,
    };
  });
  return await log.fetch(wants, {
    maxBytes: req.maxBytes,
    minBytes: req.minBytes,
    maxWaitMs: req.maxWaitMs,
    readCommitted: req.isolationLevel === READ_COMMITTED,
  });
}

function answerOf(r: FetchRead): PartitionAnswer {
  let recordBytes = 0;
  for (const c of r.records) recordBytes += c.length;
  return {
    errorCode: r.errorCode,
    highWatermark: r.highWatermark,
    lastStableOffset: r.lastStableOffset,
    logStartOffset: r.logStartOffset,
    recordBytes,
  };
}

/** The response for a context: all partitions, or for an incremental fetch the changed ones. */
function respond(
  context: Exclude<FetchContext, { kind: "error" }>,
  partitions: SessionPartition[],
  reads: FetchRead[],
  answers: PartitionAnswer[],
  sessions: ReturnType<typeof sessionsOf>,
  useIds: boolean,
): FetchResponse {
  switch (context.kind) {
    case "sessionless":
      return answer(ErrorCode.NONE, INVALID_SESSION_ID, topicsOf(partitions, reads, null));
    case "full": {
      for (let i = 0; i < partitions.length; i++) remember(partitions[i], answers[i]);
      const id = sessions.create(partitions, useIds);
      return answer(ErrorCode.NONE, id, topicsOf(partitions, reads, null));
    }
    case "incremental": {
      const include = sessions.respond(context, partitions, answers);
      // The session's epoch moved on while this fetch was read: a duplicate request.
      if (include === null) return answer(INVALID_FETCH_SESSION_EPOCH, context.session.id, []);
      return answer(ErrorCode.NONE, context.session.id, topicsOf(partitions, reads, include));
    }
  }
}

/** What a new session remembers of a partition's answer in its full fetch. */
function remember(p: SessionPartition, a: PartitionAnswer): void {
  p.highWatermark = a.errorCode !== 0 ? -1 : a.highWatermark;
  p.lastStableOffset = a.lastStableOffset;
  p.logStartOffset = a.logStartOffset;
}

/** Response topics, one per run of partitions of the same topic, as Kafka groups them. */
function topicsOf(
  partitions: SessionPartition[],
  reads: FetchRead[],
  include: boolean[] | null,
): FetchResponseTopic[] {
  const topics: FetchResponseTopic[] = [];
  let current: FetchResponseTopic | null = null;
  let currentKey: string | null = null;
  for (let i = 0; i < partitions.length; i++) {
    if (include !== null && !include[i]) continue;
    const p = partitions[i];
    if (current === null || currentKey !== p.topicKey) {
      current = { topic: p.topic, topicId: p.topicId, partitions: [] };
      currentKey = p.topicKey;
      topics.push(current);
    }
    current.partitions.push(partitionOf(p.partition, reads[i]));
  }
  return topics;
}

function partitionOf(partitionIndex: number, read: FetchRead): FetchResponsePartition {
  return {
    partitionIndex,
    errorCode: read.errorCode,
    highWatermark: read.highWatermark,
    lastStableOffset: read.lastStableOffset,
    logStartOffset: read.logStartOffset,
    divergingEpoch: { epoch: -1, endOffset: -1 },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1, epoch: -1 },
    abortedTransactions: read.abortedTransactions,
    preferredReadReplica: -1,
    // Kafka sends an empty record set, never null: librdkafka refuses a size of -1.
    records: read.records.length > 0 ? read.records : EMPTY,
  };
}

function answer(errorCode: number, sessionId: number, responses: FetchResponseTopic[]) {
  return { throttleTimeMs: 0, errorCode, sessionId, responses, nodeEndpoints: [] };
}
