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
    // Nothing referenced, no grace: only this prefix's objects go.
    assert.equal(await store.sweep(new Set([keys[0]]), 0), 2);
    assert.deepEqual([...await store.read(keys[0], 0, 1)], [1]);
    await assert.rejects(() => store.read(keys[1], 0, 1));
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
