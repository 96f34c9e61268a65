import assert from "node:assert/strict";
import { ErrorCode } from "../protocol/errors.ts";
import {
  type ConsumerGroup,
  type ConsumerGroupConfig,
  consumerGroupState,
  consumerHeartbeat,
  type ConsumerHeartbeatInput,
  tickConsumer,
  type TopicMeta,
  type TopicPartitions,
  validateConsumerCommit,
} from "./consumer_group_state.ts";

const CFG: ConsumerGroupConfig = { sessionTimeoutMs: 1000, heartbeatIntervalMs: 100 };
const TOPICS = new Map<string, TopicMeta>([["t", { id: "T", partitions: 6 }]]);

function hb(over: Partial<ConsumerHeartbeatInput>): ConsumerHeartbeatInput {
  return {
    memberId: "",
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 5000,
    subscribedTopicNames: ["t"],
    subscribedTopicRegex: null,
    serverAssignor: null,
    owned: {},
    clientId: "c",
    clientHost: "/127.0.0.1",
    apiVersion: 1,
    newMemberId: "unused",
    ...over,
  };
}

/** A member that acts as a client would: owns what it was last given. */
class Member {
  epoch = 0;
  owned: TopicPartitions = {};
  constructor(readonly id: string, readonly assignor: string | null = null) {}

  beat(g: ConsumerGroup | null, now = 0): { group: ConsumerGroup; code: number } {
    const r = consumerHeartbeat(
      g,
      hb({
        memberId: this.id,
        memberEpoch: this.epoch,
        owned: this.owned,
        serverAssignor: this.assignor,
      }),
      TOPICS,
      now,
      CFG,
    );
    if (r.result.errorCode === ErrorCode.NONE) {
      this.epoch = r.result.memberEpoch;
      if (r.result.assignment) this.owned = r.result.assignment;
    }
    return { group: r.group!, code: r.result.errorCode };
  }

  get partitions(): number[] {
    return this.owned.T ?? [];
  }
}

Deno.test("consumer group: a lone member gets every partition at epoch 1", () => {
  const a = new Member("a");
  const { group } = a.beat(null);
  assert.equal(a.epoch, 1);
  assert.deepEqual(a.partitions, [0, 1, 2, 3, 4, 5]);
  assert.equal(consumerGroupState(group), "Stable");
});

Deno.test("consumer group: partitions move only after their owner revokes them", () => {
  const a = new Member("a");
  const b = new Member("b");
  let g = a.beat(null).group;
  g = b.beat(g).group;
  // b's share is still a's: b waits at the new epoch with nothing.
  assert.equal(b.epoch, 2);
  assert.deepEqual(b.partitions, []);
  assert.equal(consumerGroupState(g), "Reconciling");
  // a is told to keep half; it stays at its epoch until it reports the rest gone.
  g = a.beat(g).group;
  assert.equal(a.epoch, 1);
  assert.equal(a.partitions.length, 3);
  g = b.beat(g).group;
  assert.deepEqual(b.partitions, [], "not before a acknowledged the revocation");
  g = a.beat(g).group;
  assert.equal(a.epoch, 2);
  g = b.beat(g).group;
  assert.equal(b.partitions.length, 3);
  assert.deepEqual([...a.partitions, ...b.partitions].sort(), [0, 1, 2, 3, 4, 5]);
  assert.equal(consumerGroupState(g), "Stable");
});

