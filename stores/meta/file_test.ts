import assert from "node:assert/strict";
import { join } from "node:path";
import { batch, marker, metaStoreConformance } from "../meta_conformance.ts";
import { openMetaStore, StoreUrlError } from "../registry.ts";
import { FileMetaStore } from "./file.ts";
import { DirectoryLockedError } from "./dir_lock.ts";

let dir = "";
metaStoreConformance("file", {
  open: async () => {
    dir = await Deno.makeTempDir({ prefix: "skb-filemeta-" });
    return new FileMetaStore(join(dir, "meta"));
  },
  reopen: () => Promise.resolve(new FileMetaStore(join(dir, "meta"))),
  cleanup: () => Deno.remove(dir, { recursive: true }),
});

/** A temporary directory, removed on dispose. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "skb-filemeta-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/**
 * A child `deno` process running `code` with `FileMetaStore` in scope, its
 * stdout read line by line.
 */
function child(code: string) {
  const module = new URL("./file.ts", import.meta.url).href;
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { FileMetaStore } from ${JSON.stringify(module)};\n${code}`],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).values();
  let buffered = "";
  const stderr = new Response(proc.stderr).text();
  /** The next line the child prints (it fails once the child has exited). */
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const r = await lines.next();
      if (r.done) throw new Error(`The child exited: ${await stderr}`);
      buffered += r.value;
    }
  };
  return { proc, nextLine, stderr };
}

Deno.test("file meta store: groups, offsets and producer ids survive close and reopen", async () => {
  await using d = await tempDir();
  const a = new FileMetaStore(d.path);
  const t = (await a.createTopic({ name: "t", partitions: 2, configs: { "x": "1" } }))!;
  const tx = { transactionalId: "tx", transactionTimeoutMs: 1, producerId: -1, producerEpoch: -1 };
  const pid = await a.initProducerId(tx);
  await a.commitBatches("b1", [
    batch(t.id, 0, { producerId: pid.producerId, producerEpoch: 0, baseSequence: 0 }),
  ]);
  await a.putGroup("g", 0, '{"s":1}');
  await a.commitOffsets("g", [{
    topic: "t",
    partition: 1,
    offset: 7,
    leaderEpoch: 2,
    metadata: null,
    commitTimestamp: 5,
  }]);
  await a.clusterId("c1");
  await a.close();

  const b = new FileMetaStore(d.path);
  try {
    assert.equal(await b.clusterId("c2"), "c1");
    assert.deepEqual(await b.getTopicById(t.id), t);
    assert.deepEqual(await b.readIndex(t.id, 0, 0, 1 << 20), [
      { baseOffset: 0, lastOffset: 9, blob: "b1", position: 0, length: 100, maxTimestamp: 1009 },
    ]);
    const retry = await b.commitBatches("b2", [
      batch(t.id, 0, { producerId: pid.producerId, producerEpoch: 0, baseSequence: 0 }),
    ]);
    assert.equal(retry[0].duplicate, true, "producer state is kept");
    const again = await b.initProducerId(tx);
    assert.deepEqual([again.producerId, again.producerEpoch], [pid.producerId, 1]);
    assert.deepEqual(await b.getGroup("g"), { version: 1, state: '{"s":1}' });
    assert.equal((await b.fetchOffsets("g", null))[0].offset, 7);
  } finally {
    await b.close();
  }
});

Deno.test("file meta store: a checkpoint replaces the journals and keeps the state", async () => {
  await using d = await tempDir();
  let topicId = "";
  // Each open starts a journal file; enough of them make the next change checkpoint.
  for (let i = 0; i < 20; i++) {
    const s = new FileMetaStore(d.path);
    topicId ||= (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!.id;
    await s.commitBatches(`b${i}`, [batch(topicId, 0)]);
    await s.close();
  }
  const names = [...Deno.readDirSync(d.path)].map((e) => e.name);
  assert.ok(names.includes("snapshot.json"), names.join(" "));
  assert.ok(names.filter((n) => n.startsWith("journal-")).length < 10, names.join(" "));
  const s = new FileMetaStore(d.path);
  try {
    assert.equal((await s.partitionState(topicId, 0))?.highWatermark, 200);
    assert.equal((await s.readIndex(topicId, 0, 0, 1 << 20)).length, 20);
  } finally {
    await s.close();
  }
});

Deno.test("file meta store: a second open of the directory is refused until the first closes", async () => {
  await using d = await tempDir();
  const a = new FileMetaStore(d.path);
  assert.throws(() => new FileMetaStore(d.path), DirectoryLockedError);
  await a.close();
  await (new FileMetaStore(d.path)).close();
});

Deno.test("file meta store: another process is refused with a message naming the directory", async () => {
  await using d = await tempDir();
  const a = openMetaStore(`file:${d.path}`);
  try {
    const c = child(`
      try {
        new FileMetaStore(${JSON.stringify(d.path)});
        console.log("opened");
      } catch (e) {
        console.log(e.message);
        Deno.exit(3);
      }`);
    const message = await c.nextLine();
    assert.equal((await c.proc.status).code, 3, await c.stderr);
    assert.ok(message.includes(JSON.stringify(d.path)), message);
    assert.ok(message.includes(`another process (pid ${Deno.pid}) holds its lock`), message);
  } finally {
    await a.close();
  }
});

Deno.test("file meta store: the lock of a killed process does not block the next open", async () => {
  await using d = await tempDir();
  const c = child(`
    new FileMetaStore(${JSON.stringify(d.path)});
    console.log("open");
    setInterval(() => {}, 1000);`);
  assert.equal(await c.nextLine(), "open");
  assert.throws(() => new FileMetaStore(d.path), DirectoryLockedError);
  c.proc.kill("SIGKILL");
  await c.proc.status;
  await c.stderr;
  await (new FileMetaStore(d.path)).close();
});

Deno.test("file meta store: commits acknowledged before a SIGKILL are there after reopen", async () => {
  await using d = await tempDir();
  const c = child(`
    const s = new FileMetaStore(${JSON.stringify(d.path)});
    const t = await s.createTopic({ name: "t", partitions: 1, configs: {} });
    console.log(t.id);
    for (let i = 0; ; i++) {
      const [r] = await s.commitBatches("b" + i, [{
        topicId: t.id, partition: 0, position: i, length: 10, recordCount: 1,
        baseTimestamp: 0, maxTimestamp: i, producerId: -1, producerEpoch: -1,
        baseSequence: -1, isTransactional: false,
      }]);
      console.log(r.baseOffset);
    }`);
  const topicId = await c.nextLine();
  let acknowledged = -1;
  while (acknowledged < 300) acknowledged = Number(await c.nextLine());
  c.proc.kill("SIGKILL");
  await c.proc.status;
  await c.stderr;
  const s = new FileMetaStore(d.path);
  try {
    const hw = (await s.partitionState(topicId, 0))!.highWatermark;
    assert.ok(hw > acknowledged, `high watermark ${hw}, acknowledged ${acknowledged}`);
    const idx = await s.readIndex(topicId, 0, acknowledged, 1);
    assert.deepEqual([idx[0].baseOffset, idx[0].blob], [acknowledged, `b${acknowledged}`]);
  } finally {
    await s.close();
  }
});

Deno.test("file meta store: ?fsync=true acknowledges after the journal is synced", async () => {
  await using d = await tempDir();
  const s = openMetaStore(`file://${d.path}?fsync=true`);
  const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => s.commitBatches(`b${i}`, [batch(t.id, 0)])),
  );
  assert.deepEqual(
    results.map((r) => r[0].baseOffset),
    Array.from({ length: 20 }, (_, i) => i * 10),
  );
  await s.close();
  const again = new FileMetaStore(d.path);
  assert.equal((await again.partitionState(t.id, 0))?.highWatermark, 200);
  await again.close();
});

