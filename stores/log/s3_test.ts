import assert from "node:assert/strict";
import { logStoreConformance } from "../log_conformance.ts";
import { type S3Server, startS3Server } from "../../tests/servers/s3_server.ts";
import { parseS3Url, S3LogStore } from "./s3.ts";
import { openLogStore, StoreUrlError } from "../registry.ts";
import { startFaultProxy } from "../../tests/servers/fault_proxy.ts";

// Each test gets its own server, so nothing is left running when one fails.
let server: S3Server | null = null;
logStoreConformance("s3", {
  open: async () => {
    server = await startS3Server();
    await server.createBucket("skb-conformance");
    return new S3LogStore(server.url("skb-conformance", "log"), {
      credentials: server.credentials,
    });
  },
  cleanup: async () => {
    await server?.[Symbol.asyncDispose]();
    server = null;
  },
});

Deno.test("s3 log store: one object per write under the prefix, never overwritten", async () => {
  await using s3 = await startS3Server();
  await s3.createBucket("skb-objects");
  const store = new S3LogStore(s3.url("skb-objects", "a/b"), { credentials: s3.credentials });
  const other = new S3LogStore(s3.url("skb-objects", "other"), { credentials: s3.credentials });
  try {
    await store.ping();
    const keys = await Promise.all([1, 2, 3].map((i) => store.write([new Uint8Array([i])])));
    assert.equal(new Set(keys).size, 3);
    for (const k of keys) assert.match(k, /^\d{15}-[0-9a-f]{16}$/);
    const foreign = await other.write([new Uint8Array([9])]);
    // Read once, so their blocks are cached.
    for (const [i, k] of keys.entries()) assert.deepEqual([...await store.read(k, 0, 1)], [i + 1]);
    // Nothing referenced, no grace: only this prefix's objects go, and their
    // cached blocks with them.
    assert.equal(await store.sweep(new Set([keys[0]]), 0), 2);
    assert.deepEqual([...await store.read(keys[0], 0, 1)], [1]);
    await assert.rejects(() => store.read(keys[1], 0, 1));
    await assert.rejects(() => store.read(keys[2], 0, 1));
    assert.deepEqual([...await other.read(foreign, 0, 1)], [9]);
    // The conditional PUT the store relies on: a second PUT of the same key is refused.
    const { S3Client, PutObjectCommand } = await import("@aws-sdk/client-s3");
    const raw = new S3Client({
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    try {
      await assert.rejects(
        () =>
          raw.send(
            new PutObjectCommand({
              Bucket: "skb-objects",
              Key: `a/b/${keys[0]}`,
              Body: new Uint8Array([7]),
              IfNoneMatch: "*",
            }),
          ),
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(e.$metadata?.httpStatusCode, 412);
          return true;
        },
      );
    } finally {
      raw.destroy();
    }
    assert.deepEqual([...await store.read(keys[0], 0, 1)], [1]);
  } finally {
    await store.close();
    await other.close();
  }
});

Deno.test("s3 log store: fails while the server is down and works again once it is back", async () => {
  await using s3 = await startS3Server();
  await s3.createBucket("skb-outage");
  const store = new S3LogStore(s3.url("skb-outage"), {
    credentials: s3.credentials,
    maxAttempts: 2,
    requestTimeoutMs: 3000,
    connectTimeoutMs: 1000,
  });
  try {
    const before = await store.write([new Uint8Array([1, 2, 3])]);
    await s3.stop();
    const started = Date.now();
    await assert.rejects(() => store.write([new Uint8Array([4])]));
    await assert.rejects(() => store.read(before, 0, 3));
    await assert.rejects(() => store.ping());
    assert.ok(Date.now() - started < 15000, "failures must come quickly");
    await s3.start();
    if (s3.kind === "moto") await s3.createBucket("skb-outage"); // moto forgets everything
    await store.ping();
    const after = await store.write([new Uint8Array([5, 6])]);
    assert.deepEqual([...await store.read(after, 0, 2)], [5, 6]);
    if (s3.kind === "minio") assert.deepEqual([...await store.read(before, 0, 3)], [1, 2, 3]);
  } finally {
    await store.close();
  }
});

Deno.test("s3 log store: ping says when the bucket is missing", async () => {
  await using s3 = await startS3Server();
  const store = new S3LogStore(s3.url("skb-missing"), { credentials: s3.credentials });
  try {
    await assert.rejects(() => store.ping(), /does not exist; create it/);
  } finally {
    await store.close();
  }
});

Deno.test("s3 log store: URL parsing", () => {
  const u = parseS3Url(
    "s3://my-bucket/a/b/?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-3&force_path_style=true",
  );
  assert.deepEqual(u, {
    bucket: "my-bucket",
    prefix: "a/b",
    region: "eu-west-3",
    endpoint: "http://127.0.0.1:9000",
    forcePathStyle: true,
  });
  assert.equal(parseS3Url("s3://my-bucket?region=x").prefix, "");
  assert.throws(() => openLogStore("s3://My_Bucket/x"), StoreUrlError);
  assert.throws(() => openLogStore("s3://bucket/x?secret_key=abc"), (e: Error) => {
    assert.ok(e instanceof StoreUrlError);
    assert.match(e.message, /unknown parameter/);
    assert.ok(!e.message.includes("abc"), e.message);
    return true;
  });
});

Deno.test("s3 log store: errors and unanswered requests fail within the timeout, aborted", async () => {
  await using s3 = await startS3Server();
  await s3.createBucket("skb-deadline");
  await using proxy = await startFaultProxy(s3.endpoint);
  const timeoutMs = 1500;
  const store = new S3LogStore(
    s3.url("skb-deadline").replace(
      encodeURIComponent(s3.endpoint),
      encodeURIComponent(proxy.endpoint),
    ),
    { credentials: s3.credentials, timeoutMs },
  );
  try {
    const before = await store.write([new Uint8Array([1, 2, 3])]);
    for (const mode of ["slowdown", "internal-error", "hang"] as const) {
      proxy.setMode(mode);
      const seen = proxy.requests.length;
      for (
        const call of [() => store.write([new Uint8Array([4])]), () => store.read(before, 0, 3)]
      ) {
        const started = performance.now();
        // An S3 error, or the deadline when the SDK's backoff after SlowDown outlasts it.
        await assert.rejects(
          call,
          mode === "hang"
            ? /timed out: no successful answer within 1500 ms/
            : /HTTP 50[03]|timed out/,
        );
        const took = performance.now() - started;
        // The SDK's retries happen within the deadline, not on top of it.
        assert.ok(took < timeoutMs + 500, `${mode}: failed after ${took} ms`);
      }
      if (mode === "hang") {
        // The store gave up on the requests it sent, it did not leave them open.
        await new Promise((r) => setTimeout(r, 200));
        const held = proxy.requests.slice(seen);
        assert.ok(held.some((r) => r.method === "PUT" && r.outcome === "abandoned"));
        assert.ok(held.some((r) => r.method === "GET" && r.outcome === "abandoned"));
      }
    }
    proxy.setMode("forward");
    const after = await store.write([new Uint8Array([5])]);
    assert.deepEqual([...await store.read(after, 0, 1)], [5]);
    assert.deepEqual([...await store.read(before, 0, 3)], [1, 2, 3]);
  } finally {
    await store.close();
  }
});

Deno.test("s3 log store: reads asked for together share ranged GETs, with read-ahead and a block cache", async () => {
  await using s3 = await startS3Server();
  await s3.createBucket("skb-coalesce");
  const url = s3.url("skb-coalesce", "c");
  // A flush's object: six partitions' batches back to back, 10,000 bytes each.
  const chunks = Array.from({ length: 6 }, (_, i) => new Uint8Array(10_000).fill(i + 1));
  const writer = new S3LogStore(url, { credentials: s3.credentials });
  const blob = await writer.write(chunks);
  const small = await writer.write([new Uint8Array([1, 2, 3])]);
  await writer.close();
  const expect = (i: number, from: number, length: number, got: Uint8Array) => {
    assert.equal(got.length, length);
    assert.ok(got.every((b) => b === i + 1), `bytes of chunk ${i} at ${from}`);
  };

  // Default blocks (1 MiB): a fetch's six ranges of one object cost one GET,
  // and the same ranges read again later cost none. The GETs are counted where
  // they reach the server too, by a forwarding proxy in front of it.
  await using proxy = await startFaultProxy(s3.endpoint);
  const store = new S3LogStore(
    url.replace(encodeURIComponent(s3.endpoint), encodeURIComponent(proxy.endpoint)),
    { credentials: s3.credentials },
  );
  const served = () => proxy.requests.filter((r) => r.method === "GET").length;
  try {
    const got = await Promise.all(chunks.map((_, i) => store.read(blob, i * 10_000, 10_000)));
    got.forEach((g, i) => expect(i, i * 10_000, 10_000, g));
    assert.equal(store.readStats.gets, 1);
    assert.equal(store.readStats.getBytes, 60_000, "the GET returned the object, no more");
    for (let i = 5; i >= 0; i--) {
      expect(i, i * 10_000, 10_000, await store.read(blob, i * 10_000, 10_000));
    }
    assert.equal(store.readStats.gets, 1, "later reads of the object came from the block");
    assert.equal(served(), 1);
    // Two objects are two GETs; a read past an object's end fails.
    assert.deepEqual([...await store.read(small, 1, 2)], [2, 3]);
    assert.equal(store.readStats.gets, 2);
    await assert.rejects(() => store.read(small, 2, 5), /ends before byte 7/);
    await assert.rejects(() => store.read(blob, 59_999, 2), /ends before byte 60001/);
    assert.equal(served(), store.readStats.gets);
  } finally {
    await store.close();
  }

  // Small blocks, no cache: neighbouring blocks asked for together are one GET,
  // which reads ahead as many bytes as were asked for.
  const bare = new S3LogStore(url, {
    credentials: s3.credentials,
    readBlockBytes: 4096,
    readCacheBytes: 0,
  });
  try {
    expect(0, 0, 4096, await bare.read(blob, 0, 4096));
    assert.deepEqual([bare.readStats.gets, bare.readStats.getBytes], [1, 8192]);
    // 5,000 bytes from 5,000 (blocks 1-2, read-ahead 3-4) and 6,000 from 10,000 (blocks 2-3,
    // read-ahead 4-5) asked for together: one GET of blocks 1 to 5.
    const [a, b] = await Promise.all([
      bare.read(blob, 5_000, 5_000),
      bare.read(blob, 10_000, 6_000),
    ]);
    expect(0, 5_000, 5_000, a);
    expect(1, 10_000, 6_000, b);
    assert.deepEqual([bare.readStats.gets, bare.readStats.getBytes], [2, 8192 + 5 * 4096]);
    // Ranges of blocks far apart are separate GETs.
    await Promise.all([bare.read(blob, 0, 10), bare.read(blob, 50_000, 10)]);
    assert.equal(bare.readStats.gets, 4);
  } finally {
    await bare.close();
  }

  // A failed GET fails every read that shared it; a later read asks again.
  const stopped = new S3LogStore(url, {
    credentials: s3.credentials,
    maxAttempts: 1,
    connectTimeoutMs: 1000,
    timeoutMs: 3000,
  });
  try {
    await s3.stop();
    const reads = [0, 1].map((i) => stopped.read(blob, i * 10_000, 10_000));
    for (const r of reads) await assert.rejects(() => r);
    await s3.start();
    if (s3.kind === "moto") {
      // moto forgets everything: the object is gone, so the read fails again, from the server.
      await assert.rejects(() => stopped.read(blob, 0, 10), /NoSuchKey|HTTP 404|NoSuchBucket/);
    } else expect(0, 0, 10, await stopped.read(blob, 0, 10));
  } finally {
    await stopped.close();
  }
});

Deno.test("s3 log store: prefetch starts the GETs a later read then shares, within a quarter of the cache", async () => {
  await using s3 = await startS3Server();
  await s3.createBucket("skb-prefetch");
  const url = s3.url("skb-prefetch", "p");
  const writer = new S3LogStore(url, { credentials: s3.credentials });
  const blobs: string[] = [];
  for (let i = 0; i < 4; i++) blobs.push(await writer.write([new Uint8Array(8192).fill(i + 1)]));
  await writer.close();
  // Blocks of 4 KiB, a cache of 32 KiB: one prefetch asks for at most 8 KiB.
  const store = new S3LogStore(url, {
    credentials: s3.credentials,
    readBlockBytes: 4096,
    readCacheBytes: 32 * 1024,
  });
  try {
    const settled = async () => {
      // The prefetch's GETs are in flight until their blocks are cached: a read of
      // them shares them, so waiting on a read of the first block settles them all.
      await store.read(blobs[0], 0, 1);
    };
    store.prefetch([{ blob: blobs[0], position: 0, length: 8192 }]);
    await settled();
    assert.equal(store.readStats.gets, 1, "the prefetch sent one GET for both blocks");
    const got = await store.readRanges([
      { blob: blobs[0], position: 100, length: 8000 },
    ]);
    assert.ok(got.length === 8000 && got.every((b) => b === 1));
    assert.equal(store.readStats.gets, 1, "the read found the prefetched blocks");
    // Past a quarter of the cache the rest is left for the reads themselves.
    store.prefetch(blobs.slice(1).map((blob) => ({ blob, position: 0, length: 8192 })));
    const before = store.readStats.gets;
    const all = await store.readRanges(
      blobs.slice(1).map((blob) => ({ blob, position: 0, length: 8192 })),
    );
    assert.equal(all.length, 3 * 8192);
    for (let i = 0; i < 3; i++) {
      assert.ok(
        all.subarray(i * 8192, (i + 1) * 8192).every((b) => b === i + 2),
        `object ${i + 1}`,
      );
    }
    assert.equal(store.readStats.gets - before, 3, "one GET per object: one prefetched, two read");
    // Names that are not blobs of this store are ignored, never thrown.
    store.prefetch([{ blob: "../x", position: 0, length: 10 }]);
  } finally {
    await store.close();
  }
});
