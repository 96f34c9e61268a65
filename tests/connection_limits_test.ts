/**
 * Connection caps and idle connections (issue 16): max.connections and
 * max.connections.per.ip close what is over them on arrival, and
 * connections.max.idle.ms closes a connection that completes no request, a
 * slowloris sender included, while long polls and active clients stay.
 */

import assert from "node:assert/strict";
import {
  API_VERSIONS_API,
  FETCH_API,
  METADATA_API,
  PRODUCE_API,
} from "../protocol/generated/mod.ts";
import { buildBatch } from "../protocol/record_batch.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { StoreFaults, withFaults } from "./faulty_store.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic, within } from "./helpers.ts";
import { fetchRequest, produceRequest } from "./wire_requests.ts";
import { defaultMetadataRequest } from "../protocol/generated/metadata.ts";

const apiVersions = {
  clientSoftwareName: "limits-test",
  clientSoftwareVersion: "1",
  clusterId: null,
  nodeId: -1,
};

async function answers(c: WireClient): Promise<boolean> {
  try {
    const res = await within(c.call(API_VERSIONS_API, 3, apiVersions), 3000, "ApiVersions");
    return res.errorCode === 0;
  } catch {
    return false;
  }
}

Deno.test("connections over --max-connections-per-ip and --max-connections are closed on arrival", async () => {
  {
    await using broker = await testBroker({ maxConnections: 0, maxConnectionsPerIp: 2 });
    await using a = await WireClient.connect(broker.port);
    await using b = await WireClient.connect(broker.port);
    assert.ok(await answers(a) && await answers(b), "two connections from one address are served");
    const c = await WireClient.connect(broker.port);
    assert.equal(await c.closedByPeer(3000), true, "the third from the same address is closed");
    assert.equal(broker.context.metrics.connectionsRefused, 1);
    await a[Symbol.asyncDispose]();
    // The slot comes back once the broker sees the close.
    let served = false;
    for (let i = 0; i < 20 && !served; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await using d = await WireClient.connect(broker.port);
      served = await answers(d);
    }
    assert.ok(served, "a new connection is served after one closed");
    assert.ok(await answers(b), "the connection that stayed is untouched");
  }
  {
    await using broker = await testBroker({ maxConnections: 1, maxConnectionsPerIp: 0 });
    await using a = await WireClient.connect(broker.port);
    assert.ok(await answers(a));
    const b = await WireClient.connect(broker.port);
    assert.equal(await b.closedByPeer(3000), true, "over --max-connections is closed");
    assert.ok(await answers(a));
  }
});

