import assert from "node:assert/strict";
import {
  LOG_SCHEMES,
  META_SCHEMES,
  openLogStore,
  openMetaStore,
  redactUrl,
  StoreUrlError,
} from "./registry.ts";
import { RedisMetaStore } from "./meta/redis.ts";
import { UpstashMetaStore } from "./meta/upstash.ts";
import { S3LogStore } from "./log/s3.ts";

Deno.test("registry: an unknown scheme fails with every supported one listed", () => {
  assert.throws(() => openMetaStore("mongodb://x"), (e: Error) => {
    assert.ok(e instanceof StoreUrlError);
    for (const s of META_SCHEMES) assert.ok(e.message.includes(s), `${s} in ${e.message}`);
    return true;
  });
  assert.throws(() => openLogStore("gs://bucket"), (e: Error) => {
    assert.ok(e instanceof StoreUrlError);
    for (const s of LOG_SCHEMES) assert.ok(e.message.includes(s), `${s} in ${e.message}`);
    return true;
  });
});

Deno.test("registry: redis, upstash and s3 URLs open their stores without connecting", async () => {
  const r = openMetaStore("redis://:pw@127.0.0.1:1/2?prefix=x:");
  assert.ok(r instanceof RedisMetaStore);
  assert.ok(openMetaStore("rediss://127.0.0.1:1") instanceof RedisMetaStore);
  const u = new UpstashMetaStore("upstash://eu1-x.upstash.io", { token: "t" });
  assert.ok(u instanceof UpstashMetaStore);
  assert.ok(openLogStore("s3://bucket-a/p?region=eu-west-1") instanceof S3LogStore);
  assert.throws(() => openMetaStore("redis://127.0.0.1/not-a-db"), StoreUrlError);
  await r.close();
  await u.close();
});

Deno.test("registry: secrets in store URLs are redacted", () => {
  assert.equal(redactUrl("redis://user:pw@h:6379/0"), "redis://user:***@h:6379/0");
  assert.equal(redactUrl("redis://:pw@h:6379/0"), "redis://:***@h:6379/0");
  assert.equal(redactUrl("https://tok@x.upstash.io"), "https://***@x.upstash.io/");
  assert.ok(!redactUrl("s3://b/p?access_key=AKIA&region=x").includes("AKIA"));
  assert.throws(() => openMetaStore("redis://:hunter2@h:6379/x"), (e: Error) => {
    assert.ok(!e.message.includes("hunter2"), e.message);
    return true;
  });
});
