import assert from "node:assert/strict";
import {
  DEFAULT_SESSION_LIMITS,
  FETCH_SESSION_ID_NOT_FOUND,
  FetchSessionCache,
  INVALID_FETCH_SESSION_EPOCH,
  nextEpoch,
  type SessionLimits,
  type SessionPartition,
} from "./fetch_sessions.ts";

function parts(n: number, topicKey = "t"): SessionPartition[] {
  return Array.from({ length: n }, (_, partition) => ({
    topicKey,
    topic: topicKey,
    topicId: topicKey,
    partition,
    fetchOffset: 0,
    partitionMaxBytes: 1024,
    highWatermark: 0,
    lastStableOffset: 0,
    logStartOffset: 0,
  }));
}

function cacheWith(limits: Partial<SessionLimits>) {
  const clock = { now: 0 };
  const cache = new FetchSessionCache(
    () => ({ ...DEFAULT_SESSION_LIMITS, ...limits }),
    () => clock.now,
  );
  return { cache, clock };
}

Deno.test("session epochs wrap from the int32 maximum to 1", () => {
  assert.equal(nextEpoch(0), 1);
  assert.equal(nextEpoch(41), 42);
  assert.equal(nextEpoch(0x7fffffff), 1);
  assert.equal(nextEpoch(-1), -1);
});

Deno.test("a full cache evicts only sessions idle past the eviction time, or smaller old ones", () => {
  const { cache, clock } = cacheWith({ slots: 2, evictionMs: 1000 });
  const a = cache.create(parts(5), true);
  clock.now = 10;
  const b = cache.create(parts(3), true);
  assert.ok(a > 0 && b > 0 && a !== b);
  // Both are new: nothing may be evicted.
  clock.now = 500;
  assert.equal(cache.create(parts(50), true), 0);
  // Using a keeps it recent; past 1 s b (unused since 10) is stale and goes.
  cache.open({ sessionId: a, sessionEpoch: 1, usesTopicIds: true, partitions: [], forgotten: [] });
  clock.now = 1100;
  const c = cache.create(parts(1), true);
  assert.ok(c > 0);
  assert.equal(cache.get(b), undefined);
  assert.equal(cache.evictions, 1);
  // Nothing stale at 1.4 s (a used at 0.5 s, c at 1.1 s); a is older than 1 s and
  // smaller than the newcomer, so it goes; a smaller newcomer evicts nothing.
  clock.now = 1400;
  assert.equal(cache.create(parts(2), true), 0);
  const d = cache.create(parts(6), true);
  assert.ok(d > 0);
  assert.equal(cache.get(a), undefined);
  assert.equal(cache.size, 2);
  assert.equal(cache.partitionCount, 1 + 6);
});

Deno.test("sessions are bounded in partitions, per session and in all", () => {
  const { cache } = cacheWith({ maxPartitionsPerSession: 4, maxPartitions: 6 });
  assert.equal(cache.create(parts(5), true), 0, "over the per-session bound: sessionless");
  const a = cache.create(parts(4), true);
  assert.ok(a > 0);
  assert.equal(cache.create(parts(3, "u"), true), 0, "over the total bound, nothing evictable");
  // Growing past the bound ends the session: the client starts over.
  const grown = cache.open({
    sessionId: a,
    sessionEpoch: 1,
    usesTopicIds: true,
    partitions: parts(1, "v"),
    forgotten: [],
  });
  assert.deepEqual(grown, { kind: "error", errorCode: FETCH_SESSION_ID_NOT_FOUND });
  assert.equal(cache.size, 0);
  assert.equal(cache.partitionCount, 0);
});

Deno.test("an incremental answer holds only changed partitions, and a duplicate gets an epoch error", () => {
  const { cache } = cacheWith({});
  const id = cache.create(parts(3), true);
  const open = () =>
    cache.open({
      sessionId: id,
      sessionEpoch: 1,
      usesTopicIds: true,
      partitions: [],
      forgotten: [],
    });
  const ctx = open();
  assert.equal(ctx.kind, "incremental");
  if (ctx.kind !== "incremental") return;
  // The same epoch again while the first is being read.
  assert.deepEqual(open(), { kind: "error", errorCode: INVALID_FETCH_SESSION_EPOCH });
  const list = [...ctx.session.partitions.values()];
  const same = {
    errorCode: 0,
    highWatermark: 0,
    lastStableOffset: 0,
    logStartOffset: 0,
    recordBytes: 0,
  };
  const include = cache.respond(ctx, list, [
    same,
    { ...same, highWatermark: 7, lastStableOffset: 7 },
    { ...same, errorCode: 3, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1 },
  ]);
  assert.deepEqual(include, [false, true, true]);
  // Answered partitions go to the back of the fetch order.
  assert.deepEqual([...ctx.session.partitions.values()].map((p) => p.partition), [0, 1, 2]);
  assert.equal(list[2].highWatermark, -1, "after an error the next answer is always sent");
  // A stale context (the epoch moved on) answers null.
  cache.open({ sessionId: id, sessionEpoch: 2, usesTopicIds: true, partitions: [], forgotten: [] });
  assert.equal(cache.respond(ctx, list, [same, same, same]), null);
});
