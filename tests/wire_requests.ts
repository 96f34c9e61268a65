/** Requests tests send often through the WireClient, and the record bytes of a fetch. */

import {
  defaultFetchRequest,
  defaultFetchRequestPartition,
  defaultFetchRequestTopic,
  defaultProduceRequest,
  defaultProduceRequestPartition,
  defaultProduceRequestTopic,
  type FetchRequest,
  type ProduceRequest,
} from "../protocol/generated/mod.ts";
import { recordsSize } from "../protocol/writer.ts";

/** A Produce (acks=all) of one record batch to each of partitions 0..partitions-1. */
export function produceRequest(topic: string, batch: Uint8Array, partitions = 1): ProduceRequest {
  const req = defaultProduceRequest();
  req.acks = -1;
  req.timeoutMs = 5000;
  req.topicData = [{
    ...defaultProduceRequestTopic(),
    name: topic,
    partitionData: Array.from({ length: partitions }, (_, index) => ({
      ...defaultProduceRequestPartition(),
      index,
      records: batch,
    })),
  }];
  return req;
}

/** A Fetch of one partition from `offset`, up to 1 MiB, waiting up to `maxWaitMs` for 1 byte. */
export function fetchRequest(
  topic: { name: string; id: string },
  partition = 0,
  offset = 0,
  maxWaitMs = 0,
): FetchRequest {
  const req = defaultFetchRequest();
  req.maxWaitMs = maxWaitMs;
  req.minBytes = 1;
  req.maxBytes = 1 << 20;
  req.topics = [{
    ...defaultFetchRequestTopic(),
    topic: topic.name,
    topicId: topic.id,
    partitions: [{
      ...defaultFetchRequestPartition(),
      partition,
      fetchOffset: offset,
      partitionMaxBytes: 1 << 20,
    }],
  }];
  return req;
}

/** A fetched partition's records field as one byte array. */
export function flattenRecords(r: Uint8Array | Uint8Array[] | null): Uint8Array {
  if (r === null) return new Uint8Array(0);
  if (r instanceof Uint8Array) return r;
  const out = new Uint8Array(recordsSize(r));
  let at = 0;
  for (const c of r) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
