/**
 * The group coordinator against the meta store contract, as two brokers see
 * it: two coordinators sharing one MemoryMetaStore, and two SQLite handles on
 * one file (as two broker processes would open it).
 */

import assert from "node:assert/strict";
import { join as joinPath } from "node:path";
import { ErrorCode } from "../protocol/errors.ts";
import { MemoryMetaStore } from "../stores/meta/memory.ts";
import { SqliteMetaStore } from "../stores/meta/sqlite.ts";
import type { MetaStore } from "../stores/types.ts";
import { type CoordinatorConfig, GroupCoordinator, type GroupRecord } from "./group_coordinator.ts";
import {
  consumerGroupState,
  type ConsumerHeartbeatInput,
  type TopicPartitions,
} from "./consumer_group_state.ts";
import type { ClassicGroup, JoinInput, JoinResponse, SyncResponse } from "./group_state.ts";

function classic(g: GroupRecord | null): ClassicGroup {
  assert.ok(g && g.type === "classic", `expected a classic group, got ${JSON.stringify(g)}`);
  return g;
}

const CFG: CoordinatorConfig = {
  initialRebalanceDelayMs: 150,
  minSessionTimeoutMs: 50,
  maxSessionTimeoutMs: 60_000,
  pollMs: 20,
};

/** Two brokers' coordinators over one shared store. */
interface Pair extends AsyncDisposable {
  a: GroupCoordinator;
  b: GroupCoordinator;
  storeA: MetaStore;
  storeB: MetaStore;
  /** Stops broker A: its waiting requests end as at shutdown. */
  killA(): void;
}

type PairFactory = (cfg?: Partial<CoordinatorConfig>) => Promise<Pair>;

function pairOver(
  storeA: MetaStore,
  storeB: MetaStore,
  cfg: Partial<CoordinatorConfig>,
  cleanup: () => Promise<void>,
): Pair {
  const closingA = new AbortController();
  const closingB = new AbortController();
  return {
    a: new GroupCoordinator(storeA, { ...CFG, ...cfg }, closingA.signal),
    b: new GroupCoordinator(storeB, { ...CFG, ...cfg }, closingB.signal),
    storeA,
    storeB,
    killA: () => closingA.abort(),
    async [Symbol.asyncDispose]() {
      closingA.abort();
      closingB.abort();
      await cleanup();
    },
  };
}

const BACKENDS: [string, PairFactory][] = [
  ["memory", (cfg = {}) => {
    const store = new MemoryMetaStore();
    return Promise.resolve(pairOver(store, store, cfg, () => store.close()));
  }],
  ["sqlite opened twice", async (cfg = {}) => {
    const dir = await Deno.makeTempDir({ prefix: "skb-groups-" });
    const a = new SqliteMetaStore(joinPath(dir, "meta.db"));
    const b = new SqliteMetaStore(joinPath(dir, "meta.db"));
    return pairOver(a, b, cfg, async () => {
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    });
  }],
];

function input(over: Partial<JoinInput> = {}): JoinInput {
  return {
    memberId: "",
    groupInstanceId: null,
    clientId: "test",
    clientHost: "/127.0.0.1",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 5_000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: btoa("sub") }],
    apiVersion: 9,
    newMemberId: `test-${crypto.randomUUID()}`,
    ...over,
  };
}

/** A member's full join: MEMBER_ID_REQUIRED first (KIP-394), then the real join. */
async function joinMember(
  c: GroupCoordinator,
  groupId: string,
  over: Partial<JoinInput> = {},
): Promise<JoinResponse> {
  const first = await c.join(groupId, input(over));
  if (first.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) return first;
  assert.ok(first.memberId.startsWith("test-"), `member id ${first.memberId}`);
  return await c.join(groupId, input({ ...over, memberId: first.memberId }));
}

/**
 * A ConsumerGroupHeartbeat as a KIP-848 client sends it: subscription and
 * rebalance timeout when joining (epoch 0), owned partitions when joining
 * and when acknowledging an assignment, nothing that did not change otherwise.
 */
function consumerInput(
  memberId: string,
  memberEpoch: number,
  owned: TopicPartitions | null,
): ConsumerHeartbeatInput {
  return {
    memberId,
    memberEpoch,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: memberEpoch === 0 ? 5000 : -1,
    subscribedTopicNames: memberEpoch === 0 ? ["t"] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    owned: memberEpoch === 0 ? owned ?? {} : owned,
    clientId: "c",
    clientHost: "/127.0.0.1",
    apiVersion: 1,
    newMemberId: "unused",
  };
}

