/**
 * Share groups (KIP-932) over real TCP with our own codec: ShareGroupHeartbeat
 * (join, heartbeat, fencing, leave), ShareGroupDescribe, ListGroups and
 * DeleteGroups of share groups, and ShareFetch / ShareAcknowledge: records
 * acquired by one member are not acquired by another, acknowledgements
 * (accept, release, reject, renew) move them on, a closed share session
 * releases what its member held for redelivery with the delivery count
 * raised, records past the delivery limit are archived, and two brokers
 * sharing the meta store never hand one record to two members.
 */

import assert from "node:assert/strict";
import {
  ALTER_SHARE_GROUP_OFFSETS_API,
  defaultDeleteGroupsRequest,
  defaultListGroupsRequest,
  defaultShareAcknowledgeRequest,
  defaultShareFetchRequest,
  defaultShareGroupDescribeRequest,
  defaultShareGroupHeartbeatRequest,
  DELETE_GROUPS_API,
  INCREMENTAL_ALTER_CONFIGS_API,
  LIST_GROUPS_API,
  SHARE_ACKNOWLEDGE_API,
  SHARE_FETCH_API,
  SHARE_GROUP_DESCRIBE_API,
  SHARE_GROUP_HEARTBEAT_API,
  type ShareFetchResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { MetaStore } from "../stores/types.ts";
import { MemoryLogStore } from "../stores/log/memory.ts";
import { testBroker } from "./broker_util.ts";
import { WireClient } from "./wire_client.ts";
import { createTopic, metaStoreTest, produceAll, within } from "./helpers.ts";
import { txnProducer } from "./share_groups_util.ts";

const ACCEPT = 1;
const RELEASE = 2;
const REJECT = 3;
const RENEW = 4;

async function heartbeat(
  c: WireClient,
  groupId: string,
  memberId: string,
  memberEpoch: number,
  topics: string[] | null = null,
) {
  return await c.call(SHARE_GROUP_HEARTBEAT_API, 1, {
    ...defaultShareGroupHeartbeatRequest(),
    groupId,
    memberId,
    memberEpoch,
    subscribedTopicNames: topics,
  });
}

/** One ShareFetch of partition 0 of a topic, with acknowledgements. */
function fetchOf(
  c: WireClient,
  groupId: string,
  memberId: string,
  epoch: number,
  topicId: string,
  acks: { firstOffset: number; lastOffset: number; acknowledgeTypes: number[] }[] = [],
  opts: { maxRecords?: number; maxWaitMs?: number; version?: number } = {},
): Promise<ShareFetchResponse> {
  return within(
    c.call(SHARE_FETCH_API, opts.version ?? 2, {
      ...defaultShareFetchRequest(),
      groupId,
      memberId,
      shareSessionEpoch: epoch,
      maxWaitMs: opts.maxWaitMs ?? 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: opts.maxRecords ?? 500,
      batchSize: 500,
      topics: [{
        topicId,
        partitions: [{ partitionIndex: 0, partitionMaxBytes: 0, acknowledgementBatches: acks }],
      }],
      forgottenTopicsData: [],
    }),
    10_000,
    "share fetch",
  );
}

function acquired(r: ShareFetchResponse) {
  assert.equal(r.errorCode, 0, `share fetch: ${r.errorMessage}`);
  return r.responses.flatMap((t) => t.partitions.flatMap((p) => p.acquiredRecords));
}

function ackError(r: ShareFetchResponse): number {
  return r.responses[0]?.partitions[0]?.acknowledgeErrorCode ?? -1;
}

metaStoreTest(
  "share group heartbeat: join, assignment shared, fencing, describe, list, leave, delete",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const topicId = await createTopic(c, "q", 1);
    const a = await heartbeat(c, "sg", "member-a", 0, ["q"]);
    assert.equal(a.errorCode, 0, String(a.errorMessage));
    assert.equal(a.memberEpoch, 1);
    assert.deepEqual(a.assignment?.topicPartitions, [{ topicId, partitions: [0] }]);
    const b = await heartbeat(c, "sg", "member-b", 0, ["q"]);
    assert.equal(b.memberEpoch, 2);
    // More members than partitions: both share partition 0.
    assert.deepEqual(b.assignment?.topicPartitions, [{ topicId, partitions: [0] }]);
    const a2 = await heartbeat(c, "sg", "member-a", 1);
    assert.equal(a2.memberEpoch, 2);
    assert.deepEqual(a2.assignment?.topicPartitions, [{ topicId, partitions: [0] }]);
    const a3 = await heartbeat(c, "sg", "member-a", 2);
    assert.equal(a3.errorCode, 0);
    assert.equal(a3.assignment, null, "an unchanged assignment is not sent again");
    assert.equal(
      (await heartbeat(c, "sg", "member-a", 7)).errorCode,
      ErrorCode.FENCED_MEMBER_EPOCH,
    );
    assert.equal((await heartbeat(c, "sg", "nobody", 3)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(
      (await heartbeat(c, "sg", "member-c", 0, [])).errorCode,
      ErrorCode.INVALID_REQUEST,
    );

    const d = await c.call(SHARE_GROUP_DESCRIBE_API, 1, {
      ...defaultShareGroupDescribeRequest(),
      groupIds: ["sg", "missing"],
    });
    assert.equal(d.groups[0].errorCode, 0);
    assert.equal(d.groups[0].groupState, "Stable");
    assert.equal(d.groups[0].assignorName, "simple");
    assert.deepEqual(d.groups[0].members.map((m) => m.memberId).sort(), ["member-a", "member-b"]);
    assert.deepEqual(d.groups[0].members[0].assignment.topicPartitions, [
      { topicId, topicName: "q", partitions: [0] },
    ]);
    assert.equal(d.groups[1].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    const listed = await c.call(LIST_GROUPS_API, 5, {
      ...defaultListGroupsRequest(),
      typesFilter: ["share"],
    });
    assert.deepEqual(listed.groups, [
      { groupId: "sg", protocolType: "share", groupState: "Stable", groupType: "share" },
    ]);
    const del = () =>
      c.call(DELETE_GROUPS_API, 2, { ...defaultDeleteGroupsRequest(), groupsNames: ["sg"] });
    assert.equal((await del()).results[0].errorCode, ErrorCode.NON_EMPTY_GROUP);
    const alterLive = await c.call(ALTER_SHARE_GROUP_OFFSETS_API, 0, {
      groupId: "sg",
      topics: [{ topicName: "q", partitions: [{ partitionIndex: 0, startOffset: 0 }] }],
    });
    assert.equal(alterLive.errorCode, ErrorCode.NON_EMPTY_GROUP, "offsets of a live group stay");
    assert.equal((await heartbeat(c, "sg", "member-a", -1)).memberEpoch, -1);
    assert.equal((await heartbeat(c, "sg", "member-b", -1)).memberEpoch, -1);
    assert.equal((await del()).results[0].errorCode, ErrorCode.NONE);
    assert.equal(await meta.getGroup("sg"), null);
  },
);

metaStoreTest(
  "share fetch: acquire, accept, release, reject, renew, session rules, redelivery",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const topicId = await createTopic(c, "q", 1);
    await heartbeat(c, "g", "m1", 0, ["q"]);
    await heartbeat(c, "g", "m2", 0, ["q"]);
    // share.auto.offset.reset=latest: the share-partition starts where the log ends at first fetch.
    await produceAll(c, "q", 1, 0, 5);
    assert.deepEqual(acquired(await fetchOf(c, "g", "m1", 0, topicId)), []);
    await produceAll(c, "q", 1, 5, 10);
    const first = await fetchOf(c, "g", "m1", 1, topicId, [], { maxRecords: 4 });
    assert.deepEqual(acquired(first), [{ firstOffset: 5, lastOffset: 8, deliveryCount: 1 }]);
    assert.equal(first.acquisitionLockTimeoutMs, 30_000);
    assert.ok((first.responses[0].partitions[0].records as Uint8Array[]).length > 0);
    // Another member gets the rest, never what m1 holds.
    assert.deepEqual(acquired(await fetchOf(c, "g", "m2", 0, topicId)), [
      { firstOffset: 9, lastOffset: 14, deliveryCount: 1 },
    ]);
    // Session rules: a wrong epoch, an unknown session, acks while opening.
    assert.equal(
      (await fetchOf(c, "g", "m1", 5, topicId)).errorCode,
      ErrorCode.INVALID_SHARE_SESSION_EPOCH,
    );
    assert.equal(
      (await fetchOf(c, "g", "m3", 1, topicId)).errorCode,
      ErrorCode.SHARE_SESSION_NOT_FOUND,
    );
    assert.equal(
      (await fetchOf(c, "g", "m1", 0, topicId, [{
        firstOffset: 5,
        lastOffset: 5,
        acknowledgeTypes: [1],
      }])).errorCode,
      ErrorCode.INVALID_REQUEST,
    );
    // m1 reopened its session (epoch 0 above failed before opening): open again.
    assert.deepEqual(acquired(await fetchOf(c, "g", "m1", 0, topicId)), []);
    // Accept 5, release 6, reject 7, renew 8 (one type per offset).
    const acks = await fetchOf(c, "g", "m1", 1, topicId, [
      { firstOffset: 5, lastOffset: 8, acknowledgeTypes: [ACCEPT, RELEASE, REJECT, RENEW] },
    ], { maxRecords: 1 });
    assert.equal(ackError(acks), 0);
    // Released 6 comes back to m1 with delivery count 2.
    assert.deepEqual(acquired(acks), [{ firstOffset: 6, lastOffset: 6, deliveryCount: 2 }]);
    // Acknowledging twice, or what another member holds: INVALID_RECORD_STATE, nothing changes.
    const again = await fetchOf(c, "g", "m1", 2, topicId, [
      { firstOffset: 5, lastOffset: 5, acknowledgeTypes: [ACCEPT] },
    ]);
    assert.equal(ackError(again), ErrorCode.INVALID_RECORD_STATE);
    const stolen = await c.call(SHARE_ACKNOWLEDGE_API, 2, {
      ...defaultShareAcknowledgeRequest(),
      groupId: "g",
      memberId: "m1",
      shareSessionEpoch: 3,
      topics: [{
        topicId,
        partitions: [{
          partitionIndex: 0,
          acknowledgementBatches: [{ firstOffset: 9, lastOffset: 9, acknowledgeTypes: [ACCEPT] }],
        }],
      }],
    });
    assert.equal(stolen.responses[0].partitions[0].errorCode, ErrorCode.INVALID_RECORD_STATE);
    // m2 closes its session without acknowledging: 9-14 go back, to m1, delivery count 2.
    const closed = await fetchOf(c, "g", "m2", -1, topicId);
    assert.equal(closed.errorCode, 0);
    assert.deepEqual(acquired(closed), [], "a closing request acquires nothing");
    assert.deepEqual(acquired(await fetchOf(c, "g", "m1", 4, topicId)), [
      { firstOffset: 9, lastOffset: 14, deliveryCount: 2 },
    ]);
    // ShareAcknowledge accepts everything m1 holds (6, 8, 9-14) and closes its session.
    const done = await c.call(SHARE_ACKNOWLEDGE_API, 2, {
      ...defaultShareAcknowledgeRequest(),
      groupId: "g",
      memberId: "m1",
      shareSessionEpoch: -1,
      topics: [{
        topicId,
        partitions: [{
          partitionIndex: 0,
          acknowledgementBatches: [
            { firstOffset: 6, lastOffset: 6, acknowledgeTypes: [ACCEPT] },
            { firstOffset: 8, lastOffset: 14, acknowledgeTypes: [ACCEPT] },
          ],
        }],
      }],
    });
    assert.equal(done.responses[0].partitions[0].errorCode, 0);
    const stored = JSON.parse((await meta.getShareState("g", topicId, 0))!.state);
    assert.deepEqual(stored, { start: 15, end: 15, ranges: [] }, "all done: nothing in flight");
  },
);

metaStoreTest(
  "share fetch: past share.delivery.count.limit a record is archived; long poll wakes on produce",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const topicId = await createTopic(c, "q", 1);
    await heartbeat(c, "g", "m", 0, ["q"]);
    assert.deepEqual(acquired(await fetchOf(c, "g", "m", 0, topicId)), []);
    // A long poll answered by a produce on this broker.
    const polled = fetchOf(c, "g", "m", 1, topicId, [], { maxWaitMs: 5000 });
    await using p = await WireClient.connect(broker.port);
    const t0 = performance.now();
    await produceAll(p, "q", 1, 0, 1);
    assert.deepEqual(acquired(await polled), [{ firstOffset: 0, lastOffset: 0, deliveryCount: 1 }]);
    assert.ok(performance.now() - t0 < 4000, "woken by the produce");
    let epoch = 2;
    for (let delivery = 2; delivery <= 5; delivery++) {
      const r = await fetchOf(c, "g", "m", epoch++, topicId, [
        { firstOffset: 0, lastOffset: 0, acknowledgeTypes: [RELEASE] },
      ]);
      assert.equal(ackError(r), 0);
      assert.deepEqual(acquired(r), [{ firstOffset: 0, lastOffset: 0, deliveryCount: delivery }]);
    }
    // The fifth delivery released: archived, not delivered a sixth time.
    const r = await fetchOf(c, "g", "m", epoch++, topicId, [
      { firstOffset: 0, lastOffset: 0, acknowledgeTypes: [RELEASE] },
    ]);
    assert.equal(ackError(r), 0);
    assert.deepEqual(acquired(r), []);
    assert.deepEqual(JSON.parse((await meta.getShareState("g", topicId, 0))!.state).start, 1);
  },
  ["memory", "sqlite"],
);

metaStoreTest(
  "two brokers sharing the stores never acquire one record for two members",
  async (meta) => {
    const log = new MemoryLogStore();
    await using b1 = await testBroker({ meta, log });
    await using b2 = await testBroker({ meta, log });
    await using c1 = await WireClient.connect(b1.port);
    await using c2 = await WireClient.connect(b2.port);
    const topicId = await createTopic(c1, "q", 1);
    await heartbeat(c1, "g", "x", 0, ["q"]);
    await heartbeat(c2, "g", "y", 0, ["q"]);
    assert.deepEqual(acquired(await fetchOf(c1, "g", "x", 0, topicId)), []);
    assert.deepEqual(acquired(await fetchOf(c2, "g", "y", 0, topicId)), []);
    for (let i = 0; i < 20; i++) await produceAll(c1, "q", 1, i * 10, 10);
    const seen = new Map<number, string>();
    const epochs = { x: 1, y: 1 };
    for (let round = 0; round < 40 && seen.size < 200; round++) {
      const [rx, ry] = await Promise.all([
        fetchOf(c1, "g", "x", epochs.x++, topicId, [], { maxRecords: 7 }),
        fetchOf(c2, "g", "y", epochs.y++, topicId, [], { maxRecords: 7 }),
      ]);
      for (const [who, r] of [["x", rx], ["y", ry]] as const) {
        for (const a of acquired(r)) {
          for (let o = a.firstOffset; o <= a.lastOffset; o++) {
            assert.equal(
              seen.get(o),
              undefined,
              `offset ${o} acquired by ${seen.get(o)} and ${who}`,
            );
            seen.set(o, who);
          }
        }
      }
    }
    assert.equal(seen.size, 200);
    assert.ok([...seen.values()].includes("x") && [...seen.values()].includes("y"));
  },
  ["memory", "sqlite", "redis"],
);

metaStoreTest(
  "share group configs: share.auto.offset.reset=earliest and share.delivery.count.limit",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const topicId = await createTopic(c, "q", 1);
    await produceAll(c, "q", 1, 0, 3);
    const GROUP = 32;
    const alter = (configs: { name: string; value: string }[]) =>
      c.call(INCREMENTAL_ALTER_CONFIGS_API, 1, {
        resources: [{
          resourceType: GROUP,
          resourceName: "cfg",
          configs: configs.map((x) => ({ ...x, configOperation: 0 })),
        }],
        validateOnly: false,
      });
    const bad = await alter([{ name: "share.delivery.count.limit", value: "1" }]);
    assert.equal(bad.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(
      bad.responses[0].errorMessage ?? "",
      /at least group\.share\.min\.delivery\.count\.limit/,
    );
    const badReset = await alter([{ name: "share.auto.offset.reset", value: "middle" }]);
    assert.equal(badReset.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
    const ok = await alter([
      { name: "share.auto.offset.reset", value: "earliest" },
      { name: "share.delivery.count.limit", value: "2" },
    ]);
    assert.equal(ok.responses[0].errorCode, 0, ok.responses[0].errorMessage ?? "");
    await heartbeat(c, "cfg", "m", 0, ["q"]);
    // earliest: the records produced before the first fetch are delivered.
    const r1 = await fetchOf(c, "cfg", "m", 0, topicId);
    assert.deepEqual(acquired(r1), [{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }]);
    const r2 = await fetchOf(c, "cfg", "m", 1, topicId, [
      { firstOffset: 0, lastOffset: 2, acknowledgeTypes: [RELEASE] },
    ]);
    assert.deepEqual(acquired(r2), [{ firstOffset: 0, lastOffset: 2, deliveryCount: 2 }]);
    // The limit is 2: released again, they are archived.
    const r3 = await fetchOf(c, "cfg", "m", 2, topicId, [
      { firstOffset: 0, lastOffset: 2, acknowledgeTypes: [RELEASE] },
    ]);
    assert.deepEqual(acquired(r3), []);
  },
  ["memory", "sqlite"],
);

Deno.test("share group APIs are advertised in ApiVersions", async () => {
  const meta: MetaStore | undefined = undefined;
  await using broker = await testBroker(meta ? { meta } : {});
  await using c = await WireClient.connect(broker.port);
  const { API_VERSIONS_API, defaultApiVersionsRequest } = await import(
    "../protocol/generated/mod.ts"
  );
  const r = await c.call(API_VERSIONS_API, 3, {
    ...defaultApiVersionsRequest(),
    clientSoftwareName: "t",
    clientSoftwareVersion: "1",
  });
  const keys = new Map(r.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  assert.deepEqual(keys.get(76), [1, 1]);
  assert.deepEqual(keys.get(77), [1, 1]);
  assert.deepEqual(keys.get(78), [1, 2]);
  assert.deepEqual(keys.get(79), [1, 2]);
  assert.deepEqual(keys.get(90), [0, 1]);
  assert.deepEqual(keys.get(91), [0, 0]);
  assert.deepEqual(keys.get(92), [0, 0]);
});

metaStoreTest(
  "share.isolation.level=read_committed: up to the last stable offset, aborted transactions archived",
  async (meta) => {
    await using broker = await testBroker({ meta, groupInitialRebalanceDelayMs: 0 });
    await using c = await WireClient.connect(broker.port);
    const topicId = await createTopic(c, "tx", 1);
    const alter = (group: string, value: string) =>
      c.call(INCREMENTAL_ALTER_CONFIGS_API, 1, {
        resources: [{
          resourceType: 32,
          resourceName: group,
          configs: [
            { name: "share.auto.offset.reset", value: "earliest", configOperation: 0 },
            { name: "share.isolation.level", value, configOperation: 0 },
          ],
        }],
        validateOnly: false,
      });
    const bad = await alter("rc", "serializable");
    assert.equal(bad.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(bad.responses[0].errorMessage ?? "", /read_committed or read_uncommitted/);
    assert.equal((await alter("rc", "read_committed")).responses[0].errorCode, 0);
    assert.equal((await alter("ru", "read_uncommitted")).responses[0].errorCode, 0);
    const p = await txnProducer(c, "share-tx", "tx");
    // 0-2 committed (marker 3), 4-6 aborted (marker 7), 8 plain, 9-10 still open.
    await p.send(0, 3);
    await p.end(true);
    await p.send(4, 3);
    await p.end(false);
    await produceAll(c, "tx", 1, 8, 1);
    await p.send(9, 2);
    await heartbeat(c, "rc", "m", 0, ["tx"]);
    await heartbeat(c, "ru", "m", 0, ["tx"]);
    // read_committed: nothing of the aborted transaction, nothing past the last stable offset (9).
    // The markers (3, 7) are acquired like any offset: the client acknowledges them as gaps.
    const rc = await fetchOf(c, "rc", "m", 0, topicId);
    assert.deepEqual(acquired(rc), [
      { firstOffset: 0, lastOffset: 3, deliveryCount: 1 },
      { firstOffset: 7, lastOffset: 8, deliveryCount: 1 },
    ]);
    // read_uncommitted: everything up to the high watermark.
    const ru = await fetchOf(c, "ru", "m", 0, topicId);
    assert.deepEqual(acquired(ru), [{ firstOffset: 0, lastOffset: 10, deliveryCount: 1 }]);
    // The open transaction commits: its records (and marker 11) go to the read_committed group.
    await p.end(true);
    const rc2 = await fetchOf(c, "rc", "m", 1, topicId, [
      { firstOffset: 0, lastOffset: 3, acknowledgeTypes: [ACCEPT] },
      { firstOffset: 7, lastOffset: 8, acknowledgeTypes: [ACCEPT] },
    ]);
    assert.equal(ackError(rc2), 0);
    assert.deepEqual(acquired(rc2), [{ firstOffset: 9, lastOffset: 11, deliveryCount: 1 }]);
    // The aborted records were archived, never delivered: accepting the rest ends the window.
    await fetchOf(c, "rc", "m", 2, topicId, [
      { firstOffset: 9, lastOffset: 11, acknowledgeTypes: [ACCEPT] },
    ]);
    const s = JSON.parse((await meta.getShareState("rc", topicId, 0))!.state);
    assert.equal(s.start, 12);
  },
  ["memory", "sqlite"],
);

metaStoreTest(
  "a closed connection releases what its share sessions held at once (Kafka's disconnect listener)",
  async (meta) => {
    await using broker = await testBroker({ meta });
    await using c = await WireClient.connect(broker.port);
    const topicId = await createTopic(c, "drop", 1);
    await heartbeat(c, "dg", "gone", 0, ["drop"]);
    await heartbeat(c, "dg", "stays", 0, ["drop"]);
    assert.deepEqual(acquired(await fetchOf(c, "dg", "stays", 0, topicId)), []);
    await produceAll(c, "drop", 1, 0, 6);
    {
      await using other = await WireClient.connect(broker.port);
      const r = await fetchOf(other, "dg", "gone", 0, topicId, [], { maxRecords: 4 });
      assert.deepEqual(acquired(r), [{ firstOffset: 0, lastOffset: 3, deliveryCount: 1 }]);
    } // its connection closes here, its share session unclosed and nothing acknowledged
    // The waiting member is handed them well within the 30 s lock, delivery count raised.
    const t0 = performance.now();
    const got: { firstOffset: number; lastOffset: number; deliveryCount: number }[] = [];
    for (let epoch = 1; epoch < 20 && got.length < 2; epoch++) {
      got.push(
        ...acquired(await fetchOf(c, "dg", "stays", epoch, topicId, [], { maxWaitMs: 500 })),
      );
    }
    assert.deepEqual(got.sort((a, b) => a.firstOffset - b.firstOffset), [
      { firstOffset: 0, lastOffset: 3, deliveryCount: 2 },
      { firstOffset: 4, lastOffset: 5, deliveryCount: 1 },
    ]);
    assert.ok(performance.now() - t0 < 5000);
  },
  ["memory", "sqlite"],
);
