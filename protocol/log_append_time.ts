/**
 * message.timestamp.type=LogAppendTime (KIP-32): the broker, not the producer,
 * stamps a batch's time. In a v2 batch that is the max timestamp with the
 * attributes' timestamp-type bit set; consumers then take the batch's max
 * timestamp as every record's timestamp. Both fields lie inside the CRC, so it
 * is computed again. The records themselves are not touched (no decompression).
 */

import { crc32c } from "./crc32c.ts";

/** Where the v2 batch header keeps the fields changed here (KIP-98 layout). */
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;
const MAX_TIMESTAMP_AT = 35;
/** Attributes bit 3: the timestamps are the log append time. */
const LOG_APPEND_TIME_BIT = 0x08;

/** Sets the batch's timestamp type to LogAppendTime and its max timestamp to `nowMs`, in place. */
export function stampLogAppendTime(batch: Uint8Array, nowMs: number): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  view.setInt16(ATTRIBUTES_AT, view.getInt16(ATTRIBUTES_AT) | LOG_APPEND_TIME_BIT);
  view.setBigInt64(MAX_TIMESTAMP_AT, BigInt(nowMs));
  view.setUint32(CRC_AT, crc32c(batch.subarray(ATTRIBUTES_AT)));
}

/** True when the batch's timestamps are the log append time. */
export function isLogAppendTime(batch: Uint8Array): boolean {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  return (view.getInt16(ATTRIBUTES_AT) & LOG_APPEND_TIME_BIT) !== 0;
}