/** The leader assigns "p<i>" to the i-th member; everyone syncs (through alternating brokers). */
async function syncAll(
  cs: GroupCoordinator[],
  groupId: string,
  joined: JoinResponse[],
): Promise<SyncResponse[]> {
  const leader = joined.find((j) => j.memberId === j.leader)!;
  const assignments = leader.members.map((m, i) => ({
    memberId: m.memberId,
    assignment: btoa(`p${i}`),
  }));
  return await Promise.all(joined.map((j, i) =>
    cs[i % cs.length].sync(groupId, {
      memberId: j.memberId,
      groupInstanceId: null,
      generationId: j.generationId,
      protocolType: "consumer",
      protocolName: j.protocolName,
      assignments: j.memberId === j.leader ? assignments : [],
    })
  ));
}

async function stableGroup(p: Pair, groupId: string, n: number) {
  const cs = [p.a, p.b];
  const joined = await Promise.all(
    Array.from({ length: n }, (_, i) => joinMember(cs[i % 2], groupId)),
  );
  const synced = await syncAll(cs, groupId, joined);
  return { joined, synced };
}

for (const [backend, open] of BACKENDS) {
  const test = (
    name: string,
    fn: (p: Pair) => Promise<void>,
    cfg: Partial<CoordinatorConfig> = {},
  ) =>
    Deno.test(`group coordinator (${backend}): ${name}`, async () => {
      await using p = await open(cfg);
      await fn(p);
    });

  test("three members joining through two brokers get one generation and their assignments", async (p) => {
    const started = performance.now();
    const { joined, synced } = await stableGroup(p, "g", 3);
    const generations = new Set(joined.map((j) => j.generationId));
    assert.deepEqual([...generations], [1]);
    assert.equal(new Set(joined.map((j) => j.leader)).size, 1, "one leader");
    const leader = joined.find((j) => j.memberId === j.leader)!;
    assert.equal(leader.members.length, 3);
    assert.ok(joined.filter((j) => j !== leader).every((j) => j.members.length === 0));
    assert.ok(synced.every((s) => s.errorCode === ErrorCode.NONE));
    const byMember = new Map(leader.members.map((m, i) => [m.memberId, `p${i}`]));
    joined.forEach((j, i) => assert.equal(atob(synced[i].assignment), byMember.get(j.memberId)));
    assert.equal(classic(await p.b.current("g")).state, "Stable");
    // The initial delay (150 ms) dominates; polling adds at most a few rounds.
    assert.ok(performance.now() - started < 3000, `took ${performance.now() - started} ms`);
  });

  test("a member joining a stable group makes the others rejoin, through either broker", async (p) => {
    const { joined } = await stableGroup(p, "g", 2);
    const newcomer = joinMember(p.b, "g");
    // The old members learn of the rebalance from their heartbeats.
    const deadline = Date.now() + 5000;
    for (;;) {
      const code = await p.a.heartbeat("g", {
        memberId: joined[0].memberId,
        groupInstanceId: null,
        generationId: joined[0].generationId,
      });
      if (code === ErrorCode.REBALANCE_IN_PROGRESS) break;
      assert.equal(code, ErrorCode.NONE);
      assert.ok(Date.now() < deadline, "no REBALANCE_IN_PROGRESS within 5 s");
      await new Promise((r) => setTimeout(r, 10));
    }
    const rejoined = await Promise.all([
      p.b.join("g", input({ memberId: joined[0].memberId })),
      p.a.join("g", input({ memberId: joined[1].memberId })),
      newcomer,
    ]);
    assert.deepEqual(rejoined.map((j) => j.errorCode), [0, 0, 0]);
    assert.deepEqual(new Set(rejoined.map((j) => j.generationId)), new Set([2]));
    const synced = await syncAll([p.b, p.a], "g", rejoined);
    assert.ok(synced.every((s) => s.errorCode === ErrorCode.NONE));
  });

  test("a transition that loses its compare-and-set is applied again to the newer record", async (p) => {
    const outside = { generationId: -1, memberId: "", groupInstanceId: null, apiVersion: 9 };
    assert.equal(await p.a.commitOffsets("g", outside, []), ErrorCode.NONE);
    const before = (await p.storeA.getGroup("g"))!;
    // A stale version loses.
    assert.notEqual(await p.storeB.putGroup("g", before.version, before.state), null);
    assert.equal(await p.storeA.putGroup("g", before.version, before.state), null);
    // Many concurrent transitions through both brokers: every one lands exactly once.
    const many = await Promise.all(
      Array.from({ length: 6 }, (_, i) => joinMember(i % 2 ? p.a : p.b, "g")),
    );
    const members = new Set(many.map((j) => j.memberId));
    assert.equal(members.size, 6);
    const g = classic(await p.a.current("g"));
    for (const id of members) assert.ok(g.members.some((m) => m.memberId === id), id);
  });

  test("a member that stops heartbeating is expired and the group moves on without it", async (p) => {
    const [a, b] = await Promise.all([
      joinMember(p.a, "g", { sessionTimeoutMs: 300 }),
      joinMember(p.b, "g", { sessionTimeoutMs: 300 }),
    ]);
    // Both joined one generation in the initial delay.
    assert.equal(a.generationId, b.generationId);
    await syncAll([p.a, p.b], "g", [a, b]);
    // Only b heartbeats; a's session times out.
    let code: number = ErrorCode.NONE;
    const deadline = Date.now() + 5000;
    while (code === ErrorCode.NONE) {
      assert.ok(Date.now() < deadline, "a was not expired within 5 s");
      await new Promise((r) => setTimeout(r, 50));
      await p.a.sweep();
      code = await p.b.heartbeat("g", {
        memberId: b.memberId,
        groupInstanceId: null,
        generationId: b.generationId,
      });
    }
    assert.equal(code, ErrorCode.REBALANCE_IN_PROGRESS);
    const again = await p.b.join("g", input({ memberId: b.memberId, sessionTimeoutMs: 300 }));
    assert.equal(again.errorCode, ErrorCode.NONE);
    assert.equal(again.generationId, b.generationId + 1);
    assert.equal(again.leader, b.memberId);
    assert.deepEqual(again.members.map((m) => m.memberId), [b.memberId]);
    const gone = await p.a.heartbeat("g", {
      memberId: a.memberId,
      groupInstanceId: null,
      generationId: a.generationId,
    });
    assert.equal(gone, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test("a static member rejoining under a new id replaces the old one without a rebalance", async (p) => {
    // instance-1 joins first (the leader), instance-2 within the initial delay.
    const firstJoin = joinMember(p.a, "g", { groupInstanceId: "instance-1" });
    await new Promise((r) => setTimeout(r, 30));
    const both = await Promise.all([
      firstJoin,
      joinMember(p.b, "g", { groupInstanceId: "instance-2" }),
    ]);
    const [first] = both;
    assert.equal(first.errorCode, ErrorCode.NONE, "static members get no MEMBER_ID_REQUIRED");
    assert.equal(first.leader, first.memberId);
    await syncAll([p.a, p.b], "g", both);
    const gen = classic(await p.a.current("g")).generationId;

    // The client restarts: same instance id, no member id.
    const restarted = await p.b.join("g", input({ groupInstanceId: "instance-1" }));
    assert.equal(restarted.errorCode, ErrorCode.NONE);
    assert.notEqual(restarted.memberId, first.memberId);
    assert.equal(restarted.generationId, gen, "no rebalance");
    assert.equal(restarted.skipAssignment, true, "v9: the static leader keeps its assignment");
    const g = classic(await p.a.current("g"));
    assert.equal(g.state, "Stable");
    assert.equal(g.leaderId, restarted.memberId);
    const fenced = await p.a.heartbeat("g", {
      memberId: first.memberId,
      groupInstanceId: "instance-1",
      generationId: gen,
    });
    assert.equal(fenced, ErrorCode.FENCED_INSTANCE_ID);
    const sync = await p.a.sync("g", {
      memberId: restarted.memberId,
      groupInstanceId: "instance-1",
      generationId: gen,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [],
    });
    assert.equal(sync.errorCode, ErrorCode.NONE);
    assert.ok(atob(sync.assignment).startsWith("p"), "the old member's assignment carries over");
  });

  test("MEMBER_ID_REQUIRED from v4, direct joins before, unknown members refused", async (p) => {
    const v4 = await p.a.join("g", input({ apiVersion: 4 }));
    assert.equal(v4.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.ok(v4.memberId.length > 0);
    const v3 = await p.b.join("g", input({ apiVersion: 3 }));
    assert.equal(v3.errorCode, ErrorCode.NONE, "v3 joins at once");
    const stranger = await p.a.join("g", input({ memberId: "made-up" }));
    assert.equal(stranger.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const noGroup = await p.a.join("nothing-here", input({ memberId: "made-up" }));
    assert.equal(noGroup.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const badSession = await p.a.join("g", input({ sessionTimeoutMs: 1 }));
    assert.equal(badSession.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  });

  test("stale generations and unknown members get their error codes", async (p) => {
    const { joined } = await stableGroup(p, "g", 2);
    const [m] = joined;
    const hb = (generationId: number, memberId = m.memberId) =>
      p.b.heartbeat("g", { memberId, groupInstanceId: null, generationId });
    assert.equal(await hb(m.generationId), ErrorCode.NONE);
    assert.equal(await hb(m.generationId - 1), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await hb(m.generationId, "nobody"), ErrorCode.UNKNOWN_MEMBER_ID);
    const commit = (generationId: number, memberId: string, apiVersion = 9) =>
      p.a.commitOffsets("g", { generationId, memberId, groupInstanceId: null, apiVersion }, [{
        topic: "t",
        partition: 0,
        offset: 42,
        leaderEpoch: -1,
        metadata: "m",
        commitTimestamp: Date.now(),
      }]);
    assert.equal(await commit(m.generationId + 1, m.memberId), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await commit(m.generationId, "nobody"), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(await commit(-1, ""), ErrorCode.UNKNOWN_MEMBER_ID, "admin commit to a live group");
    assert.equal(await commit(m.generationId, m.memberId), ErrorCode.NONE);
    const [o] = await p.b.fetchOffsets("g", [{ topic: "t", partition: 0 }]);
    assert.equal(o.offset, 42);
    assert.equal(o.metadata, "m");
    // Groups that do not exist: v9 says so, older versions say ILLEGAL_GENERATION.
    assert.equal(
      await p.a.commitOffsets("none", {
        generationId: 3,
        memberId: "x",
        groupInstanceId: null,
        apiVersion: 9,
      }, []),
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
    assert.equal(
      await p.a.commitOffsets("none", {
        generationId: 3,
        memberId: "x",
        groupInstanceId: null,
        apiVersion: 8,
      }, []),
      ErrorCode.ILLEGAL_GENERATION,
    );
  });

  test("leaving members rebalance the rest; the last one leaves an Empty group to delete", async (p) => {
    const { joined } = await stableGroup(p, "g", 2);
    assert.equal(await p.a.delete("g"), ErrorCode.NON_EMPTY_GROUP);
    const [x, y] = joined;
    assert.deepEqual(await p.a.leave("g", [{ memberId: x.memberId, groupInstanceId: null }]), [0]);
    const again = await p.b.join("g", input({ memberId: y.memberId }));
    assert.equal(again.generationId, y.generationId + 1);
    assert.deepEqual(again.members.map((m) => m.memberId), [y.memberId]);
    assert.deepEqual(
      await p.b.leave("g", [
        { memberId: y.memberId, groupInstanceId: null },
        { memberId: "nobody", groupInstanceId: null },
      ]),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
    );
    const g = classic(await p.a.current("g"));
    assert.equal(g.state, "Empty");
    assert.equal(
      await p.a.commitOffsets("g", {
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        apiVersion: 8,
      }, [{
        topic: "t",
        partition: 1,
        offset: 7,
        leaderEpoch: -1,
        metadata: null,
        commitTimestamp: 0,
      }]),
      0,
    );
    assert.equal(await p.b.delete("g"), ErrorCode.NONE);
    assert.equal(await p.a.current("g"), null);
    assert.deepEqual(await p.a.fetchOffsets("g", null), []);
    assert.equal(await p.a.delete("g"), ErrorCode.GROUP_ID_NOT_FOUND);
  });

  test("a broker stopping mid-rebalance costs the rebalance, not the group", async (p) => {
    const { joined } = await stableGroup(p, "g", 2);
    await p.a.commitOffsets("g", {
      generationId: joined[0].generationId,
      memberId: joined[0].memberId,
      groupInstanceId: null,
      apiVersion: 9,
    }, [{
      topic: "t",
      partition: 0,
      offset: 10,
      leaderEpoch: -1,
      metadata: null,
      commitTimestamp: 0,
    }]);
    // Member 0 rejoins through A (starting a rebalance) and waits at the barrier; A dies.
    const parked = p.a.join("g", input({ memberId: joined[0].memberId }));
    await new Promise((r) => setTimeout(r, 100));
    p.killA();
    assert.equal((await parked).errorCode, ErrorCode.NOT_COORDINATOR);
    // Both members carry on through B.
    const rejoined = await Promise.all(
      joined.map((j) => p.b.join("g", input({ memberId: j.memberId }))),
    );
    assert.deepEqual(rejoined.map((r) => r.errorCode), [0, 0]);
    const synced = await syncAll([p.b], "g", rejoined);
    assert.ok(synced.every((s) => s.errorCode === ErrorCode.NONE));
    const [o] = await p.b.fetchOffsets("g", [{ topic: "t", partition: 0 }]);
    assert.equal(o.offset, 10);
  });

  test("KIP-848 and classic groups: members of one kind keep the other out; empty ones convert", async (p) => {
    const topics = () => Promise.resolve(new Map([["t", { id: "T", partitions: 2 }]]));
    const beat = (c: GroupCoordinator, memberId: string, memberEpoch: number) =>
      c.consumerHeartbeat("g", consumerInput(memberId, memberEpoch, null), topics);
    // An offsets-only (Empty classic) group becomes a consumer group; its offsets stay.
    const outside = { generationId: -1, memberId: "", groupInstanceId: null, apiVersion: 9 };
    const offset = {
      topic: "t",
      partition: 0,
      offset: 5,
      leaderEpoch: -1,
      metadata: null,
      commitTimestamp: 0,
    };
    assert.equal(await p.a.commitOffsets("g", outside, [offset]), ErrorCode.NONE);
    const joined = await beat(p.a, "m1", 0);
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.memberEpoch, 1);
    assert.deepEqual(joined.assignment, { T: [0, 1] });
    assert.equal((await p.b.fetchOffsets("g", null))[0].offset, 5);
    // Through the other broker: a heartbeat, a commit with the member epoch, a stale one.
    assert.equal((await beat(p.b, "m1", 1)).errorCode, ErrorCode.NONE);
    const commit = (generationId: number) =>
      p.b.commitOffsets(
        "g",
        { generationId, memberId: "m1", groupInstanceId: null, apiVersion: 9 },
        [
          { ...offset, offset: 7 },
        ],
      );
    assert.equal(await commit(1), ErrorCode.NONE);
    assert.equal(await commit(0), ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal(await p.a.validateFetch("g", "m1", 0), ErrorCode.STALE_MEMBER_EPOCH);
    // Classic members cannot join while it has members.
    const classicJoin = await p.a.join("g", input());
    assert.equal(classicJoin.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal(await p.a.delete("g"), ErrorCode.NON_EMPTY_GROUP);
    // Once the last member leaves, a classic member may take the id over.
    assert.equal((await beat(p.b, "m1", -1)).memberEpoch, -1);
    const first = await joinMember(p.a, "g");
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.equal(
      (await p.a.fetchOffsets("g", null))[0].offset,
      7,
      "offsets kept across the change",
    );
    // And now KIP-848 members are the ones kept out.
    const refused = await beat(p.b, "m2", 0);
    assert.equal(refused.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.match(refused.errorMessage ?? "", /"g" is a classic group/);
  });

  test("classic heartbeat rows go with their members: leaving, unknown and expired KIP-394 ids", async (p) => {
    const rows = async () => [...(await p.storeA.memberHeartbeats("g")).keys()].sort();
    const { joined } = await stableGroup(p, "g", 2);
    const [x, y] = joined;
    const beat = (c: GroupCoordinator, memberId: string, generationId = x.generationId) =>
      c.heartbeat("g", { memberId, groupInstanceId: null, generationId });
    assert.equal(await beat(p.a, x.memberId), ErrorCode.NONE);
    assert.equal(await beat(p.b, y.memberId), ErrorCode.NONE);
    assert.deepEqual(await rows(), [x.memberId, y.memberId].sort());
    // An id that is no member writes a row with its heartbeat, and loses it at once.
    assert.equal(await beat(p.b, "nobody"), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.deepEqual(await rows(), [x.memberId, y.memberId].sort());
    // A KIP-394 id handed out with MEMBER_ID_REQUIRED keeps its row until it expires unused.
    const pending = await p.a.join("g", input({ sessionTimeoutMs: 100 }));
    assert.equal(pending.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.equal(await beat(p.a, pending.memberId), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.ok((await rows()).includes(pending.memberId));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await beat(p.b, y.memberId), ErrorCode.NONE);
    assert.deepEqual(await rows(), [x.memberId, y.memberId].sort());
    // A row a broker left behind (it stopped before forgetting it) goes in the sweep.
    await p.storeB.touchMember("g", "ghost", Date.now() - 1000);
    await p.b.sweep();
    assert.deepEqual(await rows(), [x.memberId, y.memberId].sort());
    // Leaving members.
    assert.deepEqual(await p.a.leave("g", [{ memberId: x.memberId, groupInstanceId: null }]), [0]);
    assert.deepEqual(await rows(), [y.memberId]);
    assert.deepEqual(await p.b.leave("g", [{ memberId: y.memberId, groupInstanceId: null }]), [0]);
    assert.deepEqual(await rows(), []);
  });

  test("KIP-848 heartbeat rows go with their members: leaving and expired members", async (p) => {
    const rows = async () => [...(await p.storeB.memberHeartbeats("g")).keys()].sort();
    const topics = () => Promise.resolve(new Map([["t", { id: "T", partitions: 2 }]]));
    const beat = (c: GroupCoordinator, memberId: string, memberEpoch: number) =>
      c.consumerHeartbeat("g", consumerInput(memberId, memberEpoch, null), topics);
    const m1 = await beat(p.a, "m1", 0);
    const m2 = await beat(p.b, "m2", 0);
    assert.equal((await beat(p.a, "m1", m1.memberEpoch)).errorCode, ErrorCode.NONE);
    assert.equal((await beat(p.b, "m2", m2.memberEpoch)).errorCode, ErrorCode.NONE);
    assert.deepEqual(await rows(), ["m1", "m2"]);
    // m2 goes silent past the session timeout (300 ms); m1 keeps heartbeating.
    const until = Date.now() + 400;
    let epoch = m1.memberEpoch;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await beat(p.a, "m1", epoch);
      assert.equal(r.errorCode, ErrorCode.NONE);
      epoch = r.memberEpoch;
    }
    assert.deepEqual(await rows(), ["m1"]);
    // Its late heartbeat is refused and leaves no row behind.
    assert.equal((await beat(p.b, "m2", m2.memberEpoch)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.deepEqual(await rows(), ["m1"]);
    assert.equal((await beat(p.b, "m1", -1)).memberEpoch, -1);
    assert.deepEqual(await rows(), []);
  }, { consumer: { sessionTimeoutMs: 300, heartbeatIntervalMs: 50 } });

  test("KIP-848: twenty members heartbeating at once through two brokers settle balanced", async (p) => {
    // 20 partitions. The uniform assignor must balance (counts differ by at most one): capping
    // what members keep at ceil(20/19) = 2 once left 19 members at ten with two, nine with none.
    const topics = () => Promise.resolve(new Map([["t", { id: "T", partitions: 20 }]]));
    /** What each client owns: it applies an assignment as soon as it receives it. */
    const owned = new Map<string, number[]>();
    const problems: string[] = [];
    let stopped = false;
    const member = async (c: GroupCoordinator, memberId: string) => {
      let epoch = 0;
      let ack = false;
      while (!stopped) {
        const r = await c.consumerHeartbeat(
          "g",
          consumerInput(memberId, epoch, ack ? { T: owned.get(memberId)! } : null),
          topics,
        );
        if (r.errorCode !== ErrorCode.NONE) {
          problems.push(`${memberId}: error ${r.errorCode} ${r.errorMessage}`);
          return;
        }
        epoch = r.memberEpoch;
        ack = r.assignment !== null;
        if (r.assignment) {
          const mine = r.assignment.T ?? [];
          // KIP-848: a partition goes to its new owner only once the old one has revoked it.
          for (const [other, theirs] of owned) {
            const both = mine.filter((x) => other !== memberId && theirs.includes(x));
            if (both.length > 0) problems.push(`${memberId} given ${both} still owned by ${other}`);
          }
          owned.set(memberId, mine);
          // Acknowledged at once, as the Java consumer does once it has reconciled.
          continue;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const settled = async (n: number) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        assert.deepEqual(problems, []);
        const sizes = [...owned.values()].map((ps) => ps.length);
        const g = await p.b.current("g");
        if (
          sizes.length === n && sizes.reduce((a, b) => a + b, 0) === 20 &&
          Math.max(...sizes) - Math.min(...sizes) <= 1 &&
          g?.type === "consumer" && consumerGroupState(g) === "Stable"
        ) return;
        assert.ok(Date.now() < deadline, `not settled: ${sizes.sort().join(",")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const loops = Array.from({ length: 19 }, (_, i) => member(i % 2 ? p.a : p.b, `m${i}`));
    try {
      await settled(19);
      loops.push(member(p.a, "m19"));
      await settled(20);
    } finally {
      stopped = true;
      await Promise.all(loops);
    }
    assert.deepEqual(problems, []);
  });
}
