/**
 * Fetch (key 1), versions 4-17. Consumers only: there are no follower
 * replicas, since the stores replicate. Topic ids replace names from v13
 * (KIP-516). Fetch sessions (KIP-227) are not kept: every response has session
 * id 0, which tells clients to send full requests.
 *
 * Batches are served as stored, with the assigned base offset written into
 * their first eight bytes. The response honours max_bytes and
 * partition_max_bytes, but always carries at least one whole batch of the
 * first partition with data (KIP-74). With too little data it long-polls up
 * to max_wait_ms: woken at once by this broker's commits, and re-reading the
 * high watermark every fetchPollMs for other brokers' commits.
 */

import {
  FETCH_API,
  type FetchRequest,
  type FetchResponse,
  type FetchResponsePartition,
  type FetchResponseTopic,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { writeBaseOffset } from "../protocol/record_batch.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import type { IndexEntry, TopicInfo } from "../stores/types.ts";
import { Notifier } from "../broker/notifier.ts";
import { withTimeout } from "../broker/produce_pipeline.ts";
import { defineHandler, type RequestContext } from "./types.ts";

const READ_COMMITTED = 1;
const EMPTY = new Uint8Array(0);

function emptyPartition(partitionIndex: number, errorCode: number): FetchResponsePartition {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    divergingEpoch: { epoch: -1, endOffset: -1 },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    // Kafka sends an empty record set, never null: librdkafka refuses a size of -1.
    records: EMPTY,
  };
}

/**
 * Reads the batches of index entries, one store read per run of adjacent
 * entries. The reads are all asked for before waiting on any, so a log store
 * can serve neighbouring runs with one read (the file store does).
 */
async function readBatches(ctx: RequestContext, entries: IndexEntry[]): Promise<Uint8Array[]> {
  const runs: { from: number; to: number; data: Promise<Uint8Array> }[] = [];
  let i = 0;
  while (i < entries.length) {
    let j = i + 1;
    let end = entries[i].position + entries[i].length;
    while (
      j < entries.length && entries[j].blob === entries[i].blob && entries[j].position === end
    ) {
      end += entries[j].length;
      j++;
    }
    runs.push({
      from: i,
      to: j,
      // A log store that does not answer fails the fetch in time, not after the client's timeout.
      data: withTimeout(
        ctx.broker.blobs.read(entries[i].blob, entries[i].position, end - entries[i].position),
        ctx.broker.config.storeTimeoutMs,
        "Log store read",
      ),
    });
    i = j;
  }
  // Every read is settled before returning, so none is left failing unobserved.
  const settled = await Promise.allSettled(runs.map((r) => r.data));
  const chunks: Uint8Array[] = [];
  // The rewritten first eight bytes of every batch, side by side in one buffer.
  const headers = new Uint8Array(8 * entries.length);
  for (let r = 0; r < runs.length; r++) {
    const s = settled[r];
    if (s.status === "rejected") throw s.reason;
    let at = 0;
    for (let k = runs[r].from; k < runs[r].to; k++) {
      const e = entries[k];
      const header = headers.subarray(8 * k, 8 * k + 8);
      writeBaseOffset(header, e.baseOffset);
      chunks.push(header, s.value.subarray(at + 8, at + e.length));
      at += e.length;
    }
  }
  return chunks;
}

interface Gathered {
  response: FetchResponse;
  bytes: number;
  keys: string[];
  error: boolean;
}

