/**
 * Produce (key 0). We advertise versions 0-13, because librdkafka turns
 * compression off when a broker's minimum Produce version is above 0, and
 * answer 0-2 (message formats v0/v1) with UNSUPPORTED_VERSION. v13 names
 * topics by id (KIP-516): an id no topic has is UNKNOWN_TOPIC_ID.
 *
 * Batches are validated (magic 2, length, CRC-32C, message.max.bytes) without
 * decompressing, queued in arrival order, and acknowledged after the flush
 * that holds them is committed: acks=1 and acks=-1 both mean "in the stores".
 * acks=0 gets no response at all. Compacted topics are the exception to "no
 * decompression": their records must all have keys (INVALID_RECORD
 * otherwise). Topics with message.timestamp.type=LogAppendTime get the flush's
 * time stamped into their batches, answered as log_append_time_ms.
 * Transactional batches (KIP-98) must be for a partition in the producer's
 * ongoing transaction (INVALID_TXN_STATE otherwise) and carry its current
 * epoch (INVALID_PRODUCER_EPOCH: fenced), as the transaction coordinator's
 * record says. From v12 (transactions v2, KIP-890 part 2) a partition not in
 * the transaction is added to it (the transaction started if there is none).
 */

import {
  PRODUCE_API,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceResponsePartition,
} from "../protocol/generated/mod.ts";
import { CloseConnection, ErrorCode, errorName } from "../protocol/errors.ts";
import { type BatchInfo, parseBatches } from "../protocol/record_batch.ts";
import type { PartitionAppend } from "../broker/produce_pipeline.ts";
import { partitionKey } from "../broker/waiter.ts";
import { topicConfig } from "../broker/config.ts";
import { cleanupPolicies } from "../broker/retention.ts";
import { batchKeysPresent } from "../protocol/batch_codec.ts";
import { allowedTopic, allowedTxnId, Op } from "./_authorize.ts";
import { defineHandler, type RequestContext } from "./types.ts";
import type { TxnReadCache } from "../broker/txn_coordinator.ts";

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
      topicId: t.topicId,
      partitionResponses: t.partitionData.map((p) =>
        partitionResponse(p.index, errorCode, message)
      ),
    })),
    throttleTimeMs: 0,
    nodeEndpoints: [],
  };
}

/** One partition of the request: its answer, and its key in the flush's outcomes when queued. */
type Slot = { response: ProduceResponsePartition; key: string | null; records: number };

/**
 * The refusal of a compacted topic's batches when a record has no key: the
 * cleaner keeps the latest record per key, so Kafka's LogValidator refuses
 * keyless records there (librdkafka test 0011 checks it). A batch that does not
 * decompress is CORRUPT_MESSAGE.
 */
function keylessRefusal(
  batches: BatchInfo[],
  where: string,
): { errorCode: number; message: string } | null {
  for (const b of batches) {
    if (b.isControl) continue;
    try {
      if (!batchKeysPresent(b.bytes)) {
        return {
          errorCode: ErrorCode.INVALID_RECORD,
          message: `Compacted topic cannot accept message without key in topic partition ${where}`,
        };
      }
    } catch (e) {
      return {
        errorCode: ErrorCode.CORRUPT_MESSAGE,
        message: `A record batch for ${where} does not decode: ${(e as Error).message}`,
      };
    }
  }
  return null;
}

