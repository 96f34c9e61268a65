/**
 * Produce (key 0). We advertise versions 0-12, because librdkafka turns
 * compression off when a broker's minimum Produce version is above 0, and
 * answer 0-2 (message formats v0/v1) with UNSUPPORTED_VERSION.
 *
 * Batches are validated (magic 2, length, CRC-32C, message.max.bytes) without
 * decompressing, queued in arrival order, and acknowledged after the flush
 * that holds them is committed: acks=1 and acks=-1 both mean "in the stores".
 * acks=0 gets no response at all.
 */

import {
  PRODUCE_API,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceResponsePartition,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { parseBatches } from "../protocol/record_batch.ts";
import type { PartitionAppend, PartitionOutcome } from "../broker/produce_pipeline.ts";
import { topicConfig } from "../broker/config.ts";
import { defineHandler, type RequestContext } from "./types.ts";

function partitionResponse(
  index: number,
  errorCode: number,
  errorMessage: string | null = null,
): ProduceResponsePartition {
  return {
    index,
    errorCode,
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    recordErrors: [],
    errorMessage,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

function allPartitions(req: ProduceRequest, errorCode: number, message: string): ProduceResponse {
  return {
    responses: req.topicData.map((t) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p) =>
        partitionResponse(p.index, errorCode, message)
      ),
    })),
    throttleTimeMs: 0,
    nodeEndpoints: [],
  };
}

/** Where one partition of the request ends up: refused now, or sent to the flush buffer. */
type Slot = { topic: number; response: ProduceResponsePartition; append: number | null };

async function queue(req: ProduceRequest, ctx: RequestContext) {
  const { broker } = ctx;
  const responses: ProduceResponse = {
    responses: [],
    throttleTimeMs: 0,
    nodeEndpoints: [],
  };
  const appends: PartitionAppend[] = [];
  const slots: Slot[] = [];
  for (const t of req.topicData) {
    const topicIndex = responses.responses.length;
    responses.responses.push({ name: t.name, partitionResponses: [] });
    const topic = await broker.topics.byTopicName(t.name);
    const maxBytes = topic
      ? Number(topicConfig(topic.configs, "max.message.bytes")) || broker.config.messageMaxBytes
      : 0;
    for (const p of t.partitionData) {
      let response: ProduceResponsePartition;
      let append: number | null = null;
      if (!topic || p.index < 0 || p.index >= topic.partitions) {
        response = partitionResponse(p.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      } else if (!(p.records instanceof Uint8Array)) {
        response = partitionResponse(p.index, ErrorCode.INVALID_RECORD, "Record set is null");
      } else {
        const parsed = parseBatches(p.records, Math.min(maxBytes, broker.config.messageMaxBytes));
        if ("errorCode" in parsed) {
          response = partitionResponse(p.index, parsed.errorCode, parsed.message);
        } else {
          response = partitionResponse(p.index, ErrorCode.NONE);
          append = appends.length;
          appends.push({ topicId: topic.id, partition: p.index, batches: parsed });
        }
      }
      responses.responses[topicIndex].partitionResponses.push(response);
      slots.push({ topic: topicIndex, response, append });
    }
  }
  // An idempotent producer waiting for answers has a bounded window of
  // requests in flight, which lets the flush buffer stop lingering early.
  const idempotent = req.acks !== 0 &&
    appends.every((a) => a.batches.every((b) => b.producerId >= 0));
  const committed = appends.length > 0
    ? broker.pipeline.append(appends, idempotent ? ctx.connection : null)
    : null;
  return { responses, slots, appends, committed };
}

export const produce = defineHandler({
  api: PRODUCE_API,
  minVersion: 0,
  maxVersion: 12,
  async handle(req, ctx) {
    if (ctx.apiVersion < 3) {
      return allPartitions(
        req,
        ErrorCode.UNSUPPORTED_VERSION,
        "Produce v0-2 (message format v0/v1) is not supported; use a client that sends v3 or later",
      );
    }
    if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) {
      return allPartitions(
        req,
        ErrorCode.INVALID_REQUIRED_ACKS,
        `acks=${req.acks} is not one of 0, 1, -1`,
      );
    }
    // Requests on one connection enter the flush buffer in the order they arrived.
    const previous = ctx.connection.produceOrder;
    let release!: () => void;
    ctx.connection.produceOrder = new Promise<void>((r) => (release = r));
    let queued: Awaited<ReturnType<typeof queue>>;
    try {
      await previous;
      queued = await queue(req, ctx);
    } finally {
      release();
    }
    const { responses, slots, appends, committed } = queued;
    const outcomes: PartitionOutcome[] = committed ? await committed : [];
    for (const s of slots) {
      if (s.append === null) continue;
      const o = outcomes[s.append];
      s.response.errorCode = o.errorCode;
      s.response.baseOffset = o.baseOffset;
      s.response.logStartOffset = o.logStartOffset;
      s.response.errorMessage = o.errorMessage;
      if (o.errorCode === ErrorCode.NONE) {
        for (const b of appends[s.append].batches) {
          ctx.broker.metrics.recordsProduced += b.recordCount;
        }
      }
    }
    return req.acks === 0 ? null : responses;
  },
});