Deno.test("consumer group: stale, future and unknown epochs are fenced", () => {
  const a = new Member("a");
  let g = a.beat(null).group;
  const ahead = consumerHeartbeat(
    g,
    hb({ memberId: "a", memberEpoch: 5, owned: null }),
    TOPICS,
    0,
    CFG,
  );
  assert.equal(ahead.result.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  const unknown = consumerHeartbeat(g, hb({ memberId: "x", memberEpoch: 3 }), TOPICS, 0, CFG);
  assert.equal(unknown.result.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  // Epoch 2 for a (b joins, a revokes), then a comes back with its previous epoch and a
  // subset of its partitions: accepted (the answer bumping its epoch may have been lost).
  const b = new Member("b");
  g = b.beat(g).group;
  g = a.beat(g).group;
  g = a.beat(g).group;
  assert.equal(a.epoch, 2);
  const lost = consumerHeartbeat(
    g,
    hb({ memberId: "a", memberEpoch: 1, owned: { T: a.partitions } }),
    TOPICS,
    0,
    CFG,
  );
  assert.equal(lost.result.errorCode, ErrorCode.NONE);
  const behind = consumerHeartbeat(
    g,
    hb({ memberId: "a", memberEpoch: 1, owned: { T: [0, 1, 2, 3, 4, 5] } }),
    TOPICS,
    0,
    CFG,
  );
  assert.equal(behind.result.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  assert.equal(
    validateConsumerCommit(g, { generationId: 1, memberId: "a", apiVersion: 9 }),
    ErrorCode.STALE_MEMBER_EPOCH,
  );
  assert.equal(
    validateConsumerCommit(g, { generationId: 2, memberId: "a", apiVersion: 9 }),
    ErrorCode.NONE,
  );
});

Deno.test("consumer group: leaving and expiring members hand their partitions on", () => {
  const a = new Member("a");
  const b = new Member("b");
  let g = a.beat(null).group;
  g = b.beat(g).group;
  g = a.beat(g).group;
  g = a.beat(g).group;
  g = b.beat(g).group;
  // a leaves: b is given everything at the next epoch.
  const left = consumerHeartbeat(
    g,
    hb({ memberId: "a", memberEpoch: -1, owned: null }),
    TOPICS,
    0,
    CFG,
  );
  assert.equal(left.result.memberEpoch, -1);
  g = b.beat(left.group!).group;
  assert.deepEqual(b.partitions, [0, 1, 2, 3, 4, 5]);
  // c joins, then b goes silent: after the session timeout c has it all.
  const c = new Member("c");
  g = c.beat(g, 500).group;
  const expired = tickConsumer(g, 1500, new Map([["c", 1400]]), CFG);
  assert.deepEqual(expired.members.map((m) => m.memberId), ["c"]);
  g = c.beat(expired, 1500).group;
  assert.deepEqual(c.partitions, [0, 1, 2, 3, 4, 5]);
});

Deno.test("consumer group: range and uniform assignors", () => {
  const members = ["m1", "m2", "m3", "m4"].map((id) => new Member(id, "range"));
  let g: ConsumerGroup | null = null;
  for (let round = 0; round < 4; round++) for (const m of members) g = m.beat(g).group;
  assert.deepEqual(members.map((m) => m.partitions), [[0, 1], [2, 3], [4], [5]]);
  // Uniform keeps what members had when one more joins.
  const u = ["u1", "u2"].map((id) => new Member(id));
  let h: ConsumerGroup | null = null;
  for (let round = 0; round < 3; round++) for (const m of u) h = m.beat(h).group;
  const before = u.map((m) => m.partitions);
  const u3 = new Member("u3");
  u.push(u3);
  for (let round = 0; round < 4; round++) for (const m of u) h = m.beat(h).group;
  assert.deepEqual(u.map((m) => m.partitions.length), [2, 2, 2]);
  for (let i = 0; i < 2; i++) {
    assert.ok(u[i].partitions.every((p) => before[i].includes(p)), "sticky");
  }
  // A fourth: balanced (2, 2, 1, 1: keeping up to ceil(6/4) = 2 each would leave it none), and
  // only the one partition it gets moves.
  const three = u.map((m) => m.partitions);
  u.push(new Member("u4"));
  for (let round = 0; round < 4; round++) for (const m of u) h = m.beat(h).group;
  assert.deepEqual(u.map((m) => m.partitions.length).sort(), [1, 1, 2, 2]);
  assert.deepEqual(u.flatMap((m) => m.partitions).sort(), [0, 1, 2, 3, 4, 5]);
  const kept = three.reduce(
    (n, ps, i) => n + ps.filter((p) => u[i].partitions.includes(p)).length,
    0,
  );
  assert.equal(kept, 5);
  const bad = consumerHeartbeat(
    null,
    hb({ memberId: "z", serverAssignor: "sticky" }),
    TOPICS,
    0,
    CFG,
  );
  assert.equal(bad.result.errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
});