async function gather(req: FetchRequest, ctx: RequestContext): Promise<Gathered> {
  const useIds = ctx.apiVersion >= 13;
  let budget = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
  let bytes = 0;
  let error = false;
  const keys: string[] = [];
  const topics: FetchResponseTopic[] = [];
  for (const t of req.topics) {
    let topic: TopicInfo | null;
    try {
      topic = useIds
        ? await ctx.broker.topics.byTopicId(t.topicId)
        : await ctx.broker.topics.byTopicName(t.topic);
    } catch {
      topic = null;
    }
    const partitions: FetchResponsePartition[] = [];
    for (const p of t.partitions) {
      if (!topic) {
        error = true;
        partitions.push(emptyPartition(
          p.partition,
          useIds ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ));
        continue;
      }
      if (p.partition < 0 || p.partition >= topic.partitions) {
        error = true;
        partitions.push(emptyPartition(p.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        continue;
      }
      keys.push(Notifier.key(topic.id, p.partition));
      let state;
      try {
        state = await ctx.broker.meta.partitionState(topic.id, p.partition);
      } catch {
        state = null;
        ctx.broker.metrics.storeError("meta", "partitionState");
      }
      if (!state) {
        error = true;
        partitions.push(emptyPartition(p.partition, ErrorCode.KAFKA_STORAGE_ERROR));
        continue;
      }
      const out = emptyPartition(p.partition, ErrorCode.NONE);
      out.highWatermark = state.highWatermark;
      out.lastStableOffset = state.lastStableOffset;
      out.logStartOffset = state.logStartOffset;
      if (req.isolationLevel === READ_COMMITTED) out.abortedTransactions = [];
      partitions.push(out);
      if (p.fetchOffset < state.logStartOffset || p.fetchOffset > state.highWatermark) {
        out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
        error = true;
        continue;
      }
      const limit = req.isolationLevel === READ_COMMITTED
        ? state.lastStableOffset
        : state.highWatermark;
      const room = Math.min(p.partitionMaxBytes, budget);
      if (p.fetchOffset >= limit || room <= 0) continue;
      try {
        const entries =
          (await ctx.broker.meta.readIndex(topic.id, p.partition, p.fetchOffset, room))
            .filter((e) => e.baseOffset < limit);
        // KIP-74: past the first partition with data, only whole batches that fit.
        while (bytes > 0 && entries.length > 0 && sum(entries) > room) entries.pop();
        if (entries.length === 0) continue;
        const chunks = await readBatches(ctx, entries);
        out.records = chunks;
        const size = sum(entries);
        bytes += size;
        budget -= size;
        for (const e of entries) {
          ctx.broker.metrics.recordsFetched += e.lastOffset - e.baseOffset + 1;
        }
      } catch {
        ctx.broker.metrics.storeError("log", "read");
        out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
        out.records = EMPTY;
        error = true;
      }
    }
    topics.push({
      topic: topic?.name ?? t.topic,
      topicId: topic?.id ?? t.topicId ?? ZERO_UUID,
      partitions,
    });
  }
  return {
    response: {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId: 0,
      responses: topics,
      nodeEndpoints: [],
    },
    bytes,
    keys,
    error,
  };
}

function sum(entries: IndexEntry[]): number {
  let n = 0;
  for (const e of entries) n += e.length;
  return n;
}

export const fetch = defineHandler({
  api: FETCH_API,
  minVersion: 4,
  maxVersion: 17,
  async handle(req, ctx) {
    const deadline = performance.now() + Math.max(0, req.maxWaitMs);
    const minBytes = Math.max(1, req.minBytes);
    for (;;) {
      const g = await gather(req, ctx);
      const left = deadline - performance.now();
      if (g.bytes >= minBytes || g.error || left <= 0 || ctx.broker.closing.aborted) {
        return g.response;
      }
      // Wait for a commit here, a poll interval (other brokers' commits), or the deadline.
      const stop = new AbortController();
      const onClose = () => stop.abort();
      ctx.broker.closing.addEventListener("abort", onClose, { once: true });
      const timer = setTimeout(() => stop.abort(), Math.min(left, ctx.broker.config.fetchPollMs));
      await ctx.broker.notifier.wait(g.keys, stop.signal);
      clearTimeout(timer);
      ctx.broker.closing.removeEventListener("abort", onClose);
    }
  },
});
