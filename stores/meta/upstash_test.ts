import assert from "node:assert/strict";
import { metaStoreConformance } from "../meta_conformance.ts";
import { type RedisServer, startRedisServer } from "../../tests/servers/redis_server.ts";
import { startUpstashRestProxy, type UpstashRestProxy } from "../../tests/upstash_rest_proxy.ts";
import { parseUpstashUrl, UpstashMetaStore } from "./upstash.ts";
import { RedisMetaStore } from "./redis.ts";
import { openMetaStore, StoreUrlError } from "../registry.ts";

// Each test: its own redis-server and REST proxy in front of it.
let server: RedisServer | null = null;
let proxy: UpstashRestProxy | null = null;
metaStoreConformance("upstash", {
  open: async () => {
    server = await startRedisServer();
    proxy = await startUpstashRestProxy(server.port);
    return new UpstashMetaStore(`${proxy.url}?prefix=conf:`, { token: proxy.token });
  },
  reopen: () =>
    Promise.resolve(new UpstashMetaStore(`${proxy!.url}?prefix=conf:`, { token: proxy!.token })),
  second: () =>
    Promise.resolve(new UpstashMetaStore(`${proxy!.url}?prefix=conf:`, { token: proxy!.token })),
  cleanup: async () => {
    await proxy?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
    proxy = null;
    server = null;
  },
});

Deno.test("upstash meta store: shares the Redis store's scripts and keys", async () => {
  await using redis = await startRedisServer();
  await using rest = await startUpstashRestProxy(redis.port);
  const viaRest = new UpstashMetaStore(rest.url, { token: rest.token });
  const viaTcp = new RedisMetaStore(redis.url());
  try {
    const t = (await viaRest.createTopic({ name: "t", partitions: 1, configs: { a: "1" } }))!;
    assert.deepEqual(await viaTcp.getTopic("t"), t);
    const batch = {
      topicId: t.id,
      partition: 0,
      position: 0,
      length: 10,
      recordCount: 4,
      baseTimestamp: 0,
      maxTimestamp: 1_700_000_000_123,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      isTransactional: false,
    };
    const [a] = await viaTcp.commitBatches("blob-a", [batch]);
    const [b] = await viaRest.commitBatches("blob-b", [batch]);
    assert.deepEqual([a.baseOffset, b.baseOffset], [0, 4]);
    const idx = await viaRest.readIndex(t.id, 0, 0, 1 << 20);
    assert.deepEqual(idx.map((e) => [e.blob, e.maxTimestamp]), [
      ["blob-a", 1_700_000_000_123],
      ["blob-b", 1_700_000_000_123],
    ]);
    assert.ok(rest.commands > 0);
  } finally {
    await viaRest.close();
    await viaTcp.close();
  }
});

Deno.test("upstash meta store: fails while Redis or the REST endpoint is down, then works again", async () => {
  await using redis = await startRedisServer();
  await using rest = await startUpstashRestProxy(redis.port);
  const s = new UpstashMetaStore(rest.url, { token: rest.token, requestTimeoutMs: 3000 });
  try {
    const t = (await s.createTopic({ name: "t", partitions: 1, configs: {} }))!;
    rest.failing = true;
    await assert.rejects(() => s.partitionState(t.id, 0));
    rest.failing = false;
    await redis.stop();
    await assert.rejects(() => s.ping());
    await redis.start();
    const deadline = Date.now() + 10000;
    for (;;) {
      try {
        await s.ping();
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal((await s.getTopic("t"))?.id, t.id);
  } finally {
    await s.close();
  }
});

Deno.test("upstash meta store: URL forms, and the token never in the URL", () => {
  assert.equal(
    parseUpstashUrl("upstash://eu1-x.upstash.io", "tok").restUrl,
    "https://eu1-x.upstash.io",
  );
  assert.equal(parseUpstashUrl("https://eu1-x.upstash.io/?prefix=a:", "tok").prefix, "a:");
  assert.equal(parseUpstashUrl("http://127.0.0.1:8079", "tok").restUrl, "http://127.0.0.1:8079");
  assert.throws(() => parseUpstashUrl("http://example.com", "tok"), /clear text/);
  assert.throws(
    () => parseUpstashUrl("https://default:tok@example.com", "tok"),
    /UPSTASH_REDIS_REST_TOKEN/,
  );
  assert.throws(
    () => parseUpstashUrl("https://example.com", undefined),
    /UPSTASH_REDIS_REST_TOKEN/,
  );
  assert.throws(() => openMetaStore("https://user:secret@example.com"), (e: Error) => {
    assert.ok(e instanceof StoreUrlError);
    assert.ok(!e.message.includes("secret"), e.message);
    return true;
  });
});
