import assert from "node:assert/strict";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { ShareService } from "./share_service.ts";

const key = { topicId: "AAAAAAAAAAAAAAAAAAAAAA", partition: 0 };
const bounds = { logStartOffset: 0, highWatermark: 10 };

Deno.test("share service: a closed connection ends its share sessions and releases their records at once", async () => {
  const meta = new MemoryMetaStore();
  const service = new ShareService(meta);
  await service.replace("g", key, 0); // the share-partition starts at offset 0
  const connA = {};
  const connB = {};
  assert.ok(service.session("g", "a", 0, [key], [], connA).ok);
  assert.ok(service.session("g", "b", 0, [key], [], connB).ok);
  assert.deepEqual(await service.acquire("g", "a", key, 4, bounds), [
    { firstOffset: 0, lastOffset: 3, deliveryCount: 1 },
  ]);
  assert.deepEqual(await service.acquire("g", "b", key, 4, bounds), [
    { firstOffset: 4, lastOffset: 7, deliveryCount: 1 },
  ]);
  // a's connection drops (a crashed client): a's records are free again, b's stay b's.
  assert.deepEqual(await service.connectionClosed(connA), [key]);
  const again = service.session("g", "a", 2, [], [], connA);
  assert.equal(again.ok, false, "the session went with its connection");
  assert.deepEqual(await service.acquire("g", "c", key, 10, bounds), [
    { firstOffset: 0, lastOffset: 3, deliveryCount: 2 },
    { firstOffset: 8, lastOffset: 9, deliveryCount: 1 },
  ]);
  // A second close of the same connection, or of one with no sessions, releases nothing.
  assert.deepEqual(await service.connectionClosed(connA), []);
  assert.deepEqual(await service.connectionClosed({}), []);
});

Deno.test("share service: a session reopened on a new connection outlives the old connection", async () => {
  const meta = new MemoryMetaStore();
  const service = new ShareService(meta);
  await service.replace("g", key, 0); // the share-partition starts at offset 0
  const old = {};
  const fresh = {};
  assert.ok(service.session("g", "a", 0, [key], [], old).ok);
  assert.ok(service.session("g", "a", 0, [key], [], fresh).ok);
  await service.acquire("g", "a", key, 5, bounds);
  assert.deepEqual(await service.connectionClosed(old), []);
  assert.ok(service.session("g", "a", 1, [], [], fresh).ok, "the session on the new one stays");
  assert.deepEqual(await service.acquire("g", "b", key, 5, bounds), [
    { firstOffset: 5, lastOffset: 9, deliveryCount: 1 },
  ]);
});
