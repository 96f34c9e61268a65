import assert from "node:assert/strict";
import { FramePool, POOLED_MIN_BYTES, sizeClass } from "./frame_pool.ts";

Deno.test("frame pool: size classes waste at most a quarter and start at the pooled minimum", () => {
  assert.equal(sizeClass(1), POOLED_MIN_BYTES);
  assert.equal(sizeClass(1 << 20), 1 << 20);
  assert.equal(sizeClass((1 << 20) + 1), 1.25 * (1 << 20));
  assert.equal(sizeClass(48 * 1024 * 1024), 48 * 1024 * 1024);
  for (const n of [200_000, 1_000_001, 3_333_333, 50_000_000, 70_123_456]) {
    const c = sizeClass(n);
    assert.ok(c >= n && c <= n * 1.25 + 1, `${n} -> ${c}`);
  }
});

Deno.test("frame pool: a buffer given back is reused, never lent twice at once, given back once", () => {
  const pool = new FramePool(8 << 20);
  const a = pool.take(1 << 20);
  const b = pool.take(1 << 20);
  assert.notEqual(a.buffer, b.buffer, "two frames in use never share a buffer");
  assert.ok(pool.isLent(a.subarray(0, 10)));
  pool.give(a.subarray(0, 100)); // the frame is a view of the buffer's start
  assert.equal(pool.idleBytes, 1 << 20);
  assert.ok(!pool.isLent(a));
  pool.give(a); // a second give changes nothing
  assert.equal(pool.idleBytes, 1 << 20);
  const c = pool.take(1_000_000);
  assert.equal(c.buffer, a.buffer, "the warm buffer is taken again");
  assert.equal(pool.idleBytes, 0);
  const d = pool.take(1 << 20);
  assert.notEqual(d.buffer, a.buffer, "and not handed to anyone else while lent");
  pool.give(new Uint8Array(1 << 20)); // not the pool's: ignored
  assert.equal(pool.idleBytes, 0);
});

Deno.test("frame pool: frames above the pooled size get buffers of their own", () => {
  const pool = new FramePool(8 << 20, 4 << 20);
  const big = pool.take((4 << 20) + 1);
  assert.equal(big.length, (4 << 20) + 1, "exactly the size asked for");
  assert.ok(!pool.isLent(big));
  pool.give(big);
  assert.equal(pool.idleBytes, 0);
  assert.ok(pool.isLent(pool.take(4 << 20)));
});

Deno.test("frame pool: keeps no more idle bytes than its bound", () => {
  const pool = new FramePool(3 << 20);
  const frames = [1, 2, 3, 4, 5].map(() => pool.take(1 << 20));
  for (const f of frames) pool.give(f);
  assert.equal(pool.idleBytes, 3 << 20, "two of five dropped for the garbage collector");
  for (let i = 0; i < 3; i++) pool.take(1 << 20);
  assert.equal(pool.idleBytes, 0);
});
