import assert from "node:assert/strict";
import { join } from "node:path";
import { batch, metaStoreConformance } from "../meta_conformance.ts";
import { SqliteMetaStore } from "./sqlite.ts";

let dir = "";
metaStoreConformance("sqlite", {
  open: async () => {
    dir = await Deno.makeTempDir({ prefix: "skb-sqlite-" });
    return new SqliteMetaStore(join(dir, "meta.db"));
  },
  reopen: () => Promise.resolve(new SqliteMetaStore(join(dir, "meta.db"))),
  second: () => Promise.resolve(new SqliteMetaStore(join(dir, "meta.db"))),
  cleanup: () => Deno.remove(dir, { recursive: true }),
});

Deno.test("sqlite meta store: two handles on one file never assign the same offset", async () => {
  const d = await Deno.makeTempDir({ prefix: "skb-sqlite-" });
  const a = new SqliteMetaStore(join(d, "meta.db"));
  const b = new SqliteMetaStore(join(d, "meta.db"));
  try {
    const t = (await a.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const offsets: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = i % 2 === 0 ? a : b;
      const [r] = await s.commitBatches(`x${i}`, [{
        topicId: t.id,
        partition: 0,
        position: 0,
        length: 10,
        recordCount: 2,
        baseTimestamp: 0,
        maxTimestamp: 0,
        producerId: -1,
        producerEpoch: -1,
        baseSequence: -1,
        isTransactional: false,
      }]);
      offsets.push(r.baseOffset);
    }
    assert.deepEqual(offsets, Array.from({ length: 50 }, (_, i) => i * 2));
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("sqlite meta store: readIndex continues past its first page of rows", async () => {
  const d = await Deno.makeTempDir({ prefix: "skb-sqlite-" });
  const s = new SqliteMetaStore(join(d, "meta.db"));
  try {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    for (let i = 0; i < 300; i++) {
      await s.commitBatches(`b${i}`, [batch(t.id, 0, { recordCount: 2 })]);
    }
    // From inside the batch at offsets 20-21, up to 250 batches' worth of bytes.
    const some = await s.readIndex(t.id, 0, 21, 250 * 100);
    assert.equal(some.length, 250);
    assert.deepEqual(
      some.map((e) => e.baseOffset),
      Array.from({ length: 250 }, (_, i) => 20 + 2 * i),
    );
    // Everything from offset 0: all 300 entries, in order.
    const all = await s.readIndex(t.id, 0, 0, 1 << 30);
    assert.deepEqual(all.map((e) => e.blob), Array.from({ length: 300 }, (_, i) => `b${i}`));
  } finally {
    await s.close();
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("sqlite meta store: the write-ahead log is checkpointed in the background", async () => {
  const d = await Deno.makeTempDir({ prefix: "skb-sqlite-" });
  const s = new SqliteMetaStore(join(d, "meta.db"));
  try {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    const commit = (i: number) => s.commitBatches(`b${i}`, [batch(t.id, 0, { recordCount: 1 })]);
    // Far fewer pages than the writer's own checkpoint threshold.
    for (let i = 0; i < 200; i++) await commit(i);
    const frames = () =>
      (s.db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as { log: number }).log;
    // Once the worker has copied the log back, the next commit starts the log over.
    await new Promise((r) => setTimeout(r, 1000));
    await commit(200);
    assert.ok(frames() < 50, `the log still holds ${frames()} frames`);
  } finally {
    await s.close();
    await Deno.remove(d, { recursive: true });
  }
});
