/** The contract every LogStore backend must keep, run by each backend's test file. */

import assert from "node:assert/strict";
import type { LogStore } from "./types.ts";

/** Opens a fresh store; `cleanup` removes what it left behind. */
export interface LogStoreFactory {
  open(): Promise<LogStore>;
  cleanup?: () => Promise<void>;
}

/** Runs the log store contract against one backend. */
export function logStoreConformance(name: string, factory: LogStoreFactory): void {
  chunkBoundaryConformance(name, factory);
  const test = (what: string, fn: (s: LogStore) => Promise<void>) =>
    Deno.test(`${name} log store: ${what}`, async () => {
      const s = await factory.open();
      try {
        await s.ping();
        await fn(s);
      } finally {
        await s.close();
        await factory.cleanup?.();
      }
    });

  test("reads back ranges of what it wrote", async (s) => {
    const a = await s.write([new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])]);
    const b = await s.write([new Uint8Array([9, 8, 7, 6])]);
    assert.notEqual(a, b);
    assert.deepEqual([...await s.read(a, 0, 5)], [1, 2, 3, 4, 5]);
    assert.deepEqual([...await s.read(a, 2, 2)], [3, 4]);
    assert.deepEqual([...await s.read(b, 1, 3)], [8, 7, 6]);
  });

  test("concurrent writes keep their own bytes", async (s) => {
    const keys = await Promise.all(
      Array.from({ length: 50 }, (_, i) => s.write([new Uint8Array(100).fill(i)])),
    );
    for (let i = 0; i < keys.length; i++) {
      assert.deepEqual(await s.read(keys[i], 0, 100), new Uint8Array(100).fill(i));
    }
  });

  test("a read past the end of a blob fails instead of inventing bytes", async (s) => {
    const a = await s.write([new Uint8Array([1])]);
    await assert.rejects(() => s.read(a, 0, 10));
  });

  test("readRanges, where the store has it, joins ranges into a buffer of the caller's own", async (s) => {
    if (!s.readRanges) return;
    // Across written chunks and blobs, large enough for a pooled buffer.
    const a = await s.write([new Uint8Array(100_000).fill(1), new Uint8Array(100_000).fill(2)]);
    const b = await s.write([new Uint8Array(50).fill(3)]);
    const ranges = [
      { blob: a, position: 99_990, length: 20 },
      { blob: b, position: 0, length: 50 },
      { blob: a, position: 0, length: 200_000 },
    ];
    const expected = [
      ...Array(10).fill(1),
      ...Array(10).fill(2),
      ...Array(50).fill(3),
      ...new Uint8Array(100_000).fill(1),
      ...new Uint8Array(100_000).fill(2),
    ];
    const got = await s.readRanges(ranges);
    assert.equal(got.length, expected.length);
    assert.deepEqual([...got], expected);
    // Changing it changes no stored byte.
    got.fill(0);
    assert.deepEqual([...await s.readRanges(ranges)], expected);
    assert.deepEqual([...await s.read(b, 0, 50)], Array(50).fill(3));
    await assert.rejects(() => s.readRanges!([{ blob: b, position: 40, length: 20 }]));
  });

  test("sweep keeps referenced and young blobs", async (s) => {
    const a = await s.write([new Uint8Array([1])]);
    assert.equal(await s.sweep(new Set(), 60_000), 0);
    assert.deepEqual([...await s.read(a, 0, 1)], [1]);
    await s.sweep(new Set([a]), 0);
    assert.deepEqual([...await s.read(a, 0, 1)], [1]);
  });
}

/** Reads that span the chunks a blob was written from (run by logStoreConformance). */
export function chunkBoundaryConformance(name: string, factory: LogStoreFactory): void {
  Deno.test(`${name} log store: reads across and within written chunks`, async () => {
    const s = await factory.open();
    try {
      const a = await s.write([
        new Uint8Array([1, 2]),
        new Uint8Array([3, 4, 5]),
        new Uint8Array(0),
        new Uint8Array([6]),
      ]);
      assert.deepEqual([...await s.read(a, 1, 4)], [2, 3, 4, 5]);
      assert.deepEqual([...await s.read(a, 2, 3)], [3, 4, 5]);
      assert.deepEqual([...await s.read(a, 4, 2)], [5, 6]);
      assert.deepEqual([...await s.read(a, 5, 1)], [6]);
      assert.deepEqual([...await s.read(a, 0, 6)], [1, 2, 3, 4, 5, 6]);
    } finally {
      await s.close();
      await factory.cleanup?.();
    }
  });
}
