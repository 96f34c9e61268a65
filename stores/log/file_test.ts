import assert from "node:assert/strict";
import { logStoreConformance } from "../log_conformance.ts";
import { FileLogStore } from "./file.ts";

let dir = "";
logStoreConformance("file", {
  open: async () => {
    dir = await Deno.makeTempDir({ prefix: "skb-file-" });
    return new FileLogStore(dir, { segmentBytes: 1024 });
  },
  cleanup: () => Deno.remove(dir, { recursive: true }),
});

Deno.test("file log store: appends to segments instead of a file per flush, and sweeps dead ones", async () => {
  const d = await Deno.makeTempDir({ prefix: "skb-file-" });
  const s = new FileLogStore(d, { segmentBytes: 250 });
  try {
    const keys: string[] = [];
    for (let i = 0; i < 10; i++) keys.push(await s.write([new Uint8Array(100).fill(i)]));
    const files = [...Deno.readDirSync(d)].filter((e) => e.name.endsWith(".seg"));
    assert.ok(files.length >= 3 && files.length <= 4, `expected 3-4 segments, got ${files.length}`);
    // Keep only the last blob referenced: every older, closed segment goes.
    const removed = await s.sweep(new Set([keys[9]]), 0);
    assert.equal(removed, files.length - 1);
    assert.deepEqual(await s.read(keys[9], 0, 100), new Uint8Array(100).fill(9));
    await assert.rejects(() => s.read(keys[0], 0, 100));
  } finally {
    await s.close();
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("file log store: reads asked for together are each served their own bytes", async () => {
  const d = await Deno.makeTempDir({ prefix: "skb-file-" });
  const s = new FileLogStore(d, { segmentBytes: 4000 });
  try {
    const keys: string[] = [];
    for (let i = 0; i < 30; i++) keys.push(await s.write([new Uint8Array(100 + i).fill(i)]));
    // Whole blobs, parts of blobs, one range twice, and one past the end of its segment.
    const asks: [string, number, number, number][] = [];
    for (let i = 29; i >= 0; i--) asks.push([keys[i], 0, 100 + i, i]);
    asks.push([keys[7], 5, 20, 7], [keys[7], 5, 20, 7], [keys[12], 100, 12, 12]);
    const reads = asks.map(([k, p, n]) => s.read(k, p, n));
    const beyond = s.read(keys[29], 0, 10_000);
    const got = await Promise.all(reads);
    asks.forEach(([, , n, fill], i) => assert.deepEqual(got[i], new Uint8Array(n).fill(fill)));
    await assert.rejects(() => beyond);
  } finally {
    await s.close();
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("file log store: readRanges puts ranges of several segments back to back in a buffer of the caller's own", async () => {
  const d = await Deno.makeTempDir({ prefix: "skb-file-" });
  const s = new FileLogStore(d, { segmentBytes: 1000 });
  try {
    const keys: string[] = [];
    for (let i = 0; i < 12; i++) keys.push(await s.write([new Uint8Array(300).fill(i)]));
    assert.ok(new Set(keys.map((k) => k.split("@")[0])).size >= 3, "the blobs span segments");
    // Whole blobs end to end (one file read), parts of blobs, and a blob of another segment.
    const ranges = [
      { blob: keys[0], position: 0, length: 300 },
      { blob: keys[1], position: 0, length: 300 },
      { blob: keys[2], position: 10, length: 5 },
      { blob: keys[9], position: 299, length: 1 },
      { blob: keys[11], position: 0, length: 300 },
    ];
    const expected = ranges.flatMap((r) => {
      const i = keys.indexOf(r.blob);
      return Array(r.length).fill(i);
    });
    const got = await s.readRanges(ranges);
    assert.deepEqual([...got], expected);
    // The caller's own: changing it changes nothing another read sees.
    got.fill(99);
    assert.deepEqual([...await s.readRanges(ranges)], expected);
    assert.deepEqual(await s.read(keys[0], 0, 300), new Uint8Array(300).fill(0));
    // Bytes a segment does not have, and a blob key not of this store, are refused.
    await assert.rejects(() => s.readRanges([{ blob: keys[11], position: 200, length: 200 }]));
    await assert.rejects(() => s.readRanges([{ blob: "../x.seg@0", position: 0, length: 1 }]));
    await assert.rejects(() => s.readRanges([{ blob: "nonsense", position: 0, length: 1 }]));
  } finally {
    await s.close();
    await Deno.remove(d, { recursive: true });
  }
});
