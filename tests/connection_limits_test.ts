/**
 * Connection caps and idle connections (issue 16): max.connections and
 * max.connections.per.ip close what is over them on arrival, and
 * connections.max.idle.ms closes a connection that completes no request, a
 * slowloris sender included, while long polls and active clients stay.
 */

import assert from "node:assert/strict";
import { API_VERSIONS_API, FETCH_API } from "../protocol/generated/mod.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic, within } from "./helpers.ts";
import { fetchRequest } from "./wire_requests.ts";

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
