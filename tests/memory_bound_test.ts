/**
 * The memory log store's size bound (`memory:?max-bytes=`, issue 11): past
 * it, the oldest batches of delete-policy topics go as retention would and
 * producing carries on; a compact-only topic that fills the store gets a clear
 * error; bad bounds are refused with the value named.
 */

import assert from "node:assert/strict";
import { PRODUCE_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { buildBatch } from "../protocol/record_batch.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { openLogStore, StoreUrlError } from "../stores/registry.ts";
import { testBroker } from "./broker_util.ts";
import { createTopicWithConfigs, fetchedRecords, fetchPartition } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";
import { produceRequest } from "./wire_requests.ts";

const enc = new TextEncoder();
const MAX_BYTES = 16 * 1024;

function create(c: WireClient, name: string, configs: Record<string, string> = {}) {
  return createTopicWithConfigs(c, name, configs);
}

/** One record of about 1 KiB, keyed, in its own batch (and its own flush: acks=all, one at a time). */
async function produceOne(c: WireClient, topic: string, i: number) {
  const batch = buildBatch([{
    key: enc.encode(`k${i}`),
    value: enc.encode(`v${i}:`.padEnd(1000, "x")),
    headers: [],
  }]);
  const res = await c.call(PRODUCE_API, 12, produceRequest(topic, batch));
  return res.responses[0].partitionResponses[0];
}

function gauge(
  broker: { context: { metrics: { gauges: Map<string, () => unknown> } } },
  n: string,
) {
  return broker.context.metrics.gauges.get(n)!();
}

Deno.test("a bounded memory log store drops the oldest batches of delete topics and keeps producing", async () => {
  const log = new MemoryLogStore({ maxBytes: MAX_BYTES });
  await using broker = await testBroker({ log, cleanerIntervalMs: 0, lingerMs: 0 });
  await using c = await WireClient.connect(broker.port);
  const a = await create(c, "events-a");
  const b = await create(c, "events-b");
  const rounds = 40; // about 80 KiB through a 16 KiB store
  for (let i = 0; i < rounds; i++) {
    for (const t of [a, b]) {
      const r = await produceOne(c, t.name, i);
      assert.equal(r.errorCode, 0, `produce ${i} to ${t.name}: ${r.errorMessage}`);
      assert.equal(Number(r.baseOffset), i);
    }
    assert.ok(log.space!.usedBytes() <= MAX_BYTES, "never past the bound");
  }
  for (const t of [a, b]) {
    const state = await broker.context.meta.partitionState(t.id, 0);
    assert.equal(state!.highWatermark, rounds);
    assert.ok(state!.logStartOffset > 0, `${t.name}'s log start moved`);
    // Both partitions gave up batches, oldest first across them: their starts stay close.
    const old = await fetchPartition(c, t, 0, 0);
    assert.equal(old.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(Number(old.logStartOffset), state!.logStartOffset);
    const newest = await fetchPartition(c, t, 0, rounds - 1);
    assert.equal(newest.errorCode, 0);
    assert.deepEqual(fetchedRecords(newest).map(([o, k]) => [o, k]), [[
      rounds - 1,
      `k${rounds - 1}`,
    ]]);
    const fromStart = await fetchPartition(c, t, 0, state!.logStartOffset);
    assert.equal(
      fetchedRecords(fromStart)[0][0],
      state!.logStartOffset,
      "the log start is readable",
    );
  }
  const [sa, sb] = await Promise.all(
    [a, b].map((t) => broker.context.meta.partitionState(t.id, 0)),
  );
  assert.ok(
    Math.abs(sa!.logStartOffset - sb!.logStartOffset) <= 2,
    "oldest first across partitions",
  );
  assert.equal(gauge(broker, "skb_log_store_max_bytes"), MAX_BYTES);
  const used = gauge(broker, "skb_log_store_used_bytes") as number;
  assert.ok(used > MAX_BYTES / 2 && used <= MAX_BYTES, `used bytes ${used}`);
  const text = broker.context.metrics.render();
  assert.match(text, new RegExp(`skb_log_store_max_bytes ${MAX_BYTES}`));
});

Deno.test("a compact-only topic filling a bounded memory log store gets a clear error", async () => {
  const log = new MemoryLogStore({ maxBytes: MAX_BYTES });
  await using broker = await testBroker({ log, cleanerIntervalMs: 0, lingerMs: 0 });
  await using c = await WireClient.connect(broker.port);
  const events = await create(c, "events");
  await create(c, "table", { "cleanup.policy": "compact" });
  for (let i = 0; i < 6; i++) assert.equal((await produceOne(c, events.name, i)).errorCode, 0);
  let failed = null;
  for (let i = 0; i < 40 && failed === null; i++) {
    const r = await produceOne(c, "table", i);
    if (r.errorCode !== 0) failed = { i, ...r };
  }
  assert.ok(failed !== null, "the compact topic cannot fill the store for ever");
  assert.equal(failed.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  // The store guard names the step that failed.
  assert.equal(
    failed.errorMessage,
    `log store write failed: memory: log store is full (max-bytes=${MAX_BYTES}): nothing more can be freed; raise max-bytes or use file:`,
  );
  // The delete topic gave up everything but its newest batch first.
  const state = await broker.context.meta.partitionState(events.id, 0);
  assert.deepEqual([state!.logStartOffset, state!.highWatermark], [5, 6]);
  assert.ok(failed.i > 10, `the compact topic got the space freed (${failed.i} records)`);
  // Nothing was dropped from the compact topic.
  const table = await broker.context.meta.getTopic("table");
  const t = await broker.context.meta.partitionState(table!.id, 0);
  assert.deepEqual([t!.logStartOffset, t!.highWatermark], [0, failed.i]);
});

Deno.test("memory: log store URLs take max-bytes, and refuse bad values with the value named", () => {
  assert.equal(openLogStore("memory:").space, undefined);
  assert.equal(openLogStore("memory:?max-bytes=1000").space!.maxBytes, 1000);
  assert.equal(openLogStore("memory:?max-bytes=64k").space!.maxBytes, 64 * 1024);
  assert.equal(openLogStore("memory:?max-bytes=64M").space!.maxBytes, 64 * 1024 * 1024);
  assert.equal(openLogStore("memory:?max-bytes=2g").space!.maxBytes, 2 * 1024 ** 3);
  for (const bad of ["0", "-5", "lots", "1.5m", "12t", ""]) {
    assert.throws(
      () => openLogStore(`memory:?max-bytes=${bad}`),
      (e: Error) =>
        e instanceof StoreUrlError && e.message.includes(`max-bytes ${JSON.stringify(bad)}`),
      bad,
    );
  }
  assert.throws(
    () => openLogStore("memory:?max-size=10"),
    (e: Error) => e instanceof StoreUrlError && e.message.includes(`"max-size"`),
  );
  assert.throws(() => new MemoryLogStore({ maxBytes: 0 }), RangeError);
});

Deno.test("a bounded memory log store refuses a write when nothing frees space", async () => {
  const log = new MemoryLogStore({ maxBytes: 100 });
  await log.write([new Uint8Array(60)]);
  await assert.rejects(
    log.write([new Uint8Array(60)]),
    /memory: log store is full \(max-bytes=100\)/,
  );
  await assert.rejects(log.write([new Uint8Array(101)]), /can never fit/);
  let asked = 0;
  log.space!.onFull = (needed) => {
    asked = needed;
    return Promise.resolve(false);
  };
  await assert.rejects(log.write([new Uint8Array(50)]), /nothing more can be freed/);
  assert.equal(asked, 10);
  assert.equal(log.space!.usedBytes(), 60);
});
