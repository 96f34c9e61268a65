/**
 * Fetch sessions (KIP-227) over TCP, request by request: a full fetch opens
 * a session, incremental fetches carry only changed partitions and are
 * answered with only the partitions that have news, forgotten partitions
 * leave, a long poll that answers nothing still uses its epoch, a wrong
 * epoch or an unknown id is a top-level error, epoch -1 closes the session,
 * a deleted topic's partitions answer UNKNOWN_TOPIC_ID, names work as ids
 * do before v13, and no slots means no sessions.
 */

import assert from "node:assert/strict";
import {
  defaultDeleteTopicsRequest,
  defaultFetchRequest,
  defaultFetchRequestPartition,
  DELETE_TOPICS_API,
  FETCH_API,
  type FetchRequest,
  type FetchResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { decodeBatches } from "../protocol/batch_codec.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { sessionsOf } from "../broker/fetch_sessions.ts";
import { testBroker } from "./broker_util.ts";
import { createTopic, produceAll, within } from "./helpers.ts";
import { WireClient } from "./wire_client.ts";
import { flattenRecords } from "./wire_requests.ts";

interface Topic {
  name: string;
  id: string;
}

/** A Fetch naming `parts` ([partition, offset]) of one topic, with session fields. */
function fetchOf(
  topic: Topic,
  parts: [number, number][],
  session: { id: number; epoch: number },
  opts: { forget?: number[]; maxWaitMs?: number } = {},
): FetchRequest {
  const req = defaultFetchRequest();
  req.maxWaitMs = opts.maxWaitMs ?? 0;
  req.minBytes = 1;
  req.maxBytes = 1 << 20;
  req.sessionId = session.id;
  req.sessionEpoch = session.epoch;
  req.topics = parts.length === 0 ? [] : [{
    topic: topic.name,
    topicId: topic.id,
    partitions: parts.map(([partition, fetchOffset]) => ({
      ...defaultFetchRequestPartition(),
      partition,
      fetchOffset,
      partitionMaxBytes: 1 << 20,
    })),
  }];
  req.forgottenTopicsData = opts.forget
    ? [{ topic: topic.name, topicId: topic.id, partitions: opts.forget }]
    : [];
  return req;
}

/** Partition -> [first offset, last offset + 1] of the records answered (or null), per partition answered. */
function answered(
  res: FetchResponse,
): Map<number, { error: number; hw: number; records: number[] }> {
  const out = new Map<number, { error: number; hw: number; records: number[] }>();
  for (const t of res.responses) {
    for (const p of t.partitions) {
      const offsets: number[] = [];
      for (const b of decodeBatches(flattenRecords(p.records))) {
        for (const r of b.records) offsets.push(b.header.baseOffset + r.offsetDelta);
      }
      out.set(p.partitionIndex, {
        error: p.errorCode,
        hw: Number(p.highWatermark),
        records: offsets,
      });
    }
  }
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

Deno.test("fetch sessions: full, incremental, forgotten, long poll, epochs, unknown id, sessionless", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const topic = { name: "sessions", id: await createTopic(c, "sessions", 3) };
  await produceAll(c, topic.name, 3, 0, 10);
  const call = (req: FetchRequest, version = 17) =>
    within(c.call(FETCH_API, version, req), 30_000, "fetch");

  // Full fetch: a new session, every partition answered.
  const full = await call(fetchOf(topic, [[0, 0], [1, 0], [2, 0]], { id: 0, epoch: 0 }));
  assert.equal(full.errorCode, 0);
  const id = full.sessionId;
  assert.ok(id > 0, `a session id, got ${id}`);
  const first = answered(full);
  assert.deepEqual([...first.keys()], [0, 1, 2]);
  for (const p of first.values()) assert.deepEqual(p.records, range(0, 10));

  // Incremental, epoch 1: partitions 0 and 1 move on; 2 is left at offset 0
  // in the session, so it is answered again; 0 and 1 have nothing new.
  const inc1 = answered(await call(fetchOf(topic, [[0, 10], [1, 10]], { id, epoch: 1 })));
  assert.deepEqual([...inc1.keys()], [2]);
  assert.deepEqual(inc1.get(2)!.records, range(0, 10));

  // Records produced between incremental fetches appear, with the new high watermark.
  const produced = await produceAll(c, topic.name, 2, 10, 5);
  assert.ok(produced.every((p) => p.errorCode === 0));
  const inc2 = answered(await call(fetchOf(topic, [[2, 10]], { id, epoch: 2 })));
  assert.deepEqual([...inc2.keys()].sort(), [0, 1]);
  assert.deepEqual(inc2.get(0)!.records, range(10, 15));
  assert.deepEqual(inc2.get(1)!.records, range(10, 15));
  assert.equal(inc2.get(1)!.hw, 15);

  // Forgotten: partition 1 leaves the session; its new records are not answered.
  await produceAll(c, topic.name, 2, 15, 5);
  const inc3 = answered(await call(fetchOf(topic, [[0, 15]], { id, epoch: 3 }, { forget: [1] })));
  assert.deepEqual([...inc3.keys()], [0]);
  assert.deepEqual(inc3.get(0)!.records, range(15, 20));

  // A long poll with nothing new answers no partitions after its wait, and uses its epoch.
  const started = performance.now();
  const quiet = await call(fetchOf(topic, [[0, 20]], { id, epoch: 4 }, { maxWaitMs: 300 }));
  assert.ok(performance.now() - started >= 250, "the long poll waited");
  assert.equal(quiet.errorCode, 0);
  assert.equal(quiet.sessionId, id);
  assert.deepEqual(quiet.responses, []);

  // The next epoch is 5: 4 again (a duplicate) and 9 are refused and change nothing.
  for (const epoch of [4, 9]) {
    const wrong = await call(fetchOf(topic, [], { id, epoch }));
    assert.equal(wrong.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH, `epoch ${epoch}`);
    assert.equal(wrong.sessionId, 0);
    assert.deepEqual(wrong.responses, []);
  }
  // Partition 1 is back, from where it was left.
  const inc5 = answered(await call(fetchOf(topic, [[1, 15]], { id, epoch: 5 })));
  assert.deepEqual([...inc5.keys()], [1]);
  assert.deepEqual(inc5.get(1)!.records, range(15, 20));

  // A session id this broker does not hold; epoch 0 with id 0 but incremental is the same.
  const unknown = await call(fetchOf(topic, [], { id: id === 1 ? 2 : id - 1, epoch: 1 }));
  assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  assert.equal(unknown.sessionId, 0);

  // A v12 fetch (topic names) on a session made by v17 (topic ids).
  const mixed = await call(fetchOf(topic, [], { id, epoch: 6 }), 12);
  assert.equal(mixed.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);

  // Epoch -1: a sessionless full fetch that closes the session.
  const closing = await call(fetchOf(topic, [[0, 15]], { id, epoch: -1 }));
  assert.equal(closing.errorCode, 0);
  assert.equal(closing.sessionId, 0);
  assert.deepEqual(answered(closing).get(0)!.records, range(15, 20));
  const gone = await call(fetchOf(topic, [], { id, epoch: 6 }));
  assert.equal(gone.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

  // Forgetting every partition ends the session: the answer is sessionless.
  const again = await call(fetchOf(topic, [[0, 20]], { id: 0, epoch: 0 }));
  assert.ok(again.sessionId > 0);
  const emptied = await call(
    fetchOf(topic, [], { id: again.sessionId, epoch: 1 }, { forget: [0] }),
  );
  assert.equal(emptied.errorCode, 0);
  assert.equal(emptied.sessionId, 0);
  const after = await call(fetchOf(topic, [], { id: again.sessionId, epoch: 2 }));
  assert.equal(after.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

  // Epochs 1-5 incremental; the closing and the emptying fetch sessionless;
  // epochs 4 and 9, the unknown id, v12, and the two closed sessions errors.
  assert.deepEqual(sessionsOf(broker.context).counts, {
    full: 2,
    incremental: 5,
    sessionless: 2,
    error: 6,
  });
});

Deno.test("fetch sessions: a deleted topic's partitions answer UNKNOWN_TOPIC_ID, every time", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const kept = { name: "kept", id: await createTopic(c, "kept", 1) };
  const doomed = { name: "doomed", id: await createTopic(c, "doomed", 2) };
  await produceAll(c, kept.name, 1, 0, 3);
  await produceAll(c, doomed.name, 2, 0, 3);
  const req = fetchOf(kept, [[0, 3]], { id: 0, epoch: 0 });
  req.topics.push({
    topic: doomed.name,
    topicId: doomed.id,
    partitions: [0, 1].map((partition) => ({
      ...defaultFetchRequestPartition(),
      partition,
      fetchOffset: 3,
      partitionMaxBytes: 1 << 20,
    })),
  });
  const full = await c.call(FETCH_API, 17, req);
  const id = full.sessionId;
  assert.ok(id > 0);
  const del = await c.call(DELETE_TOPICS_API, 6, {
    ...defaultDeleteTopicsRequest(),
    topics: [{ name: doomed.name, topicId: ZERO_UUID }],
    timeoutMs: 5000,
  });
  assert.equal(del.responses[0].errorCode, 0);
  for (const epoch of [1, 2]) {
    const res = await c.call(FETCH_API, 17, fetchOf(kept, [], { id, epoch }));
    assert.equal(res.errorCode, 0);
    assert.equal(res.responses.length, 1, `epoch ${epoch}: only the deleted topic is answered`);
    assert.equal(res.responses[0].topicId, doomed.id);
    assert.deepEqual(
      res.responses[0].partitions.map((p) => [p.partitionIndex, p.errorCode]),
      [[0, ErrorCode.UNKNOWN_TOPIC_ID], [1, ErrorCode.UNKNOWN_TOPIC_ID]],
    );
  }
});

Deno.test("fetch sessions before v13 name topics; forgotten partitions by name", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  for (const version of [7, 11, 12]) {
    const name = `named-v${version}`;
    const topic = { name, id: await createTopic(c, name, 2) };
    await produceAll(c, topic.name, 2, 0, 4);
    const full = await c.call(
      FETCH_API,
      version,
      fetchOf(topic, [[0, 0], [1, 0]], { id: 0, epoch: 0 }),
    );
    assert.ok(full.sessionId > 0, `v${version} session`);
    assert.equal(full.responses[0].topic, topic.name);
    const id = full.sessionId;
    await produceAll(c, topic.name, 2, 4, 1);
    const inc = await c.call(
      FETCH_API,
      version,
      fetchOf(topic, [[0, 4]], { id, epoch: 1 }, { forget: [1] }),
    );
    assert.equal(inc.errorCode, 0);
    assert.equal(inc.responses.length, 1);
    assert.equal(inc.responses[0].topic, topic.name);
    assert.deepEqual(answered(inc).get(0)!.records, [4]);
    assert.equal(answered(inc).has(1), false, `v${version}: partition 1 was forgotten`);
    // v13+ on a session made with names.
    const mixed = await c.call(FETCH_API, 13, fetchOf(topic, [], { id, epoch: 2 }));
    assert.equal(mixed.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
  }
});

Deno.test("no fetch session slots: every full fetch answers session id 0", async () => {
  await using broker = await testBroker({ maxIncrementalFetchSessionCacheSlots: 0 });
  await using c = await WireClient.connect(broker.port);
  const topic = { name: "nosessions", id: await createTopic(c, "nosessions", 1) };
  await produceAll(c, topic.name, 1, 0, 2);
  for (let i = 0; i < 3; i++) {
    const res = await c.call(FETCH_API, 17, fetchOf(topic, [[0, 0]], { id: 0, epoch: 0 }));
    assert.equal(res.errorCode, 0);
    assert.equal(res.sessionId, 0);
    assert.deepEqual(answered(res).get(0)!.records, [0, 1]);
  }
  assert.equal(sessionsOf(broker.context).size, 0);
});
