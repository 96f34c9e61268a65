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
