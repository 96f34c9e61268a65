import assert from "node:assert/strict";
import {
  acknowledge,
  AckType,
  acquire,
  clampToLog,
  DEFAULT_SHARE_SETTINGS,
  newSharePartition,
  releaseMember,
  type ShareSettings,
} from "./share_partition_state.ts";

const cfg: ShareSettings = { ...DEFAULT_SHARE_SETTINGS, lockDurationMs: 1000, deliveryLimit: 3 };

Deno.test("share-partition: an expired acquisition lock releases records for the next acquire, up to the delivery limit", () => {
  let s = newSharePartition(0);
  let r = acquire(s, "a", 10, 5, 0, cfg);
  assert.deepEqual(r.acquired, [{ firstOffset: 0, lastOffset: 4, deliveryCount: 1 }]);
  s = r.state;
  // Before the deadline nothing is free for b.
  assert.deepEqual(acquire(s, "b", 10, 5, 999, cfg).acquired, []);
  // At the deadline a's lock is gone: b gets them, delivery count 2; a can no longer acknowledge.
  r = acquire(s, "b", 10, 5, 1000, cfg);
  assert.deepEqual(r.acquired, [{ firstOffset: 0, lastOffset: 4, deliveryCount: 2 }]);
  s = r.state;
  assert.notEqual(
    acknowledge(s, "a", [{ firstOffset: 0, lastOffset: 4, acknowledgeTypes: [1] }], 1001, cfg)
      .error,
    null,
  );
  s = acquire(s, "c", 10, 5, 2000, cfg).state; // third delivery
  // The third lock expires: the limit (3) is reached, so the records are archived, not redelivered.
  r = acquire(s, "d", 10, 5, 3000, cfg);
  assert.deepEqual(r.acquired, []);
  assert.deepEqual(r.state, { start: 5, end: 5, ranges: [] });
});

Deno.test("share-partition: per-offset acknowledgements split and merge ranges; the start moves past finished ones", () => {
  let s = acquire(newSharePartition(10), "a", 6, 100, 0, cfg).state;
  const r = acknowledge(
    s,
    "a",
    [{
      firstOffset: 10,
      lastOffset: 15,
      acknowledgeTypes: [
        AckType.ACCEPT,
        AckType.GAP,
        AckType.RELEASE,
        AckType.ACCEPT,
        AckType.REJECT,
        AckType.RENEW,
      ],
    }],
    500,
    cfg,
  );
  assert.equal(r.error, null);
  s = r.state;
  assert.equal(s.start, 12, "10 accepted and 11 a gap: done");
  assert.deepEqual(s.ranges.map((x) => [x.first, x.last, x.state, x.deadlineMs ?? null]), [
    [12, 12, "available", null],
    [13, 13, "acknowledged", null],
    [14, 14, "archived", null],
    [15, 15, "acquired", 1500],
  ]);
  // Malformed batches change nothing.
  assert.notEqual(
    acknowledge(s, "a", [{ firstOffset: 15, lastOffset: 16, acknowledgeTypes: [1, 1, 1] }], 0, cfg)
      .error,
    null,
  );
  // Releasing the member: 15 becomes available; 12 and 15 go to b next, 16.. are new.
  s = releaseMember(s, "a", 600, cfg);
  const b = acquire(s, "b", 4, 100, 700, cfg);
  assert.deepEqual(b.acquired, [
    { firstOffset: 12, lastOffset: 12, deliveryCount: 2 },
    { firstOffset: 15, lastOffset: 15, deliveryCount: 2 },
    { firstOffset: 16, lastOffset: 17, deliveryCount: 1 },
  ]);
});

Deno.test("share-partition: the in-flight window is bounded, and records below the log start are dropped", () => {
  const small = { ...cfg, maxInFlight: 4 };
  let r = acquire(newSharePartition(0), "a", 100, 100, 0, small);
  assert.deepEqual(r.acquired, [{ firstOffset: 0, lastOffset: 3, deliveryCount: 1 }]);
  assert.deepEqual(acquire(r.state, "b", 100, 100, 0, small).acquired, []);
  const s = clampToLog(r.state, 2);
  assert.equal(s.start, 2);
  r = acquire(s, "b", 100, 100, 0, small);
  assert.deepEqual(r.acquired, [{ firstOffset: 4, lastOffset: 5, deliveryCount: 1 }]);
  // A high watermark read behind the share-partition's end (a stale read) changes nothing:
  // what is acquired stays acquired, and nothing new is acquired past that high watermark.
  const before = structuredClone(r.state);
  assert.deepEqual(clampToLog(r.state, 0), before);
  const stale = acquire(r.state, "c", 100, 3, 0, cfg);
  assert.deepEqual(stale.acquired, []);
  assert.deepEqual(
    stale.state.ranges.filter((x) => x.state === "acquired"),
    before.ranges.filter((x) => x.state === "acquired"),
  );
});