Deno.test("file meta store: checkpoints taken while commits flow lose none of them", async () => {
  await using d = await tempDir();
  for (const fsync of [false, true]) {
    const s = new FileMetaStore(join(d.path, String(fsync)), { fsync, checkpointBytes: 2000 });
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => s.commitBatches(`b${round}-${i}`, [batch(t.id, 0)])),
      );
    }
    await s.close();
    const names = [...Deno.readDirSync(join(d.path, String(fsync)))].map((e) => e.name);
    assert.ok(names.includes("snapshot.json"), names.join(" "));
    const again = new FileMetaStore(join(d.path, String(fsync)));
    try {
      assert.equal((await again.partitionState(t.id, 0))?.highWatermark, 2000);
      const idx = await again.readIndex(t.id, 0, 0, 1 << 30);
      assert.deepEqual(idx.map((e) => e.baseOffset), Array.from({ length: 200 }, (_, i) => i * 10));
    } finally {
      await again.close();
    }
  }
});

Deno.test("file meta store: a path that cannot be a directory is refused with its name", async () => {
  await using d = await tempDir();
  const path = join(d.path, "plain-file");
  await Deno.writeTextFile(path, "");
  assert.throws(() => openMetaStore(`file:${path}`), (e: Error) => {
    assert.ok(e instanceof StoreUrlError);
    assert.ok(
      e.message.startsWith(`Cannot open file meta store at ${JSON.stringify(path)}`),
      e.message,
    );
    return true;
  });
});

Deno.test("file meta store: a checkpoint keeps open transactions, aborted ranges and coordinator records", async () => {
  await using d = await tempDir();
  const a = new FileMetaStore(d.path, { checkpointBytes: 1 });
  const t = (await a.createTopic({ name: "t", partitions: 1, configs: {} }))!;
  const p = await a.initProducerId({
    transactionalId: "tx",
    transactionTimeoutMs: 1,
    producerId: -1,
    producerEpoch: -1,
  });
  const txn = { producerId: p.producerId, producerEpoch: 0, isTransactional: true };
  await a.commitBatches("b1", [batch(t.id, 0, { ...txn, baseSequence: 0 })]);
  await a.commitBatches("b2", [marker(t.id, 0, p.producerId, 0, 0)]);
  await a.commitBatches("b3", [batch(t.id, 0, { ...txn, baseSequence: 10 })]);
  await a.putTransaction("tx", 0, "rec");
  // Many journals make the next change checkpoint.
  await a.close();
  for (let i = 0; i < 20; i++) {
    const s = new FileMetaStore(d.path, { checkpointBytes: 1 });
    await s.registerBroker({ nodeId: 1, host: "h", port: i, rack: null, expiresAtMs: 0 });
    await s.close();
  }
  assert.ok([...Deno.readDirSync(d.path)].some((e) => e.name === "snapshot.json"));
  const b = new FileMetaStore(d.path);
  try {
    assert.deepEqual(await b.partitionState(t.id, 0), {
      logStartOffset: 0,
      highWatermark: 21,
      lastStableOffset: 11,
    });
    assert.deepEqual(await b.abortedTransactions(t.id, 0, 0, 100), [
      { producerId: p.producerId, firstOffset: 0, lastOffset: 10 },
    ]);
    assert.equal((await b.producerStates(t.id, 0))[0].currentTxnStartOffset, 11);
    assert.deepEqual(await b.getTransaction("tx"), { version: 1, state: "rec" });
  } finally {
    await b.close();
  }
});