/** Validates every partition, and queues the valid ones in one append. */
async function queue(req: ProduceRequest, ctx: RequestContext) {
  const { broker } = ctx;
  const log = broker.partitions;
  const responses: ProduceResponse = { responses: [], throttleTimeMs: 0, nodeEndpoints: [] };
  const appends: PartitionAppend[] = [];
  const slots: Slot[] = [];
  const txnRecords: TxnReadCache = new Map();
  for (const t of req.topicData) {
    const partitionResponses: ProduceResponsePartition[] = [];
    responses.responses.push({ name: t.name, topicId: t.topicId, partitionResponses });
    // v13 names the topic by id (KIP-516).
    const lookup = ctx.apiVersion >= 13
      ? await log.topicById(t.topicId)
      : await log.topicByName(t.name);
    // WRITE on the topic (KIP-11); an id no topic has stays UNKNOWN_TOPIC_ID.
    const name = ctx.apiVersion >= 13 ? lookup.topic?.name : t.name;
    if (name !== undefined && !allowedTopic(ctx, Op.WRITE, name)) {
      for (const p of t.partitionData) {
        const response = partitionResponse(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        partitionResponses.push(response);
        slots.push({ response, key: null, records: 0 });
      }
      continue;
    }
    const topicMax = lookup.topic
      ? Number(topicConfig(lookup.topic.configs, "max.message.bytes")) ||
        broker.config.messageMaxBytes
      : 0;
    const maxBytes = Math.min(topicMax, broker.config.messageMaxBytes);
    const compacted = lookup.topic !== null && cleanupPolicies(lookup.topic).has("compact");
    const logAppendTime = lookup.topic !== null &&
      topicConfig(lookup.topic.configs, "message.timestamp.type") === "LogAppendTime";
    for (const p of t.partitionData) {
      const at = log.locate(lookup, p.index);
      const slot: Slot = {
        response: partitionResponse(p.index, at.errorCode),
        key: null,
        records: 0,
      };
      partitionResponses.push(slot.response);
      slots.push(slot);
      if (at.ref === null) {
        slot.response.errorMessage = at.message;
        continue;
      }
      if (!(p.records instanceof Uint8Array)) {
        slot.response.errorCode = ErrorCode.INVALID_RECORD;
        slot.response.errorMessage = "Record set is null";
        continue;
      }
      const parsed = parseBatches(p.records, maxBytes);
      if ("errorCode" in parsed) {
        slot.response.errorCode = parsed.errorCode;
        slot.response.errorMessage = parsed.message;
        continue;
      }
      // The cleaner keeps the latest record per key, so a compacted topic takes only
      // records with a key (Kafka's LogValidator; librdkafka test 0011 checks it).
      if (compacted) {
        const refused = keylessRefusal(parsed, `${at.ref.topic.name}-${p.index}`);
        if (refused) {
          slot.response.errorCode = refused.errorCode;
          slot.response.errorMessage = refused.message;
          continue;
        }
      }
      // A transactional batch must be for a partition of the producer's ongoing transaction;
      // v12+ (transactions v2, KIP-890 part 2) adds it there.
      const txnRefusal = await broker.transactions.checkProduce(
        req.transactionalId,
        parsed,
        { topic: at.ref.topic.name, topicId: at.ref.topic.id, partition: p.index },
        txnRecords,
        ctx.apiVersion,
      ).catch((e) => ({ errorCode: log.failure(e), message: (e as Error).message }));
      if (txnRefusal) {
        slot.response.errorCode = txnRefusal.errorCode;
        slot.response.errorMessage = txnRefusal.message;
        continue;
      }
      slot.key = partitionKey(at.ref.topic.id, p.index);
      for (const b of parsed) slot.records += b.recordCount;
      appends.push({
        topicId: at.ref.topic.id,
        partition: p.index,
        batches: parsed,
        logAppendTime,
      });
    }
  }
  // An idempotent producer waiting for answers has a bounded window of
  // requests in flight, which lets the flush buffer stop lingering early.
  const idempotent = req.acks !== 0 &&
    appends.every((a) => a.batches.every((b) => b.producerId >= 0));
  const committed = appends.length > 0
    ? log.append(appends, idempotent ? ctx.connection : null)
    : null;
  return { responses, slots, committed };
}

export const produce = defineHandler({
  api: PRODUCE_API,
  minVersion: 0,
  maxVersion: 13,
  async handle(req, ctx) {
    const answer = await produceAnswer(req, ctx);
    if (req.acks !== 0) return answer;
    // acks=0 gets no response; a failure closes the connection instead, as in Kafka,
    // so that the client refreshes its metadata rather than sending on blindly.
    for (const t of answer.responses) {
      for (const p of t.partitionResponses) {
        if (p.errorCode !== ErrorCode.NONE) {
          throw new CloseConnection(
            `Produce with acks=0 to ${t.name}-${p.index} failed: ${errorName(p.errorCode)}`,
          );
        }
      }
    }
    return null;
  },
});

async function produceAnswer(req: ProduceRequest, ctx: RequestContext): Promise<ProduceResponse> {
  {
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
    if (req.transactionalId !== null && !allowedTxnId(ctx, Op.WRITE, req.transactionalId)) {
      return allPartitions(
        req,
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        "Transactional id authorization failed.",
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
    const { responses, slots, committed } = queued;
    const outcomes = committed ? await committed : null;
    for (const s of slots) {
      if (s.key === null) continue;
      const o = outcomes!.get(s.key)!;
      s.response.errorCode = o.errorCode;
      s.response.baseOffset = o.baseOffset;
      s.response.logStartOffset = o.logStartOffset;
      s.response.errorMessage = o.errorMessage;
      s.response.logAppendTimeMs = o.logAppendTimeMs;
      if (o.errorCode === ErrorCode.NONE) ctx.broker.metrics.recordsProduced += s.records;
    }
    return responses;
  }
}
