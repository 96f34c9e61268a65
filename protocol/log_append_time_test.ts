import assert from "node:assert/strict";
import { buildBatch, decodeRecords, parseBatches } from "./record_batch.ts";
import { isLogAppendTime, stampLogAppendTime } from "./log_append_time.ts";

const enc = new TextEncoder();

Deno.test("LogAppendTime: the stamped batch carries the time and type, and its CRC still holds", () => {
  const batch = buildBatch(
    [{ key: enc.encode("k"), value: enc.encode("v"), headers: [] }],
    { baseTimestamp: 1_000 },
  );
  assert.equal(isLogAppendTime(batch), false);
  stampLogAppendTime(batch, 1_700_000_000_123);
  assert.equal(isLogAppendTime(batch), true);
  const parsed = parseBatches(batch, 1 << 20);
  assert.ok(Array.isArray(parsed), `refused: ${JSON.stringify(parsed)}`);
  assert.equal(parsed[0].maxTimestamp, 1_700_000_000_123);
  assert.equal(parsed[0].attributes & 0x08, 0x08);
  // The records are untouched.
  assert.equal(new TextDecoder().decode(decodeRecords(batch)[0].value!), "v");
});