Deno.test("--connections-max-idle-ms closes idle and slowloris connections, not busy ones", async () => {
  await using broker = await testBroker({ connectionsMaxIdleMs: 600 });
  const setup = await WireClient.connect(broker.port);
  const id = await createTopic(setup, "idle-t", 1);
  await setup[Symbol.asyncDispose]();

  const idle = await WireClient.connect(broker.port);
  // A frame header announcing 1 MB, then one byte every 100 ms: never a whole request.
  const slow = await WireClient.connect(broker.port);
  await slow.sendRaw(new Uint8Array([0, 0x10, 0, 0]));
  let trickling = true;
  const trickle = (async () => {
    while (trickling) {
      try {
        await slow.sendRaw(new Uint8Array([1]));
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await using busy = await WireClient.connect(broker.port);
  await using polling = await WireClient.connect(broker.port);
  const started = performance.now();
  // A long poll longer than the idle time is in flight, not idle.
  const poll = polling.call(FETCH_API, 17, fetchRequest({ name: "idle-t", id }, 0, 0, 1500));
  const [idleClosed, slowClosed] = await Promise.all([
    idle.closedByPeer(5000),
    slow.closedByPeer(5000),
    (async () => {
      for (let i = 0; i < 12; i++) {
        assert.ok(await answers(busy), "a client sending requests is never idle");
        await new Promise((r) => setTimeout(r, 150));
      }
    })(),
  ]);
  trickling = false;
  await trickle;
  assert.equal(idleClosed, true, "a silent connection is closed");
  assert.equal(slowClosed, true, "a slowloris sender is closed");
  const res = await within(poll, 5000, "long poll");
  assert.equal(res.errorCode, 0, "the long poll is answered");
  assert.ok(performance.now() - started >= 1400, "the long poll waited its max_wait_ms");
  assert.ok(await answers(polling), "the long-polling connection stays open");
  assert.ok(broker.context.metrics.connectionsIdleClosed >= 2);
});

/** Fills partition 0 of `topic` with `n` records of 500 kB each. */
async function fill(c: WireClient, topic: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const batch = buildBatch([{ key: null, value: new Uint8Array(500_000).fill(i), headers: [] }]);
    const res = await c.call(PRODUCE_API, 9, produceRequest(topic, batch));
    assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
  }
}

/** True when reading `c` ends, or is reset by the broker, within `ms`. */
async function endsOrResets(c: WireClient, ms: number): Promise<boolean> {
  const timer = setTimeout(() => c.conn.close(), ms);
  try {
    const buf = new Uint8Array(1 << 16);
    while ((await c.conn.read(buf)) !== null) { /* drain */ }
    return true;
  } catch (e) {
    return e instanceof Deno.errors.ConnectionReset;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `f` every 20 ms until it is true or `ms` pass; whether it became true. */
async function eventually(f: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (!f()) {
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

Deno.test("a client that never reads its answers stops being read at its bound, is closed as stalled, and gives its bytes back", async () => {
  const bound = 2 * 1024 * 1024;
  await using broker = await testBroker({
    connectionQueuedMaxBytes: bound,
    connectionsMaxIdleMs: 1500,
  });
  const metrics = broker.context.metrics;
  await using setup = await WireClient.connect(broker.port);
  const id = await createTopic(setup, "stall", 1);
  await fill(setup, "stall", 8);

  // 200 pipelined fetches of up to 1 MiB each, and not one answer read.
  await using sink = await WireClient.connect(broker.port);
  for (let i = 0; i < 200; i++) {
    await sink.send(FETCH_API, 12, fetchRequest({ name: "stall", id }, 0, 0, 0));
  }
  let peak = 0;
  const started = performance.now();
  await using canary = await WireClient.connect(broker.port);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(await answers(canary), "another client is served meanwhile");
  const closed = await eventually(() => {
    peak = Math.max(peak, metrics.queuedBytes());
    return metrics.connectionsStalledClosed > 0;
  }, 6000);
  assert.ok(closed, "the stalled connection is closed");
  assert.ok(performance.now() - started >= 1400, "not before connections.max.idle.ms");
  // Held at most: the bound, one reservation over it, and the write the client stopped reading.
  assert.ok(peak > 0 && peak <= bound + 3 * 1024 * 1024, `peak ${peak} bytes held`);
  assert.ok(await eventually(() => metrics.queuedBytes() === 0, 3000), "its bytes are given back");
  // Closed with answers unread, so the client may see a reset rather than an end of stream.
  assert.ok(await endsOrResets(sink, 3000), "the client sees its connection end");
});

Deno.test("--queued-max-request-bytes: a frame larger than the bound still goes in, and while the bound is held no connection is read", async () => {
  await using broker = await testBroker({
    queuedMaxRequestBytes: 1024 * 1024,
    connectionsMaxIdleMs: 1500,
  });
  const metrics = broker.context.metrics;
  await using setup = await WireClient.connect(broker.port);
  const id = await createTopic(setup, "queued", 1);
  // A Produce frame of 1.5 MB against a 1 MiB bound: admitted whole while there is room.
  const big = produceRequest(
    "queued",
    buildBatch([{ key: null, value: new Uint8Array(1_000_000), headers: [] }]),
  );
  big.topicData[0].partitionData.push({
    ...big.topicData[0].partitionData[0],
    records: buildBatch([{ key: null, value: new Uint8Array(500_000), headers: [] }]),
  });
  const res = await within(setup.call(PRODUCE_API, 9, big), 5000, "a large Produce");
  assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
  await fill(setup, "queued", 6);

  const sink = await WireClient.connect(broker.port);
  for (let i = 0; i < 50; i++) {
    await sink.send(FETCH_API, 12, fetchRequest({ name: "queued", id }, 0, 0, 0));
  }
  assert.ok(await eventually(() => metrics.queuedBytes() >= 1024 * 1024, 3000), "the bound fills");
  // The others wait for room rather than being refused: answered once the stalled one is closed.
  await using waiting = await WireClient.connect(broker.port);
  const started = performance.now();
  assert.ok(await answers(waiting));
  assert.ok(metrics.connectionsStalledClosed > 0, "answered only after the stalled client went");
  assert.ok(performance.now() - started < 4000);
  await sink[Symbol.asyncDispose]();
});

Deno.test("a request unanswered past --request-timeout-ms closes its connection with a warning", async () => {
  const faults = new StoreFaults();
  await using broker = await testBroker({
    meta: withFaults(new MemoryMetaStore(), faults),
    requestTimeoutMs: 300,
    storeTimeoutMs: 60_000,
  });
  await using c = await WireClient.connect(broker.port);
  await createTopic(c, "overdue", 1);
  faults.set("hang");
  const req = defaultMetadataRequest();
  req.topics = null;
  const started = performance.now();
  const answered = c.call(METADATA_API, 12, req).then(() => true, () => false);
  assert.equal(await within(answered, 5000, "Metadata"), false, "no answer: the connection closed");
  const ms = performance.now() - started;
  assert.ok(ms >= 290 && ms < 3000, `closed after ${Math.round(ms)} ms`);
  assert.equal(broker.context.metrics.requestsTimedOut, 1);
  faults.set("ok");
  await using again = await WireClient.connect(broker.port);
  assert.ok(await answers(again), "the broker serves new connections");
});
