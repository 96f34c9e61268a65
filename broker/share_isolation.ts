/**
 * share.isolation.level=read_committed for share groups (KIP-932): a share
 * group in read_committed acquires records only below the last stable
 * offset, and never hands over the data of an aborted transaction. A
 * ShareFetch response has no aborted-transactions field (a share consumer
 * cannot drop those records itself), so the broker archives them as Kafka's
 * SharePartition does (filterAbortedTransactionalAcquiredRecords): a data
 * batch is aborted when it is transactional and its producer has an aborted
 * transaction whose range, from its first offset up to its abort marker,
 * holds the batch.
 */

import { BatchAttributes } from "../protocol/batch_codec.ts";
import { BATCH_HEADER_SIZE } from "../protocol/record_batch.ts";
import type { AbortedTransaction } from "../stores/types.ts";
import type { Acquired } from "./share_partition_state.ts";

/** An inclusive offset range. */
export interface OffsetRange {
  first: number;
  last: number;
}

/**
 * The offsets of `acquired` that belong to aborted transactions, found in the
 * batches read for them (`chunks`: the record set as sent, whole batches
 * back to back once the chunks are joined; a batch may span chunks).
 */
export function abortedAcquiredRanges(
  chunks: Uint8Array[],
  aborted: AbortedTransaction[],
  acquired: Acquired[],
): OffsetRange[] {
  if (aborted.length === 0 || acquired.length === 0) return [];
  const byProducer = new Map<number, AbortedTransaction[]>();
  for (const a of aborted) {
    const list = byProducer.get(a.producerId) ?? [];
    list.push(a);
    byProducer.set(a.producerId, list);
  }
  const out: OffsetRange[] = [];
  {
    const chunk = join(chunks);
    const v = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let at = 0; at + BATCH_HEADER_SIZE <= chunk.length;) {
      const baseOffset = Number(v.getBigInt64(at));
      const batchLength = v.getInt32(at + 8);
      if (batchLength <= 0 || at + 12 + batchLength > chunk.length) break;
      const attributes = v.getInt16(at + 21);
      const last = baseOffset + v.getInt32(at + 23);
      const producerId = Number(v.getBigInt64(at + 43));
      at += 12 + batchLength;
      if (!(attributes & BatchAttributes.TRANSACTIONAL) || (attributes & BatchAttributes.CONTROL)) {
        continue;
      }
      const txns = byProducer.get(producerId);
      if (!txns?.some((a) => a.firstOffset <= baseOffset && last <= a.lastOffset)) continue;
      for (const r of acquired) {
        const first = Math.max(baseOffset, r.firstOffset);
        const end = Math.min(last, r.lastOffset);
        if (first <= end) out.push({ first, last: end });
      }
    }
  }
  return merge(out);
}

function join(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function merge(rs: OffsetRange[]): OffsetRange[] {
  const out: OffsetRange[] = [];
  for (const r of rs.sort((a, b) => a.first - b.first)) {
    const prev = out[out.length - 1];
    if (prev && r.first <= prev.last + 1) prev.last = Math.max(prev.last, r.last);
    else out.push({ ...r });
  }
  return out;
}

/** `acquired` without the offsets of `removed` (both sorted, `removed` within `acquired`). */
export function withoutRanges(acquired: Acquired[], removed: OffsetRange[]): Acquired[] {
  const out: Acquired[] = [];
  for (const a of acquired) {
    let from = a.firstOffset;
    for (const r of removed) {
      if (r.last < from || r.first > a.lastOffset) continue;
      if (r.first > from) out.push({ ...a, firstOffset: from, lastOffset: r.first - 1 });
      from = r.last + 1;
    }
    if (from <= a.lastOffset) out.push({ ...a, firstOffset: from });
  }
  return out;
}
